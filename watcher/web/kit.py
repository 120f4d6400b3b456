"""What every page module of the review page shares: the app keys, access marks, sessions, rendering.

``app`` assembles the application from the page modules (``login``, ``views``, ``download``); they
import this module, never ``app``, so that the assembly can import them at its top.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import jinja2
from aiohttp import web

from watcher.config import Config
from watcher.export.links import WikiLinks
from watcher.store.engine import Store
from watcher.web import auth, queries

Access = Literal["public", "signed_in", "reviewer"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
SESSION_COOKIE = "watcher_session"
LOGIN_COOKIE = "watcher_login"
# The language labels are shown in: ?lang= picks one of [labels] languages, the cookie remembers it.
LANGUAGE_KEY = "lang"
LANGUAGE_COOKIE = "watcher_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
HERE = Path(__file__).parent

DB: web.AppKey[Store] = web.AppKey("db")
READER: web.AppKey[Store] = web.AppKey("reader")
CONFIG = web.AppKey("config", Config)
LINKS = web.AppKey("links", WikiLinks)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
PUBLIC_RESOURCES = web.AppKey("public_resources", set[web.AbstractResource])
SIGN_IN_GUARD = web.AppKey("sign_in_guard", auth.SignInGuard)
CSP = web.AppKey("csp", str)
# Typed request keys arrived in aiohttp 3.13; a plain string key does on older versions.
SESSION: Any = web.RequestKey("session", auth.Session) if hasattr(web, "RequestKey") else "watcher.session"
ACCESS_ATTR = "__watcher_access__"


def access(level: Access) -> Callable[[H], H]:
    """Mark a handler with who may call it; the access middleware enforces the mark."""

    def mark(handler: H) -> H:
        setattr(handler, ACCESS_ATTR, level)
        return handler

    return mark


def current_session(request: web.Request) -> auth.Session:
    session = request.get(SESSION)
    assert isinstance(session, auth.Session), "handler marked public asked for a session"
    return session


def scope(request: web.Request) -> queries.Scope:
    """The signed-in account's collections: what every query of the page is held to."""
    return queries.Scope(current_session(request).collections, request.app[CONFIG].collection_names)


def optional_session(request: web.Request) -> auth.Session | None:
    session = request.get(SESSION)
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
    """A same-site path to go back to after a form; anything else (//host, scheme:, \\) gives default.

    Control characters (C0, DEL, C1) and other unprintable ones give the default too (a header cannot
    carry them); spaces and other non-ASCII characters come back percent-encoded, so the path is always a valid
    ``Location`` value.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if len(target) > 2000 or not target.isprintable():  # isprintable(): no Cc, Cf, Zl, Zp, Zs but " "
        return default
    if not all(0x21 <= ord(ch) < 0x7F for ch in target):  # a space or non-ASCII
        target = quote(target, safe=_PRINTABLE_ASCII)
    return target


def see_other(location: str) -> web.Response:
    """A 303 redirect as a plain response (so that cookies can be set on it)."""
    return web.Response(status=303, headers={"Location": location})


def label_languages(request: web.Request) -> tuple[str, ...]:
    """The languages labels are read in, the curator's choice first: ``?lang=`` (remembered in a
    cookie), else the cookie, else ``[labels] languages`` in their configured order."""
    configured = request.app[CONFIG].labels.languages
    for chosen in (request.query.get(LANGUAGE_KEY), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in configured:
            return (chosen, *(language for language in configured if language != chosen))
    return configured


def page_context(request: web.Request, **overrides: Any) -> dict[str, Any]:
    """What every template (and every card rendered alone, for a script's answer) is given."""
    session = optional_session(request)
    static = request.app.router["static"]

    def static_url(name: str) -> str:
        return str(static.url_for(filename=name))

    languages = label_languages(request)
    config = request.app[CONFIG]
    context: dict[str, Any] = {
        "session": session,
        "csrf": session.csrf_token if session else "",
        "can_review": bool(session and session.can_review),
        "links": request.app[LINKS],
        "static": static_url,
        "here": request.path_qs,
        "flash": None,
        "label_language": languages[0] if languages else None,
        "label_languages": config.labels.languages,
        # The query string without the language, for the language form's hidden fields.
        "query_items": [(k, v) for k, v in request.query.items() if k != LANGUAGE_KEY],
        # With several collections, each card says whose change it is, by the collection's title.
        "several_collections": len(config.collections) > 1,
        "collection_titles": {c.name: c.title for c in config.collections},
    }
    context.update(overrides)
    return context


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    env = request.app[TEMPLATES]
    html = env.get_template(template).render(**page_context(request, **context))
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    chosen = request.query.get(LANGUAGE_KEY)
    if chosen and chosen in request.app[CONFIG].labels.languages:
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_AGE, path="/", httponly=True,
            samesite="Lax", secure=is_https(request),
        )  # fmt: skip
    return response


def render_macro(request: web.Request, template: str, macro: str, *args: Any, **context: Any) -> str:
    """One macro of a template as HTML, with the page's context (``here`` as the caller says)."""
    module = request.app[TEMPLATES].get_template(template).make_module(page_context(request, **context))
    return str(getattr(module, macro)(*args))
