"""The review page's aiohttp application: routes, access control, security headers, serving.

Every handler is marked public, signed-in or reviewer. The access middleware refuses anything
unmarked unless it is a static file or a route the service layer added (``extra_routes``: /healthz,
/metrics), checks the session, and checks the CSRF token of every POST before any handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from watcher.config import Config, WebSection
from watcher.store.db import Database
from watcher.web import auth, download, login, views
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
from watcher.web.links import WikiLinks

log = logging.getLogger("watcher.web")


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
    env.filters.update(views.TEMPLATE_FILTERS)
    env.globals.update(views.TEMPLATE_GLOBALS)
    return env


def create_app(
    db: Database, config: Config, *, extra_routes: Callable[[web.Application], None] | None = None
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
