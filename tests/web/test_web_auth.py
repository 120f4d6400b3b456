"""Signing in and out, sessions, CSRF, the read-only role and login rate limiting."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from unittest import mock

import pytest
from aiohttp.test_utils import TestClient, make_mocked_request

from tests.support.web import PASSWORD, csrf_of, queue, sign_in
from watcher.config import Config, WebSection
from watcher.store.db import Database
from watcher.web import auth
from watcher.web.app import create_app
from watcher.web.kit import LOGIN_COOKIE, SESSION_COOKIE, client_address, is_https


def session_cookie_header(response: Any) -> str:
    headers = [h for h in response.headers.getall("Set-Cookie", []) if h.startswith(SESSION_COOKIE + "=")]
    assert len(headers) == 1, response.headers
    return str(headers[0])


async def test_signed_out_visitor_is_sent_to_sign_in_and_sees_no_data(
    client: TestClient[Any, Any], db: Database
) -> None:
    ids = await queue(db, file="File:Secret painting.jpg", user="Hidden editor")
    for path in ("/", f"/changes/{ids[0]}", "/?status=all"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/login?next=")
        body = await response.text()
        assert "Secret painting" not in body and "Hidden editor" not in body
    page = await client.get(f"/changes/{ids[0]}")  # following the redirect lands on the sign-in form
    text = await page.text()
    assert "Sign in" in text and "Secret painting" not in text


async def test_signed_out_posts_are_refused(client: TestClient[Any, Any], db: Database) -> None:
    ids = await queue(db)
    for path, data in (
        (f"/changes/{ids[0]}/review", {"action": "accept"}),
        ("/changes/bulk", {"action": "accept", "id": str(ids[0])}),
        ("/export", {"format": "csv", "status": "pending"}),
    ):
        response = await client.post(path, data=data, allow_redirects=False)
        assert response.status == 403
        assert "old text" not in await response.text()
    assert await db.scalar("SELECT status FROM changes WHERE id = ?", (ids[0],)) == "pending"


async def test_sign_in_sets_a_strict_http_only_session_cookie(
    client: TestClient[Any, Any], db: Database
) -> None:
    await queue(db, file="File:Visible.jpg")
    response = await sign_in(client, "anna", next_path="/?status=all")
    assert response.status == 303
    assert response.headers["Location"] == "/?status=all"
    cookie = session_cookie_header(response).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http on loopback, no https public_url
    page = await client.get("/")
    assert page.status == 200
    assert "File:Visible.jpg" in await page.text()
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    stored = await db.fetchall("SELECT token_hash FROM web_sessions")
    assert [row[0] for row in stored] == [auth.token_digest(token)]  # only a digest is kept


async def test_sign_in_accepts_names_in_any_case_and_refuses_open_redirects(
    client: TestClient[Any, Any],
) -> None:
    response = await sign_in(client, "ANNA", next_path="//evil.example/")
    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_wrong_password_and_unknown_user_are_refused_alike(client: TestClient[Any, Any]) -> None:
    wrong = await sign_in(client, "anna", "not the password")
    unknown = await sign_in(client, "nobody", PASSWORD)
    assert wrong.status == unknown.status == 401
    assert "Wrong user name or password" in await wrong.text()
    assert "Wrong user name or password" in await unknown.text()
    assert SESSION_COOKIE not in client.session.cookie_jar.filter_cookies(client.make_url("/"))


async def test_sign_in_form_needs_its_own_token(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/login", data={"name": "anna", "password": PASSWORD, "login_token": "forged"}, allow_redirects=False
    )
    assert response.status == 403
    assert SESSION_COOKIE not in response.cookies


async def test_failed_sign_ins_are_rate_limited_per_user(client: TestClient[Any, Any]) -> None:
    for _ in range(5):
        assert (await sign_in(client, "anna", "guess")).status == 401
    blocked = await sign_in(client, "anna", PASSWORD)  # even the right password waits
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in await blocked.text()
    other = await sign_in(client, "otto", PASSWORD)  # another user from the same address is not blocked
    assert other.status == 303


async def test_failed_sign_ins_are_rate_limited_per_address(client: TestClient[Any, Any]) -> None:
    for n in range(20):
        assert (await sign_in(client, f"guess{n}", "guess")).status == 401
    assert (await sign_in(client, "anna", PASSWORD)).status == 429


def test_limiter_forgets_failures_after_the_window() -> None:
    limiter = auth.LoginLimiter(limit=3, window=60)
    for t in (0.0, 1.0, 2.0):
        limiter.failed("k", now=t)
    assert limiter.blocked_for("k", now=3.0) == pytest.approx(57.0)
    assert limiter.blocked_for("k", now=61.0) == 0.0
    assert limiter.blocked_for("other", now=3.0) == 0.0


def test_limiter_stays_bounded_under_a_flood_of_names() -> None:
    limiter = auth.LoginLimiter(limit=3, window=60, max_keys=100)
    for n in range(1000):
        limiter.failed(f"name{n}", now=float(n) / 1000)
    assert len(limiter._failures) <= 100


async def test_sign_out_ends_the_session(client: TestClient[Any, Any], db: Database) -> None:
    await sign_in(client, "anna")
    csrf = await csrf_of(client)
    response = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert await db.scalar("SELECT count(*) FROM web_sessions") == 0
    again = await client.get("/", allow_redirects=False)
    assert again.status == 303


async def test_a_stolen_cookie_is_useless_after_sign_out(client: TestClient[Any, Any], db: Database) -> None:
    await sign_in(client, "anna")
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    replay = await client.get("/", cookies={SESSION_COOKIE: token}, allow_redirects=False)
    assert replay.status == 303


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
async def test_posts_without_the_right_csrf_token_are_refused(
    client: TestClient[Any, Any], db: Database, token: str | None
) -> None:
    ids = await queue(db)
    await sign_in(client, "anna")
    await csrf_of(client)
    data = {"action": "accept", "note": "sneaky"} | ({"csrf": token} if token is not None else {})
    for path in (f"/changes/{ids[0]}/review", "/changes/bulk", "/logout", "/export"):
        response = await client.post(path, data=data | {"id": str(ids[0])}, allow_redirects=False)
        assert response.status == 403, path
    row = await db.fetchone("SELECT status, note FROM changes WHERE id = ?", (ids[0],))
    assert row is not None and tuple(row) == ("pending", None)
    assert await db.scalar("SELECT count(*) FROM web_sessions") == 1  # not signed out


async def test_csrf_token_of_another_session_is_refused(
    client: TestClient[Any, Any], db: Database, aiohttp_client: Any, config: Config
) -> None:
    ids = await queue(db)
    other = await aiohttp_client(create_app(db, config))
    await sign_in(other, "otto")
    foreign = await csrf_of(other)
    await sign_in(client, "anna")
    response = await client.post(f"/changes/{ids[0]}/review", data={"csrf": foreign, "action": "accept"})
    assert response.status == 403


async def test_read_only_role_sees_everything_but_changes_nothing(
    client: TestClient[Any, Any], db: Database
) -> None:
    ids = await queue(db, comment="A summary", user="Some editor")
    await sign_in(client, "otto")
    page = await client.get("/")
    text = await page.text()
    assert page.status == 200
    assert "A summary" in text and "Some editor" in text and "read-only" in text
    assert "Accept selected" not in text and 'value="accept"' not in text and 'id="bulk"' not in text
    detail = await (await client.get(f"/changes/{ids[0]}")).text()
    assert 'value="accept"' not in detail and "/review" not in detail
    csrf = await csrf_of(client)
    for path, data in (
        (f"/changes/{ids[0]}/review", {"action": "accept"}),
        (f"/changes/{ids[0]}/review", {"action": "note", "note": "mine"}),
        ("/changes/bulk", {"action": "reject", "id": str(ids[0])}),
        ("/changes/bulk", {"action": "accept-shown", "shown": str(ids[0])}),
    ):
        response = await client.post(path, data=data | {"csrf": csrf}, allow_redirects=False)
        assert response.status == 403
        assert "read-only" in await response.text()
    row = await db.fetchone("SELECT status, note, reviewer FROM changes WHERE id = ?", (ids[0],))
    assert row is not None and tuple(row) == ("pending", None, None)
    # Signing out is not a change to the queue: a read-only account may do it.
    assert (await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)).status == 303


async def test_expired_sessions_are_refused_and_removed(client: TestClient[Any, Any], db: Database) -> None:
    await sign_in(client, "anna")
    await db.write("UPDATE web_sessions SET last_seen_at = '2020-01-01T00:00:00Z'")
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert await db.scalar("SELECT count(*) FROM web_sessions") == 0


async def test_changing_a_password_or_removing_a_user_ends_their_sessions(
    client: TestClient[Any, Any], db: Database
) -> None:
    await sign_in(client, "anna")
    await auth.add_user(db, "anna", "another password", "reviewer", update=True)
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert (await sign_in(client, "anna", "another password")).status == 303
    assert await auth.remove_user(db, "anna")
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert not await auth.remove_user(db, "anna")


async def test_user_rules(db: Database) -> None:
    with pytest.raises(auth.UserError, match="at least"):
        await auth.add_user(db, "short", "1234567")
    with pytest.raises(auth.UserError, match="user name"):
        await auth.add_user(db, "two\nlines", PASSWORD)
    await auth.add_user(db, "Maria", PASSWORD, "readonly")
    with pytest.raises(auth.UserError, match="exists already"):
        await auth.add_user(db, "maria", PASSWORD)
    assert [(u.name, u.role) for u in await auth.list_users(db)] == [("Maria", "readonly")]
    stored = await db.scalar("SELECT password_hash FROM web_users")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("public_url", "headers", "secure"),
    [
        ("https://review.museum.example", {}, True),
        ("", {"X-Forwarded-Proto": "https"}, True),  # the test client is a loopback peer, like a local proxy
        ("", {}, False),
    ],
)
async def test_secure_cookie_behind_https(
    aiohttp_client: Any, db: Database, config: Config, users: None,
    public_url: str, headers: dict[str, str], secure: bool,
) -> None:  # fmt: skip
    config = replace(config, web=WebSection(listen="127.0.0.1:0", public_url=public_url))
    client = await aiohttp_client(create_app(db, config))
    form_page = await client.get("/login")
    token = (await form_page.text()).split('name="login_token" value="')[1].split('"')[0]
    # A Secure cookie is not sent back over plain http, so the test hands it over itself.
    response = await client.post(
        "/login", data={"login_token": token, "name": "anna", "password": PASSWORD},
        headers=headers, cookies={LOGIN_COOKIE: form_page.cookies[LOGIN_COOKIE].value}, allow_redirects=False,
    )  # fmt: skip
    assert response.status == 303
    assert ("; secure" in session_cookie_header(response).lower()) is secure


@pytest.mark.parametrize(
    ("peer", "headers", "address", "https"),
    [
        (
            "127.0.0.1",
            {"X-Forwarded-For": "198.51.100.1, 203.0.113.5", "X-Forwarded-Proto": "https"},
            "203.0.113.5",
            True,
        ),
        ("::1", {"X-Forwarded-For": "203.0.113.6"}, "203.0.113.6", False),
        # From anywhere but loopback the forwarded headers are not believed.
        ("192.0.2.7", {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}, "192.0.2.7", False),
        ("192.0.2.7", {}, "192.0.2.7", False),
    ],
)
def test_forwarded_headers_count_only_from_a_local_proxy(
    config: Config, db: Database, peer: str, headers: dict[str, str], address: str, https: bool
) -> None:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 40000) if name == "peername" else default
    )
    request = make_mocked_request(
        "GET", "/", headers=headers, transport=transport, app=create_app(db, config)
    )
    assert client_address(request) == address
    assert is_https(request) is https
