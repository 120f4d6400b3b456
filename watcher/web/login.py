"""Signing in and out.

The sign-in form has no session yet, so its CSRF token is a double-submit one: a random value in a
short-lived HttpOnly, SameSite=Strict cookie that the form must echo. Sign-ins are limited per user
name and client address together, per address and (loosely) per user, and counted before the password
check (see :class:`watcher.web.auth.SignInGuard`); a refused attempt never reaches the password check.
"""

from __future__ import annotations

import math
import secrets

from aiohttp import web

from watcher.web import auth
from watcher.web.kit import (
    DB,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_GUARD,
    access,
    client_address,
    current_session,
    is_https,
    optional_session,
    render,
    safe_next,
    see_other,
)

LOGIN_COOKIE_SECONDS = 3600


def _login_page(
    request: web.Request, *, status: int = 200, error: str | None = None, name: str = ""
) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html.j2",
        status=status,
        error=error,
        name=name,
        login_token=token,
        next=safe_next(request.query.get("next")),
    )
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=LOGIN_COOKIE_SECONDS, path="/login", httponly=True, samesite="Strict",
        secure=is_https(request),
    )  # fmt: skip
    return response


@access("public")
async def login_form(request: web.Request) -> web.StreamResponse:
    if optional_session(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_page(request)


@access("public")
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name") or "").strip()[:100]
    password = str(form.get("password") or "")[:1000]
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not auth.tokens_match(cookie or "", str(form.get("login_token") or "")):
        return _login_page(
            request, status=403, name=name,
            error="The sign-in form had expired or cookies are off. Try again (cookies must be allowed).",
        )  # fmt: skip
    try:
        # Counted now, before the slow check, with no await in between (SignInGuard's docstring).
        attempt = request.app[SIGN_IN_GUARD].begin(name.casefold(), client_address(request))
    except auth.SignInRefused as refused:
        response = _login_page(request, status=429, name=name, error=str(refused))
        response.headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after)))
        return response
    with attempt:
        user = await auth.authenticate(request.app[DB], name, password) if name and password else None
        if user is None:
            return _login_page(request, status=401, name=name, error="Wrong user name or password.")
        attempt.succeeded()
    old = optional_session(request)
    if old is not None:
        await auth.end_session(request.app[DB], old.token_hash)
    await auth.prune_sessions(request.app[DB])  # forget abandoned sessions now and then
    token = await auth.create_session(request.app[DB], user)
    response = see_other(safe_next(str(form.get("next") or "")))
    response.set_cookie(
        SESSION_COOKIE, token, path="/", httponly=True, samesite="Strict", secure=is_https(request)
    )
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


@access("signed_in")
async def logout(request: web.Request) -> web.StreamResponse:
    await auth.end_session(request.app[DB], current_session(request).token_hash)
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
