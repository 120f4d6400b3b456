"""Hostile answers for the Action API stand-in: valid but empty JSON, redirects elsewhere, endless bodies.

What a captive portal, a misrouted proxy or a broken replica sends instead of MediaWiki: ``{}``, a bare
``{"batchcomplete": true}``, a 302 to another host (here :class:`EmptyAnswerPeer`, a second loopback
server that answers ``{}`` to everything and records who asked), and a body far larger than any
answer, streamed in chunks so the stand-in itself never holds it.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from watcher.demo.standins import LoopbackSite

__all__ = [
    "BARE_BODY",
    "EMPTY_BODY",
    "OVERSIZE_DEFAULT",
    "EmptyAnswerPeer",
    "empty_response",
    "redirect_response",
    "stream_body",
]

EMPTY_BODY = "{}"
BARE_BODY = '{"batchcomplete":true}'
STREAM_CHUNK = 64 * 1024
OVERSIZE_DEFAULT = 300 * 1024 * 1024


def empty_response(body: str) -> web.Response:
    """HTTP 200 with valid JSON that answers nothing that was asked."""
    return web.Response(text=body, content_type="application/json")


def redirect_response(target: str, status: int = 302) -> web.Response:
    """A redirect to ``target``, as a load balancer or a moved site sends it."""
    return web.Response(status=status, headers={"Location": target}, text=f"Moved to {target}")


async def stream_body(request: web.Request, size: int, sent: Callable[[int], None]) -> web.StreamResponse:
    """``size`` bytes of one JSON string, chunked, without a Content-Length; ``sent`` counts each chunk
    written. Stops quietly when the client hangs up (the point of the test is that it does)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    head, tail = b'{"batchcomplete":true,"padding":"', b'"}'
    chunk = b"x" * STREAM_CHUNK
    try:
        await response.write(head)
        written = len(head)
        while written < size - len(tail):
            piece = chunk[: size - len(tail) - written]
            await response.write(piece)
            written += len(piece)
            sent(len(piece))
        await response.write(tail)
        await response.write_eof()
    except (ConnectionError, RuntimeError):  # the client closed the connection (RuntimeError: older aiohttp)
        pass
    return response


class EmptyAnswerPeer(LoopbackSite):
    """A second server (another loopback address or port) that answers ``{}`` to any path and method.

    Redirect targets point here; ``requests`` lists the paths asked for, so a test can tell that a
    client followed no redirect.
    """

    def __init__(self, host: str = "127.0.0.2", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.path = "/w/api.php"
        self.requests: list[str] = []

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        return empty_response(EMPTY_BODY)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)
