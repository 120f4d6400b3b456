"""How far a change's editor can be trusted, in words a curator reads where they decide.

:func:`trust_signals` is the one wording for the review page, the alerts and the digest: "new account
(3 days, 12 edits)", "long-standing editor (since 2011, 45,000 edits)", "blocked since 2026-03-01",
"bot", "IP address", "machine translation", "mobile edit", "made with CropTool", "reverted on Commons
by Jane Doe on 2026-03-02 (r123)". It reads the record alone (what the Action API said when it was
queued, and the undoing edit's user and time selected with it): no look-up, so a page of 200 changes
costs nothing more. What "new" means is written once, in
:mod:`watcher.store.editors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.base.tags import describe, tool_words
from watcher.base.text import plural
from watcher.base.times import parse_utc
from watcher.store.editors import (
    FEW_EDITS,
    LONG_STANDING_EDITS,
    LONG_STANDING_YEARS,
    NEW_ACCOUNT_DAYS,
    account_age,
    edit_count,
    is_temporary,
    is_unregistered,
)
from watcher.store.queue import ChangeRecord

__all__ = ["editor_signals", "trust_signals"]


def _edits(editor: Mapping[str, Any]) -> str | None:
    count = edit_count(editor)
    return plural(count, "edit") if count is not None else None


def _day(value: str | None) -> str | None:
    moment = parse_utc(value)
    return moment.strftime("%Y-%m-%d") if moment is not None else None


def _experience(editor: Mapping[str, Any], timestamp: str) -> str:
    """new account / few edits / long-standing editor / editor since YEAR, with its numbers."""
    edits = _edits(editor)
    count = edit_count(editor) or 0
    registered = parse_utc(editor.get("registered"))
    age = account_age(editor, timestamp)
    since = f"since {registered.year}" if registered is not None else None
    if age is not None and age.days < NEW_ACCOUNT_DAYS:
        days = plural(age.days, "day") if age.days else "less than a day"
        return f"new account ({', '.join(p for p in (days, edits) if p)})"
    if count < FEW_EDITS:
        return f"few edits ({', '.join(p for p in (since, edits or 'no edit count') if p)})"
    old = registered is None or (age is not None and age.days >= 365 * LONG_STANDING_YEARS)
    if old and count >= LONG_STANDING_EDITS:
        return f"long-standing editor ({', '.join(p for p in (since, edits) if p)})"
    return f"editor {', '.join(p for p in (since, edits) if p)}"


def editor_signals(user: str | None, editor: Mapping[str, Any] | None, timestamp: str) -> list[str]:
    """What the editor's account says: unregistered, bot, blocked, and how experienced."""
    if editor is None:
        if user and is_unregistered(user):
            return ["temporary account" if is_temporary(user) else "IP address (no account)"]
        return []
    signals: list[str] = []
    groups = editor.get("groups") or ()
    if "bot" in groups:
        signals.append("bot")
    if editor.get("blocked"):
        how = "partially blocked" if editor.get("block_partial") else "blocked"
        since = _day(editor.get("blocked_since"))
        signals.append(f"{how} since {since}" if since else how)
    signals.append(_experience(editor, timestamp))
    return signals


def _reverted(record: ChangeRecord) -> str | None:
    """ "reverted on Commons by Jane Doe on 2026-03-02 (r123)" where a later edit undid the record: who
    and when come with the record (``reverted_by_user``, ``reverted_at``: the undoing edit's provenance,
    selected with it), so the words cost no look-up; what is not known is left out."""
    if record.reverted_by is None:
        return None
    who = f" by {record.reverted_by_user}" if record.reverted_by_user else ""
    day = _day(record.reverted_at)
    when = f" on {day}" if day else ""
    if not who and not when:
        return f"reverted on Commons by r{record.reverted_by}"
    return f"reverted on Commons{who}{when} (r{record.reverted_by})"


def trust_signals(record: ChangeRecord) -> list[str]:
    """The record's trust signals in words, most telling first; empty where nothing is known."""
    signals = editor_signals(record.user, record.editor, record.timestamp)
    words = record.tools if record.tools is not None else tool_words(record.tags or ())
    signals += [describe(word) for word in words]
    reverted = _reverted(record)
    if reverted is not None:
        signals.append(reverted)
    return signals
