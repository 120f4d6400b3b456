"""A loopback stand-in for MediaWiki's ``api.php`` (Commons, and Wikidata's ``wbgetentities``).

It answers the queries the watcher makes with ``formatversion=2`` shapes as the real API gives
them, from the mutable wiki in :mod:`watcher.demo.standins.action_api_wiki`, and it can misbehave on
request (maxlag, 503/429 with Retry-After, API errors, malformed bodies, dropped connections) or answer
like something that is not MediaWiki (``{}``, a bare ``batchcomplete``, a redirect to another server,
an endless body: :mod:`watcher.demo.standins.action_api_hostile`).
It records every request and the highest number of requests in flight at once, because the
client's etiquette (serial requests, User-Agent, maxlag) is what the tests check.

Use it in-process (``async with ActionApiPeer() as api: ... api.url``) or as a process:
``python -m watcher.demo.standins.action_api --data wiki.json --port 8751``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from watcher.demo.standins import LoopbackSite, until_signalled
from watcher.demo.standins.action_api_context import Context, UsageError
from watcher.demo.standins.action_api_hostile import (
    BARE_BODY,
    EMPTY_BODY,
    OVERSIZE_DEFAULT,
    empty_response,
    redirect_response,
    stream_body,
)
from watcher.demo.standins.action_api_images import add_picture_routes
from watcher.demo.standins.action_api_memberships import run_query_with_memberships
from watcher.demo.standins.action_api_queries import run_wbgetentities
from watcher.demo.standins.action_api_wiki import Wiki

__all__ = ["ActionApiPeer", "Fault", "RecordedRequest", "UsageError", "main"]

SERVED_BY = "mw-api-standin.loopback"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    params: dict[str, str]
    user_agent: str | None
    accept_encoding: str | None
    time: float  # time.monotonic() on arrival


@dataclass
class Fault:
    """One queued misbehaviour, used ``times`` more times before the next one in the queue applies."""

    kind: str  # maxlag, http, error, malformed, drop; hostile: empty, bare, redirect, oversize
    times: int
    status: int = 200
    retry_after: str | None = None
    lag: float = 0.0
    code: str = ""
    info: str = ""
    target: str = ""  # redirect: the Location
    size: int = 0  # oversize: bytes streamed


class ActionApiPeer(Wiki, LoopbackSite):
    """The wiki plus an aiohttp server at ``http://127.0.0.1:<port>/w/api.php``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/w/api.php",
        max_limit: int = 500,
        max_values: int = 50,
        latency: float = 0.0,
        start: datetime | None = None,
    ) -> None:
        super().__init__(start=start)
        self.host = host
        self.port = port
        self.path = path
        self.max_limit = max_limit  # what "max" means for cmlimit, lelimit, eilimit, rclimit
        self.max_values = max_values  # titles, pageids, revids, ids per request
        self.latency = latency  # seconds each answer takes, so overlapping requests would show
        self.url = ""
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults: list[Fault] = []
        self.streamed = 0  # bytes of oversize bodies actually written to a client
        # Called with each request as it arrives, before it is answered (tests interrupt clients here);
        # where it returns an awaitable, the answer waits for it (to let something happen meanwhile).
        self.on_request: Callable[[RecordedRequest], Awaitable[None] | None] | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("GET", self.path, self._handle)
        app.router.add_route("POST", self.path, self._handle)
        add_picture_routes(app, self)  # the stand-in is its own upload host

    async def start(self) -> str:
        url = await super().start()
        self.upload_origin = url.removesuffix(self.path)
        return url

    # -- faults -----------------------------------------------------------------------------------

    def fail_maxlag(self, times: int = 1, *, lag: float = 7.0, retry_after: str | None = None) -> None:
        """Answer like a lagged replica, to requests whose ``maxlag`` is below ``lag`` (as MediaWiki does).

        ``retry_after`` defaults to MediaWiki's own choice, ``max(5, lag)``.
        """
        retry = retry_after if retry_after is not None else str(max(5, int(lag)))
        self.faults.append(Fault("maxlag", times, retry_after=retry, lag=lag))

    def fail_http(
        self, status: int = 503, times: int = 1, *, retry_after: str | None = None, lag: float = 0.0
    ) -> None:
        """A plain HTTP error page; with ``lag``, the 503 + ``X-Database-Lag`` of old MediaWiki's maxlag."""
        self.faults.append(Fault("http", times, status=status, retry_after=retry_after, lag=lag))

    def fail_error(
        self, code: str, info: str = "", times: int = 1, *, retry_after: str | None = None
    ) -> None:
        """An API error body (HTTP 200), e.g. ``ratelimited`` or ``readonly``."""
        self.faults.append(Fault("error", times, retry_after=retry_after, code=code, info=info or code))

    def fail_malformed(self, times: int = 1) -> None:
        self.faults.append(Fault("malformed", times))

    def fail_drop(self, times: int = 1) -> None:
        """Close the connection without an answer (the client sees a network error)."""
        self.faults.append(Fault("drop", times))

    def fail_empty(self, times: int = 1) -> None:
        """Answer ``{}``: valid JSON without ``query``, as a misrouted proxy might."""
        self.faults.append(Fault("empty", times))

    def fail_bare(self, times: int = 1) -> None:
        """Answer a bare ``{"batchcomplete": true}``: no ``query``, no pages, no ``badrevids``."""
        self.faults.append(Fault("bare", times))

    def fail_redirect(self, target: str, times: int = 1, *, status: int = 302) -> None:
        """Redirect to ``target`` (an :class:`~.action_api_hostile.EmptyAnswerPeer`'s url, say)."""
        self.faults.append(Fault("redirect", times, status=status, target=target))

    def fail_oversize(self, times: int = 1, *, size: int = OVERSIZE_DEFAULT) -> None:
        """Stream a ``size``-byte JSON body in chunks (never held here); ``streamed`` counts what went out."""
        self.faults.append(Fault("oversize", times, size=size))

    def _count_streamed(self, count: int) -> None:
        self.streamed += count

    def _take_fault(self, params: dict[str, str]) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault.kind == "maxlag":
            try:
                limit = float(params["maxlag"])
            except (KeyError, ValueError):
                return None
            if fault.lag <= limit:
                return None
        fault.times -= 1
        if fault.times <= 0:
            self.faults.pop(0)
        return fault

    def _fault_response(self, request: web.Request, fault: Fault) -> web.Response:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if fault.kind == "http":
            reason = "Too Many Requests" if fault.status == 429 else "Service Unavailable"
            body = f"<!DOCTYPE html><html><body><h1>{fault.status} {reason}</h1></body></html>"
            if fault.lag:
                headers["X-Database-Lag"] = str(fault.lag)
            return web.Response(status=fault.status, text=body, content_type="text/html", headers=headers)
        if fault.kind in ("empty", "bare"):
            return empty_response(EMPTY_BODY if fault.kind == "empty" else BARE_BODY)
        if fault.kind == "redirect":
            return redirect_response(fault.target, fault.status)
        if fault.kind == "malformed":
            return web.Response(text='{"batchcomplete":true,"query":{"pa', content_type="application/json")
        if fault.kind == "maxlag":
            host = "10.64.16.7"
            lag = int(fault.lag) if fault.lag == int(fault.lag) else fault.lag
            error = UsageError(
                "maxlag", f"Waiting for {host}: {lag} seconds lagged.", host=host, lag=lag, type="db"
            )
            headers["X-Database-Lag"] = str(lag)
        else:
            error = UsageError(fault.code, fault.info)
        return self._error_response(error, headers)

    def _error_response(self, error: UsageError, headers: dict[str, str] | None = None) -> web.Response:
        body = {"error": error.body(self.url), "servedby": SERVED_BY}
        headers = {**(headers or {}), "MediaWiki-API-Error": error.code}
        return web.Response(text=json.dumps(body), content_type="application/json", headers=headers)

    # -- serving ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            params = {key: value for key, value in request.query.items()}
            if request.method == "POST":
                form = await request.post()
                params.update({key: value for key, value in form.items() if isinstance(value, str)})
            recorded = RecordedRequest(
                request.method,
                params,
                request.headers.get("User-Agent"),
                request.headers.get("Accept-Encoding"),
                time.monotonic(),
            )
            self.requests.append(recorded)
            if self.on_request is not None:
                pending = self.on_request(recorded)
                if inspect.isawaitable(pending):
                    await pending
            if self.latency:
                await asyncio.sleep(self.latency)
            fault = self._take_fault(params)
            if fault is not None and fault.kind == "oversize":
                return await stream_body(request, fault.size, self._count_streamed)
            if fault is not None:
                return self._fault_response(request, fault)
            try:
                body = self.answer(params)
            except UsageError as error:
                return self._error_response(error)
            except Exception as exc:  # a stand-in bug: answer as MediaWiki answers its own
                log.exception("stand-in failed on %s", params)
                name = type(exc).__name__
                return self._error_response(
                    UsageError(f"internal_api_error_{name}", f"[stand-in] {name}: {exc}")
                )
            response = web.Response(
                text=json.dumps(body, ensure_ascii=False), content_type="application/json"
            )
            response.enable_compression()  # gzip where the client asked for it, as Wikimedia does
            return response
        finally:
            self.in_flight -= 1

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        """The JSON body for one request's parameters (no faults); raises :class:`UsageError`."""
        if params.get("format") != "json":
            raise UsageError(
                "badvalue", f'Unrecognized value for parameter "format": {params.get("format", "")}.'
            )
        if params.get("formatversion") not in ("2", "latest"):
            raise UsageError(
                "badvalue", "The stand-in answers formatversion=2 only; the client must ask for it."
            )
        ctx = Context(self, params, self.max_limit, self.max_values)
        action = params.get("action", "help")
        handlers: dict[str, Callable[[Context], dict[str, Any]]] = {
            "query": run_query_with_memberships,
            "wbgetentities": run_wbgetentities,
        }
        if action not in handlers:
            raise UsageError("badvalue", f'Unrecognized value for parameter "action": {action}.')
        return ctx.finish(handlers[action](ctx))

    # -- inspection helpers for tests -------------------------------------------------------------

    def requests_with(self, **params: str) -> list[RecordedRequest]:
        """Recorded requests whose parameters include all of ``params``."""
        return [r for r in self.requests if all(r.params.get(k) == v for k, v in params.items())]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m watcher.demo.standins.action_api", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", help="JSON scenario to load (pages, edits, entities)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-limit", type=int, default=500, help='what "max" means for list limits')
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each answer takes")
    args = parser.parse_args(argv)
    data = None
    if args.data:
        with open(args.data, encoding="utf-8") as handle:
            data = json.load(handle)
    asyncio.run(_serve(args, data))
    return 0


async def _serve(args: argparse.Namespace, data: dict[str, Any] | None) -> None:
    peer = ActionApiPeer(host=args.host, port=args.port, max_limit=args.max_limit, latency=args.latency)
    if data:
        peer.load(data)
    async with peer:
        print(peer.url, flush=True)  # the parent reads the URL (and so the port) from the first line
        await until_signalled()


if __name__ == "__main__":
    raise SystemExit(main())
