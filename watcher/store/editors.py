"""Editor facts and tag descriptions, cached; and what makes an account "new", written once.

The cache (tables of :mod:`watcher.store.provenance_tables`) keeps each ``list=users`` answer for
:data:`EDITOR_MAX_AGE` and the wiki's tag descriptions for :data:`TAGS_MAX_AGE`: an editor seen again
within a day costs no request. A record's ``editor`` is a copy taken when it was queued, never updated.

"New account" is one rule for the review page's filter (SQL, :data:`NEW_EDITOR_SQL`), the trust
signals and the notify filters (:func:`is_new_account`): registered less than
:data:`NEW_ACCOUNT_DAYS` days before the edit, or fewer than :data:`FEW_EDITS` edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from watcher.base.times import parse_utc
from watcher.mediawiki.names import is_temporary as is_temporary  # re-exported for the pages
from watcher.mediawiki.names import is_unregistered as is_unregistered
from watcher.store.db import iso_utc
from watcher.store.engine import Connection, Store
from watcher.store.state import get_state, set_state

EDITOR_MAX_AGE = timedelta(days=1)
TAGS_MAX_AGE = timedelta(days=1)
TAGS_FETCHED = "change_tags_fetched_at"  # state key: when list=tags was last read whole

NEW_ACCOUNT_DAYS = 30
FEW_EDITS = 100
LONG_STANDING_YEARS = 2
LONG_STANDING_EDITS = 1000

# A record whose editor is a new account (the rule above; `editor` is the record's JSON column).
# Written to read the same on both engines (watcher.store.dialect): the JSON number cast, the age
# compared after coalesce (an unknown age is not new), the IP shapes as GLOB with literal patterns.
NEW_EDITOR_SQL = (
    f"(editor IS NOT NULL AND (coalesce(CAST(json_extract(editor, '$.edits') AS INTEGER), 0) < {FEW_EDITS} "
    "OR coalesce(julianday(timestamp) - julianday(json_extract(editor, '$.registered')), "
    f"{NEW_ACCOUNT_DAYS}) < {NEW_ACCOUNT_DAYS}))"
)
# A record made by an IP address or a temporary account (no account facts by the contract).
UNREGISTERED_SQL = (
    "(editor IS NULL AND user IS NOT NULL AND (user GLOB '~[0-9][0-9][0-9][0-9]-*' "
    "OR user GLOB '[0-9]*.[0-9]*.[0-9]*.[0-9]*' OR user GLOB '*:*:*'))"
)


def account_age(editor: Mapping[str, Any], timestamp: str) -> timedelta | None:
    """How old the account was when it made the edit at ``timestamp``; None where unknown."""
    registered, edited = parse_utc(editor.get("registered")), parse_utc(timestamp)
    if registered is None or edited is None:
        return None
    return max(edited - registered, timedelta(0))


def edit_count(editor: Mapping[str, Any]) -> int | None:
    edits = editor.get("edits")
    return edits if isinstance(edits, int) and not isinstance(edits, bool) else None


def is_new_account(editor: Mapping[str, Any], timestamp: str) -> bool:
    """Registered less than NEW_ACCOUNT_DAYS before the edit, or fewer than FEW_EDITS edits."""
    age = account_age(editor, timestamp)
    return (edit_count(editor) or 0) < FEW_EDITS or (age is not None and age.days < NEW_ACCOUNT_DAYS)


# -- the cache ------------------------------------------------------------------------------------


def _fresh_since(now: datetime, max_age: timedelta) -> str:
    return iso_utc(now - max_age)


async def cached_editors(
    db: Store, names: Iterable[str], now: datetime, max_age: timedelta = EDITOR_MAX_AGE
) -> dict[str, dict[str, Any] | None]:
    """The names whose facts were fetched within ``max_age``: name → facts (None: no such account)."""
    wanted = list(dict.fromkeys(names))
    out: dict[str, dict[str, Any] | None] = {}
    since = _fresh_since(now, max_age)
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        rows = await db.fetchall(
            f"SELECT name, facts FROM editors WHERE fetched_at >= ? AND name IN ({','.join('?' * len(batch))})",
            [since, *batch],
        )
        for row in rows:
            out[row["name"]] = json.loads(row["facts"]) if row["facts"] else None
    return out


async def remember_editors(
    conn: Connection, facts: Mapping[str, Mapping[str, Any] | None], now: datetime
) -> None:
    """Keep fresh answers (inside the caller's transaction); rows older than a week are dropped."""
    stamp = iso_utc(now)
    await conn.executemany(
        "INSERT INTO editors (name, facts, fetched_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE "
        "SET facts = excluded.facts, fetched_at = excluded.fetched_at",
        [(name, json.dumps(value, sort_keys=True) if value is not None else None, stamp)
         for name, value in facts.items()],
    )  # fmt: skip
    await conn.execute("DELETE FROM editors WHERE fetched_at < ?", (iso_utc(now - timedelta(days=7)),))


async def tag_descriptions(db: Store) -> dict[str, str]:
    """Every tag description kept (tag → display name and description as text)."""
    return {
        row["tag"]: row["description"]
        for row in await db.fetchall("SELECT tag, description FROM change_tags")
    }


async def tags_fetched_at(db: Store) -> datetime | None:
    return parse_utc(await get_state(db, TAGS_FETCHED))


async def remember_tag_descriptions(conn: Connection, descriptions: Mapping[str, str], now: datetime) -> None:
    """Replace the kept descriptions with the wiki's whole list, and note when it was read."""
    stamp = iso_utc(now)
    await conn.execute("DELETE FROM change_tags")
    await conn.executemany(
        "INSERT INTO change_tags (tag, description, fetched_at) VALUES (?, ?, ?)",
        [(tag, text, stamp) for tag, text in descriptions.items()],
    )
    await set_state(conn, TAGS_FETCHED, stamp)


def decode_list(value: Any) -> tuple[str, ...] | None:
    """A JSON list column as a tuple of strings (None where the column is NULL or not a list)."""
    if value is None:
        return None
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    return tuple(str(v) for v in parsed) if isinstance(parsed, list) else None


def decode_object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def encode(value: Sequence[str] | Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(list(value) if not isinstance(value, Mapping) else dict(value), ensure_ascii=False)
