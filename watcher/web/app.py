"""The review page's aiohttp application: routes, access control, security headers, serving.

Every handler is marked public, signed-in or reviewer. The access middleware refuses anything
unmarked unless it is a static file or a route the service layer added (``extra_routes``: /healthz,
/metrics), checks the session, and checks the CSRF token of every POST before any handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from watcher.config import Config, WebSection
from watcher.export.links import WikiLinks
from watcher.store.db import Database
from watcher.store.engine import Store
from watcher.web import auth, decide, download, login, overview, present, views
from watcher.web.kit import (
    ACCESS_ATTR,
    CONFIG,
    CSP,
    DB,
    HERE,
    LINKS,
    PUBLIC_RESOURCES,
    READER,
    SESSION,
    SESSION_COOKIE,
    SIGN_IN_GUARD,
    TEMPLATES,
    Access,
    Handler,
)

log = logging.getLogger("watcher.web")


def content_security_policy(links: WikiLinks) -> str:
    images = " ".join(("'self'", *links.image_origins))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src {images}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = request.app[CSP]
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


@web.middleware
async def access_control(request: web.Request, handler: Handler) -> web.StreamResponse:
    level: Access | None = getattr(request.match_info.handler, ACCESS_ATTR, None)
    if level is None:
        resource = request.match_info.route.resource
        if resource is None or resource in request.app[PUBLIC_RESOURCES]:
            return await handler(request)  # router errors (404/405), static files, service routes
        raise web.HTTPNotFound()
    token = request.cookies.get(SESSION_COOKIE)
    session = await auth.load_session(request.app[READER], request.app[DB], token) if token else None
    if session is not None:
        request[SESSION] = session
    if level == "public":
        return await handler(request)
    if session is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther("/login?next=" + quote(request.path_qs, safe="/"))
        raise web.HTTPForbidden(text="Sign in first.")
    if request.method == "POST":
        form = await request.post()
        given = form.get("csrf")
        if not auth.tokens_match(session.csrf_token, given if isinstance(given, str) else None):
            raise web.HTTPForbidden(
                text="The form was out of date or did not come from this page (CSRF check failed). "
                "Go back, reload the page and try again."
            )
        if level == "reviewer" and not session.can_review:
            raise web.HTTPForbidden(text="This account is read-only: it cannot change anything.")
    elif request.method not in ("GET", "HEAD"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD", "POST"])
    return await handler(request)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(present.TEMPLATE_FILTERS)
    env.globals.update(present.TEMPLATE_GLOBALS)
    return env


def create_app(
    db: Store, config: Config, *, extra_routes: Callable[[web.Application], None] | None = None
) -> web.Application:
    """The review page. ``db`` takes the writes; reads go through a second connection to the same file.

    Routes added by ``extra_routes`` (the service layer's /healthz, /metrics) are served without sign-in.
    """
    app = web.Application(middlewares=[access_control], client_max_size=2 * 1024 * 1024)
    app[DB] = db
    app[CONFIG] = config
    app[LINKS] = links = WikiLinks(config)
    app[CSP] = content_security_policy(links)
    app[TEMPLATES] = _environment()
    app[SIGN_IN_GUARD] = auth.SignInGuard()
    public: set[web.AbstractResource] = set()
    app[PUBLIC_RESOURCES] = public
    login.add_routes(app)
    views.add_routes(app)
    decide.add_routes(app)
    download.add_routes(app)
    overview.add_routes(app)
    public.add(app.router.add_static("/static", HERE / "static", name="static", append_version=True))
    if extra_routes is not None:
        before = set(app.router.resources())
        extra_routes(app)
        public.update(set(app.router.resources()) - before)
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_reader_connection)
    return app


async def _reader_connection(app: web.Application) -> Any:
    """A connection of its own for the page's reads, so a long query never holds up the daemon's writes
    (on SQLite a second connection to the file; a PostgreSQL store's pool already reads beside writes)."""
    db = app[DB]
    reader: Store = await Database.connect(db.path, migrate=False) if isinstance(db, Database) else db
    app[READER] = reader
    removed = await auth.prune_sessions(db)
    if removed:
        log.info("removed %d expired review-page session(s)", removed)
    try:
        yield
    finally:
        if reader is not db:
            await reader.close()


class PortUnavailable(Exception):
    """The review page's address cannot be had (in use, not ours, not allowed): one line saying which."""

    def __init__(self, listen: str, reason: str) -> None:
        self.listen = listen
        self.reason = reason
        super().__init__(f"cannot serve the review page on {listen}: {reason}")


def _reason(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"the port is in use (another watcher, or another program: `ss -ltnp 'sport = :{port}'` "
            "shows which)"
        )
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "that address is not one of this machine's"
    return exc.strerror or str(exc)


def bind_or_explain(section: WebSection, *, listen: bool = True, backlog: int = 128) -> list[socket.socket]:
    """Sockets for ``[web] listen``, taken before anything else starts; raises
    :class:`PortUnavailable` (one line, no traceback) where the address cannot be had.

    One socket per address the host resolves to, bound as asyncio's ``create_server`` would
    (``SO_REUSEADDR``, IPv6 sockets IPv6-only), so a busy port is found here and not by a web task
    that would fail and be restarted forever. ``watcher run`` and ``watcher serve`` both use it.
    ``listen`` holds the port at once (the daemon: nobody can take it between now and the page's
    start); without it the page starts listening when it is up (``watcher serve``: a client that can
    connect finds the page answering). The bind alone already fails where a program listens there.
    """
    try:
        infos = socket.getaddrinfo(
            section.host or None, section.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise PortUnavailable(section.listen, f"cannot resolve {section.host!r} ({exc})") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            if listen:
                sock.listen(backlog)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise PortUnavailable(section.listen, _reason(exc, section.port)) from None
    return sockets


async def run_web(
    db: Store,
    config: Config,
    *,
    extra_routes: Callable[[web.Application], None] | None = None,
    sockets: Sequence[socket.socket] = (),
) -> None:
    """Serve the review page until cancelled, then close every connection within 2 s.

    ``sockets`` (from :func:`bind_or_explain`) are served on copies, so the caller keeps the port for
    a restart of this task; without them the page binds [web] listen itself.
    """
    section = config.web or WebSection()
    app = create_app(db, config, extra_routes=extra_routes)
    # Counted before the port opens, so both lines are written before anyone (or a SIGTERM) can act
    # on the page being up.
    nobody_can_sign_in = not await auth.count_users(db)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        if sockets:
            for sock in sockets:
                await web.SockSite(runner, sock.dup()).start()
        else:
            await web.TCPSite(runner, section.host or None, section.port).start()
        log.info("review page at %s (listening on %s)", section.base_url, section.listen)
        if nobody_can_sign_in:
            log.warning(
                "nobody can sign in to the review page yet: add a reviewer with `watcher user add NAME`"
            )
        await asyncio.Event().wait()  # until cancelled
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(runner.cleanup())
