"""Issue 13, item 2: concurrent guesses cannot outrun the sign-in limit, and an attacker at one address
cannot lock the real user out at another. Through the real aiohttp app, with real argon2 (cheap costs)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import PASSWORD
from watcher.web import auth
from watcher.web.kit import LOGIN_COOKIE, SIGN_IN_GUARD

_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
DEADLINE = 60.0


class Gate:
    """Stands in for the slow argon2 check: holds every verification until released, counting them."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.entered = 0
        self.in_flight = 0
        self.most_in_flight = 0

    def verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        with self.lock:
            self.entered += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            assert self.release.wait(DEADLINE), "the test never released the gate"
            result: tuple[bool, bool] = self.real(stored, password)
            return result
        finally:
            with self.lock:
                self.in_flight -= 1


async def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


async def login_token(client: TestClient[Any, Any]) -> str:
    page = await client.get("/login")
    match = _LOGIN_TOKEN.search(await page.text())
    assert match is not None
    return match.group(1)


async def post(
    client: TestClient[Any, Any], token: str, password: str, *, name: str = "anna", address: str | None = None
) -> int:
    headers = {"X-Forwarded-For": address} if address else {}  # the test client is a loopback "proxy"
    response = await client.post(
        "/login",
        data={"login_token": token, "name": name, "password": password, "next": "/"},
        cookies={LOGIN_COOKIE: token},
        headers=headers,
        allow_redirects=False,
    )
    await response.release()
    return response.status


async def burst(
    client: TestClient[Any, Any], token: str, passwords: list[str], gate: Gate, address: str | None = None
) -> Counter[int]:
    """Fire all guesses at once; release the gate only when every one is either refused or verifying."""
    gate.release.clear()
    entered_before = gate.entered
    statuses: list[int] = []

    async def one(password: str) -> None:
        statuses.append(await post(client, token, password, address=address))

    tasks = [asyncio.create_task(one(p)) for p in passwords]
    await wait_for(
        lambda: len(statuses) + (gate.entered - entered_before) >= len(passwords), "all guesses to arrive"
    )
    gate.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE)
    return Counter(statuses)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    held = Gate(auth._verify)
    monkeypatch.setattr(auth, "_verify", held.verify)
    return held


async def test_a_hundred_parallel_guesses_get_at_most_the_limit(
    client: TestClient[Any, Any], gate: Gate
) -> None:
    token = await login_token(client)
    limit = client.app[SIGN_IN_GUARD].pairs.limit
    verified = 0
    for _ in range(limit):
        # Wrong guesses with the right password mixed in: only one at a time is ever checked.
        statuses = await burst(client, token, ["wrong guess"] * 100, gate)
        assert statuses[429] == 99 and statuses[401] == 1, statuses
        verified += statuses[401]
    assert gate.most_in_flight == 1
    assert verified == limit
    # The limit is reached: a hundred more, the right password among them, all refused unchecked.
    entered = gate.entered
    mixed = [PASSWORD if n % 7 == 0 else f"guess {n}" for n in range(100)]
    statuses = await burst(client, token, mixed, gate)
    assert statuses == Counter({429: 100}), statuses
    assert gate.entered == entered
    # The real user, from home, is not locked out by the attacker's address.
    assert await post(client, token, PASSWORD, address="203.0.113.9") == 303


async def test_ungated_parallel_guesses_stay_within_the_limit(client: TestClient[Any, Any]) -> None:
    token = await login_token(client)
    limit = client.app[SIGN_IN_GUARD].pairs.limit
    statuses = Counter(await asyncio.gather(*(post(client, token, f"guess {n}") for n in range(100))))
    assert statuses[303] == 0
    assert statuses[401] <= limit and statuses[401] + statuses[429] == 100, statuses
    # Drive it to the limit, then the right password from this address is refused…
    while client.app[SIGN_IN_GUARD].blocked_for("anna", "127.0.0.1") == 0:
        assert await post(client, token, "one more guess") == 401
    assert await post(client, token, PASSWORD) == 429
    # …but not from another address, and that success does not unblock the attacker's address.
    assert await post(client, token, PASSWORD, address="198.51.100.20") == 303
    assert await post(client, token, PASSWORD) == 429


async def test_a_success_clears_its_own_address(client: TestClient[Any, Any]) -> None:
    token = await login_token(client)
    limit = client.app[SIGN_IN_GUARD].pairs.limit
    for _ in range(limit - 1):
        assert await post(client, token, "typo") == 401
    assert await post(client, token, PASSWORD) == 303
    client.session.cookie_jar.clear()  # signed in: a new sign-in starts from a fresh browser
    token = await login_token(client)
    for _ in range(limit - 1):
        assert await post(client, token, "typo again") == 401
    assert await post(client, token, PASSWORD) == 303


async def test_one_address_cannot_hold_all_of_a_users_slots(client: TestClient[Any, Any], gate: Gate) -> None:
    token = await login_token(client)
    guard = client.app[SIGN_IN_GUARD]
    gate.release.clear()
    # The attacker's address keeps checks in flight for other names and for anna…
    held = [asyncio.create_task(post(client, token, "x", name=name)) for name in ("anna", "otto")]
    await wait_for(lambda: gate.entered == 2, "two checks in flight")
    assert await post(client, token, "y", name="nobody") == 429  # the address's in-flight cap
    # …the real user's own check still gets a slot.
    mine = asyncio.create_task(post(client, token, PASSWORD, address="203.0.113.50"))
    await wait_for(lambda: gate.entered == 3, "the real user's check")
    gate.release.set()
    assert await asyncio.wait_for(mine, DEADLINE) == 303
    assert sorted(await asyncio.gather(*held)) == [401, 401]
    assert guard.blocked_for("anna", "203.0.113.50") == 0


async def test_many_addresses_hit_the_looser_per_user_limit(client: TestClient[Any, Any]) -> None:
    token = await login_token(client)
    guard = client.app[SIGN_IN_GUARD]
    for n in range(guard.users.limit):
        assert await post(client, token, "botnet guess", address=f"192.0.2.{n + 1}") == 401
    assert await post(client, token, PASSWORD, address="203.0.113.77") == 429


def test_begin_counts_before_the_check() -> None:
    guard = auth.SignInGuard(pair_limit=2, pair_busy=5, address_busy=5, user_busy=5)
    first = guard.begin("anna", "a", now=0.0)
    second = guard.begin("anna", "a", now=0.0)  # neither has finished: both already count
    with pytest.raises(auth.SignInRefused, match="Too many failed sign-ins") as refused:
        guard.begin("anna", "a", now=1.0)
    assert refused.value.retry_after == pytest.approx(59.0)
    first.finish()
    second.finish()
    guard.begin("anna", "b", now=1.0).finish()  # another address is not blocked


def test_busy_refusals_are_immediate_and_released() -> None:
    guard = auth.SignInGuard()
    with guard.begin("anna", "a", now=0.0), pytest.raises(auth.SignInRefused, match="at once"):
        guard.begin("anna", "a", now=0.0)
    with guard.begin("anna", "a", now=0.0) as attempt:
        attempt.succeeded()
    assert guard.blocked_for("anna", "a", now=0.0) == 0
    assert not guard._busy
