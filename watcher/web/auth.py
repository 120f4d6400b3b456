"""Reviewers, passwords, sessions and login rate limiting for the review page.

Passwords are argon2id hashes (argon2-cffi). A session is a random token in an HttpOnly, SameSite=Strict
cookie; the database keeps only its SHA-256, together with the session's CSRF token (a synchronizer token
that every form carries and every POST must echo).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The list lives in base.values; these names stay importable from here.
from watcher.base.values import ROLES, Role
from watcher.store.db import iso_utc, utcnow
from watcher.store.engine import Store

# Defaults of argon2-cffi (RFC 9106's second recommendation); tests swap in a cheaper hasher.
HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8

SESSION_IDLE = timedelta(hours=12)
SESSION_MAX = timedelta(days=7)
SESSION_TOUCH_SECONDS = 60  # last_seen_at is written at most this often, not on every request


class UserError(Exception):
    """A user-management request that cannot be done; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: str
    # The collections the account may see (rows of web_user_collections); None: every collection.
    collections: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Session:
    token_hash: str
    user: str
    role: Role
    csrf_token: str
    created_at: str
    last_seen_at: str
    flash: str | None
    # As User.collections, read with the session on every request: a change to the account's
    # collections holds from its next page on.
    collections: tuple[str, ...] | None = None

    @property
    def can_review(self) -> bool:
        return self.role == "reviewer"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token; a missing token never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


# --- users ------------------------------------------------------------------------------------------


async def add_user(
    db: Store,
    name: str,
    password: str,
    role: Role = "reviewer",
    *,
    update: bool = False,
    collections: Sequence[str] | None = None,
) -> None:
    """Create a reviewer, or with ``update`` replace an existing one's password, role and collections.

    ``collections`` limits the account to those (by name; the caller checks them against the
    config); None or empty: every collection. Replacing ends the user's sessions, so a changed
    password locks out whoever had the old one.
    """
    name = name.strip()
    if not name or any(ch.isspace() and ch != " " for ch in name) or len(name) > 100:
        raise UserError("a user name is 1 to 100 characters without tabs or line breaks")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    check_password_rules(password)
    digest = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
    now = utcnow()
    async with db.transaction() as conn:
        cursor = await conn.execute("SELECT name FROM web_users WHERE name = ?", (name,))
        existing = await cursor.fetchone()
        if existing is not None and not update:
            raise UserError(
                f"user {existing[0]!r} exists already (use --update to set a new password, role or collections)"
            )
        if existing is None:
            await conn.execute(
                "INSERT INTO web_users (name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (name, digest, role, now, now),
            )
        else:
            await conn.execute(
                "UPDATE web_users SET password_hash = ?, role = ?, updated_at = ? WHERE name = ?",
                (digest, role, now, name),
            )
            await conn.execute("DELETE FROM web_sessions WHERE user = ?", (name,))
            await conn.execute("DELETE FROM web_user_collections WHERE user = ?", (name,))
        stored = existing[0] if existing is not None else name
        await conn.executemany(
            "INSERT INTO web_user_collections (user, collection) VALUES (?, ?)",
            [(stored, collection) for collection in dict.fromkeys(collections or ())],
        )


async def remove_user(db: Store, name: str) -> bool:
    """Delete a reviewer, their sessions and collections; False where there was no such user."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM web_sessions WHERE user = ?", (name,))
        await conn.execute("DELETE FROM web_user_collections WHERE user = ?", (name,))
        cursor = await conn.execute("DELETE FROM web_users WHERE name = ?", (name,))
        return cursor.rowcount > 0


async def list_users(db: Store) -> list[User]:
    rows = await db.fetchall("SELECT name, role, created_at FROM web_users ORDER BY name")
    limits: dict[str, list[str]] = {}
    for user, collection in await db.fetchall(
        "SELECT user, collection FROM web_user_collections ORDER BY collection"
    ):
        limits.setdefault(str(user).casefold(), []).append(str(collection))
    return [
        User(row["name"], row["role"], row["created_at"], _limit(limits.get(str(row["name"]).casefold())))
        for row in rows
    ]


async def user_collections(db: Store, name: str) -> tuple[str, ...] | None:
    """The collections ``name`` may see; None where the account is not limited (no rows)."""
    rows = await db.fetchall(
        "SELECT collection FROM web_user_collections WHERE user = ? ORDER BY collection", (name,)
    )
    return _limit([str(row[0]) for row in rows])


def _limit(names: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(names) if names else None


async def count_users(db: Store) -> int:
    return int(await db.scalar("SELECT count(*) FROM web_users"))


_DUMMY_HASH: str | None = None


def _verify(stored_hash: str | None, password: str) -> tuple[bool, bool]:
    """(password matches, hash needs an upgrade). Unknown users cost a verify too, against timing probes."""
    global _DUMMY_HASH
    if stored_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
        stored_hash = _DUMMY_HASH
        known = False
    else:
        known = True
    try:
        HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return known, known and HASHER.check_needs_rehash(stored_hash)


async def authenticate(db: Store, name: str, password: str) -> User | None:
    """The user whose name and password these are, or None. The hash runs in a worker thread."""
    row = await db.fetchone(
        "SELECT name, password_hash, role, created_at FROM web_users WHERE name = ?", (name,)
    )
    stored = row["password_hash"] if row is not None else None
    ok, rehash = await asyncio.get_running_loop().run_in_executor(None, _verify, stored, password)
    if not ok or row is None:
        return None
    if rehash:
        digest = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
        await db.write("UPDATE web_users SET password_hash = ? WHERE name = ?", (digest, row["name"]))
    return User(row["name"], row["role"], row["created_at"], await user_collections(db, row["name"]))


# --- sessions ---------------------------------------------------------------------------------------


async def create_session(db: Store, user: User) -> str:
    """A new session for ``user``; returns the token for the cookie (never stored as such)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await db.write(
        "INSERT INTO web_sessions (token_hash, user, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
        (token_digest(token), user.name, secrets.token_urlsafe(32), now, now),
    )
    return token


async def load_session(reader: Store, writer: Store, token: str | None) -> Session | None:
    """The live session of a cookie token, or None where it is unknown or expired (and then it is removed)."""
    if not token or len(token) > 200:
        return None
    digest = token_digest(token)
    row = await reader.fetchone(
        """SELECT s.token_hash, s.user, u.role, s.csrf_token, s.created_at, s.last_seen_at, s.flash
           FROM web_sessions s JOIN web_users u ON u.name = s.user WHERE s.token_hash = ?""",
        (digest,),
    )
    if row is None:
        return None
    session = Session(
        row["token_hash"], row["user"], row["role"], row["csrf_token"], row["created_at"],
        row["last_seen_at"], row["flash"], await user_collections(reader, row["user"]),
    )  # fmt: skip
    now = datetime.now(UTC)
    created = _parse(session.created_at)
    seen = _parse(session.last_seen_at)
    if now - seen > SESSION_IDLE or now - created > SESSION_MAX:
        await writer.write("DELETE FROM web_sessions WHERE token_hash = ?", (digest,))
        return None
    if (now - seen).total_seconds() > SESSION_TOUCH_SECONDS:
        await writer.write(
            "UPDATE web_sessions SET last_seen_at = ? WHERE token_hash = ?", (iso_utc(now), digest)
        )
    return session


async def end_session(db: Store, token_hash: str) -> None:
    await db.write("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))


async def set_flash(db: Store, token_hash: str, message: str | None) -> None:
    """A one-time message shown on the next page of this session (the result of a POST)."""
    await db.write("UPDATE web_sessions SET flash = ? WHERE token_hash = ?", (message, token_hash))


async def prune_sessions(db: Store) -> int:
    now = datetime.now(UTC)
    return await db.write(
        "DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?",
        (iso_utc(now - SESSION_IDLE), iso_utc(now - SESSION_MAX)),
    )


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# --- rate limiting ----------------------------------------------------------------------------------


class LoginLimiter:
    """Failed sign-ins per key (a user name, a client address) in a sliding window.

    In memory: a restart forgets the counts, which costs an attacker a restart per few guesses, and it
    keeps a flood of failures from turning into database writes.
    """

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked_for(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may try again; 0 where it may now."""
        now = time.monotonic() if now is None else now
        times = self._recent(key, now)
        if len(times) < self.limit:
            return 0.0
        return max(0.0, self.window - (now - times[0]))

    def failed(self, key: str, now: float | None = None) -> float:
        """Count a failure (or an attempt not yet known to succeed) for ``key``; returns its stamp."""
        now = time.monotonic() if now is None else now
        if len(self._failures) >= self.max_keys:
            for stale in [k for k, v in self._failures.items() if not v or now - v[-1] >= self.window]:
                del self._failures[stale]
            if len(self._failures) >= self.max_keys:  # still full: forget the oldest key
                del self._failures[next(iter(self._failures))]
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while len(times) > self.limit * 2:
            times.popleft()
        return now

    def forget(self, key: str, stamp: float) -> None:
        """Take back one count made by :meth:`failed` (an attempt that turned out to succeed)."""
        times = self._failures.get(key)
        if times is None:
            return
        with contextlib.suppress(ValueError):
            times.remove(stamp)
        if not times:
            del self._failures[key]

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class SignInRefused(Exception):
    """A sign-in attempt refused before its password is checked; ``retry_after`` in seconds."""

    def __init__(self, retry_after: float, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignInGuard:
    """Who may have a password checked now: counts attempts before the (slow) check, atomically.

    :meth:`begin` runs without an ``await``: it checks every limit, then counts the attempt as a
    failure and marks it in flight, all in one step of the event loop, so a hundred concurrent guesses
    cannot all pass the check before the first one is counted. The count is taken back only when the
    password turns out right (:meth:`SignInAttempt.succeeded`).

    The keys, and why:

    * ``(user, address)``, ``pair_limit`` failures a window: the tight limit. An attacker guessing at
      a user from one address locks out only that pair, never the real user signing in from home.
    * the address, ``address_limit`` a window: one address spraying guesses over many user names.
    * the user, ``user_limit`` a window, much looser: guesses at one user from many addresses (a
      botnet). It can lock the real user out too, the price of bounding distributed guessing; it is set
      high enough that a single address (held to ``address_limit``) cannot reach it alone.

    A success clears its own pair's and its own address's counts (the user's global count keeps
    others' failures). At most ``pair_busy`` checks per pair, ``address_busy`` per address and
    ``user_busy`` per user run at once; one more is refused at once (429), so a burst never queues up
    password checks, and one address cannot take all of a user's slots.
    """

    def __init__(
        self,
        *,
        pair_limit: int = 5,
        address_limit: int = 20,
        user_limit: int = 50,
        window: float = 60.0,
        pair_busy: int = 1,
        address_busy: int = 2,
        user_busy: int = 4,
        max_keys: int = 10_000,
    ) -> None:
        self.pairs = LoginLimiter(pair_limit, window, max_keys)
        self.addresses = LoginLimiter(address_limit, window, max_keys)
        self.users = LoginLimiter(user_limit, window, max_keys)
        self._busy_limits = (pair_busy, address_busy, user_busy)
        self._busy: dict[str, int] = {}

    @staticmethod
    def _keys(user: str, address: str) -> tuple[str, str, str]:
        return f"{user}\0{address}", address, user

    def blocked_for(self, user: str, address: str, now: float | None = None) -> float:
        """Seconds until this user may try from this address; 0 where it may now."""
        pair, addr, name = self._keys(user, address)
        return max(
            self.pairs.blocked_for(pair, now),
            self.addresses.blocked_for(addr, now),
            self.users.blocked_for(name, now),
        )

    def begin(self, user: str, address: str, now: float | None = None) -> SignInAttempt:
        """Admit one password check or raise :class:`SignInRefused`. Never awaits: see the class."""
        now = time.monotonic() if now is None else now
        wait = self.blocked_for(user, address, now)
        if wait:
            raise SignInRefused(
                wait, f"Too many failed sign-ins. Wait {math.ceil(wait)} seconds, then try again."
            )
        pair, addr, name = self._keys(user, address)
        busy = (f"p\0{pair}", f"a\0{addr}", f"u\0{name}")
        if any(self._busy.get(key, 0) >= limit for key, limit in zip(busy, self._busy_limits, strict=True)):
            raise SignInRefused(1.0, "Too many sign-ins at once. Wait a second, then try again.")
        for key in busy:
            self._busy[key] = self._busy.get(key, 0) + 1
        stamps = (
            self.pairs.failed(pair, now),
            self.addresses.failed(addr, now),
            self.users.failed(name, now),
        )
        return SignInAttempt(self, (pair, addr, name), busy, stamps)

    def _finish(self, busy: tuple[str, ...]) -> None:
        for key in busy:
            left = self._busy.get(key, 0) - 1
            if left > 0:
                self._busy[key] = left
            else:
                self._busy.pop(key, None)


class SignInAttempt:
    """One admitted password check: use as ``with``; call :meth:`succeeded` if the password was right."""

    def __init__(
        self, guard: SignInGuard, keys: tuple[str, str, str], busy: tuple[str, ...], stamps: tuple[float, ...]
    ) -> None:
        self._guard = guard
        self._keys = keys
        self._busy = busy
        self._stamps = stamps
        self._open = True

    def succeeded(self) -> None:
        pair, addr, name = self._keys
        self._guard.pairs.clear(pair)
        self._guard.addresses.clear(addr)
        self._guard.users.forget(name, self._stamps[2])

    def finish(self) -> None:
        if self._open:
            self._open = False
            self._guard._finish(self._busy)

    def __enter__(self) -> SignInAttempt:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finish()
