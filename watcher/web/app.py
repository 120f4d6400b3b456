"""The review page's aiohttp application: routes, access control, security headers, serving.

Every handler is marked public, signed-in or reviewer. The access middleware refuses anything
unmarked unless it is a static file or a route the service layer added (``extra_routes``: /healthz,
/metrics), checks the session, and checks the CSRF token of every POST before any handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import jinja2
from aiohttp import web

from watcher.config import Config, WebSection
from watcher.store.db import Database
from watcher.web import auth
from watcher.web.links import WikiLinks

log = logging.getLogger("watcher.web")

Access = Literal["public", "signed_in", "reviewer"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

SESSION_COOKIE = "watcher_session"
LOGIN_COOKIE = "watcher_login"
HERE = Path(__file__).parent

DB = web.AppKey("db", Database)
READER = web.AppKey("reader", Database)
CONFIG = web.AppKey("config", Config)
LINKS = web.AppKey("links", WikiLinks)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
PUBLIC_RESOURCES = web.AppKey("public_resources", set[web.AbstractResource])
USER_LIMITER = web.AppKey("user_limiter", auth.LoginLimiter)
ADDRESS_LIMITER = web.AppKey("address_limiter", auth.LoginLimiter)
CSP = web.AppKey("csp", str)
# Typed request keys arrived in aiohttp 3.13; a plain string key does on older versions.
_SESSION: Any = web.RequestKey("session", auth.Session) if hasattr(web, "RequestKey") else "watcher.session"
_ACCESS_ATTR = "__watcher_access__"


def access(level: Access) -> Callable[[H], H]:
    """Mark a handler with who may call it; the access middleware enforces the mark."""

    def mark(handler: H) -> H:
        setattr(handler, _ACCESS_ATTR, level)
        return handler

    return mark


def current_session(request: web.Request) -> auth.Session:
    session = request.get(_SESSION)
    assert isinstance(session, auth.Session), "handler marked public asked for a session"
    return session


def optional_session(request: web.Request) -> auth.Session | None:
    session = request.get(_SESSION)
    return session if isinstance(session, auth.Session) else None


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def client_address(request: web.Request) -> str:
    """The client's address; behind a reverse proxy on the same host, the one it appended to X-Forwarded-For."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and is_loopback(peer):
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


def is_https(request: web.Request) -> bool:
    """Whether cookies get the Secure flag.

    Yes where [web] public_url is https://, where the connection itself is TLS, or where a reverse proxy
    on the same host (a loopback peer) says ``X-Forwarded-Proto: https``.
    """
    config = request.app[CONFIG]
    if config.web is not None and config.web.public_url.lower().startswith("https://"):
        return True
    if request.secure:
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https" and is_loopback(request.remote)


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go back to after a form; anything else (//host, scheme:, \\) gives default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return target


def see_other(location: str) -> web.Response:
    """A 303 redirect as a plain response (so that cookies can be set on it)."""
    return web.Response(status=303, headers={"Location": location})


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    session = optional_session(request)
    env = request.app[TEMPLATES]
    static = request.app.router["static"]

    def static_url(name: str) -> str:
        return str(static.url_for(filename=name))

    context.setdefault("flash", None)
    html = env.get_template(template).render(
        session=session,
        csrf=session.csrf_token if session else "",
        can_review=bool(session and session.can_review),
        links=request.app[LINKS],
        static=static_url,
        here=request.path_qs,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def content_security_policy(links: WikiLinks) -> str:
    images = " ".join(("'self'", *links.image_origins))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
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
    level: Access | None = getattr(request.match_info.handler, _ACCESS_ATTR, None)
    if level is None:
        resource = request.match_info.route.resource
        if resource is None or resource in request.app[PUBLIC_RESOURCES]:
            return await handler(request)  # router errors (404/405), static files, service routes
        raise web.HTTPNotFound()
    token = request.cookies.get(SESSION_COOKIE)
    session = await auth.load_session(request.app[READER], request.app[DB], token) if token else None
    if session is not None:
        request[_SESSION] = session
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
    from watcher.web import views

    env.filters.update(views.TEMPLATE_FILTERS)
    return env


def create_app(
    db: Database, config: Config, *, extra_routes: Callable[[web.Application], None] | None = None
) -> web.Application:
    """The review page. ``db`` takes the writes; reads go through a second connection to the same file.

    Routes added by ``extra_routes`` (the service layer's /healthz, /metrics) are served without sign-in.
    """
    from watcher.web import download, login, views

    app = web.Application(middlewares=[access_control], client_max_size=2 * 1024 * 1024)
    app[DB] = db
    app[CONFIG] = config
    app[LINKS] = links = WikiLinks(config)
    app[CSP] = content_security_policy(links)
    app[TEMPLATES] = _environment()
    app[USER_LIMITER] = auth.LoginLimiter(limit=5)
    app[ADDRESS_LIMITER] = auth.LoginLimiter(limit=20)
    public: set[web.AbstractResource] = set()
    app[PUBLIC_RESOURCES] = public
    login.add_routes(app)
    views.add_routes(app)
    download.add_routes(app)
    public.add(app.router.add_static("/static", HERE / "static", name="static", append_version=True))
    if extra_routes is not None:
        before = set(app.router.resources())
        extra_routes(app)
        public.update(set(app.router.resources()) - before)
    app.on_response_prepare.append(_security_headers)
    app.cleanup_ctx.append(_reader_connection)
    return app


async def _reader_connection(app: web.Application) -> Any:
    """A connection of its own for the page's reads, so a long query never holds up the daemon's writes."""
    db = app[DB]
    reader = await Database.connect(db.path, migrate=False)
    app[READER] = reader
    removed = await auth.prune_sessions(db)
    if removed:
        log.info("removed %d expired review-page session(s)", removed)
    try:
        yield
    finally:
        await reader.close()


async def run_web(
    db: Database, config: Config, *, extra_routes: Callable[[web.Application], None] | None = None
) -> None:
    """Serve the review page on [web] listen until cancelled, then close every connection within 2 s."""
    section = config.web or WebSection()
    app = create_app(db, config, extra_routes=extra_routes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, section.host or None, section.port)
        await site.start()
        log.info("review page at %s (listening on %s)", section.base_url, section.listen)
        if not await auth.count_users(db):
            log.warning(
                "nobody can sign in to the review page yet: add a reviewer with `watcher user add NAME`"
            )
        await asyncio.Event().wait()  # until cancelled
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(runner.cleanup())
