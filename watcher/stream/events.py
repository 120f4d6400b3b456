"""What a recentchange event means for the watcher: pure interpretation, no I/O.

Works for EventStreams events and for MediaWiki's own JSON RC feed (no ``meta``, ``revision.old``
null on page creation), so the daemon is right for both.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_CATEGORIZE = re.compile(
    r"^\s*\[\[:(?P<title>[^\]|]+)(?:\|[^\]]*)?\]\]\s+(?:and\s+\d+\s+other\s+pages?\s+)?"
    r"(?P<verb>added to|removed from) category",
)
_CATEGORIZE_BARE = re.compile(r"^\s*(?P<verb>added to|removed from) category")


@dataclass(frozen=True, slots=True)
class RecentChange:
    """The fields of a recentchange event that the watcher uses, checked and typed."""

    key: str
    wiki: str
    type: str
    namespace: int | None
    title: str
    user: str | None
    bot: bool
    comment: str
    timestamp: str
    old_revision: int | None
    new_revision: int | None
    log_type: str | None
    log_action: str | None
    log_params: Any
    dt: str | None
    is_canary: bool
    raw: dict[str, Any]


class MalformedEvent(ValueError):
    """The event lacks what every recentchange event has; the message says what."""


def event_key(event: dict[str, Any]) -> str:
    """A stable identity for deduplication.

    The wiki's own recent-change id comes first: it is the same whichever data centre delivered the
    event (a DC switchover may deliver one change twice under two ``meta.id``s) and whether the event
    came from the stream or from the Action API's ``list=recentchanges`` during a catch-up, so the
    seam between the two cannot repeat an event. Then ``meta.id``, then a hash of the payload.
    """
    rcid = event.get("id")
    if isinstance(rcid, int) and not isinstance(rcid, bool) and event.get("wiki"):
        return f"{event['wiki']}:rc:{rcid}"
    meta = event.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("id"), str) and meta["id"]:
        return str(meta["id"])
    payload = json.dumps(event, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_event(event: dict[str, Any]) -> RecentChange:
    """Check the fields the watcher relies on; raise :class:`MalformedEvent` naming what is wrong."""
    if not isinstance(event, dict):
        raise MalformedEvent("event is not a JSON object")
    wiki = event.get("wiki")
    kind = event.get("type")
    title = event.get("title")
    if not isinstance(wiki, str) or not wiki:
        raise MalformedEvent("no 'wiki'")
    if not isinstance(kind, str):
        raise MalformedEvent("no 'type'")
    if not isinstance(title, str) or not title:
        raise MalformedEvent("no 'title'")
    meta = event.get("meta") if isinstance(event.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    revision = event.get("revision") if isinstance(event.get("revision"), dict) else {}
    assert isinstance(revision, dict)
    stamp = event.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        timestamp = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(meta.get("dt"), str):
        timestamp = _normalise_dt(meta["dt"])
    else:
        raise MalformedEvent("no 'timestamp'")
    user = event.get("user")
    comment = event.get("comment")
    return RecentChange(
        key=event_key(event),
        wiki=wiki,
        type=kind,
        namespace=_int_or_none(event.get("namespace")),
        title=title,
        user=user if isinstance(user, str) else None,
        bot=bool(event.get("bot")),
        comment=comment if isinstance(comment, str) else "",
        timestamp=timestamp,
        old_revision=_int_or_none(revision.get("old")),
        new_revision=_int_or_none(revision.get("new")),
        log_type=event.get("log_type") if isinstance(event.get("log_type"), str) else None,
        log_action=event.get("log_action") if isinstance(event.get("log_action"), str) else None,
        log_params=event.get("log_params"),
        dt=meta.get("dt") if isinstance(meta.get("dt"), str) else None,
        is_canary=meta.get("domain") == "canary",
        raw=event,
    )


def _normalise_dt(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedEvent(f"bad meta.dt {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# What an event asks of the watcher. The daemon dispatches on these.


@dataclass(frozen=True, slots=True)
class Edit:
    """A new revision of a page; both revision ids are known (old is None for a page creation)."""

    change: RecentChange
    title: str
    old_revision: int | None
    new_revision: int


@dataclass(frozen=True, slots=True)
class Categorized:
    """A page joined or left a category. ``member`` is None where the comment names no page."""

    change: RecentChange
    category: str
    member: str | None
    added: bool


@dataclass(frozen=True, slots=True)
class Uploaded:
    change: RecentChange
    title: str
    action: str  # upload | overwrite | revert


@dataclass(frozen=True, slots=True)
class Moved:
    change: RecentChange
    old_title: str
    new_title: str


@dataclass(frozen=True, slots=True)
class Deleted:
    change: RecentChange
    title: str
    restored: bool


@dataclass(frozen=True, slots=True)
class RevisionsHidden:
    """Revision deletion or suppression of some of a page's revisions (a ``delete``/``revision`` or
    ``suppress``/``revision`` log event). ``revisions``: the ids the log names (empty where it names
    none we can read); ``content``: whether their content is hidden now (None: the event does not say).
    """

    change: RecentChange
    title: str
    revisions: tuple[int, ...]
    content: bool | None


Meaning = Edit | Categorized | Uploaded | Moved | Deleted | RevisionsHidden

# Log types whose ``revision`` action hides parts of revisions: revision deletion, and suppression
# (which Wikimedia keeps out of the public logs, so it seldom reaches the stream).
_REVISION_HIDING_LOGS = ("delete", "suppress")
_DELETED_TEXT = 1  # RevisionRecord::DELETED_TEXT, in the log's bitmasks


def categorize_member(comment: str) -> tuple[str | None, bool] | None:
    """The page a categorize event names in its comment, and whether it was added (None: not one)."""
    match = _CATEGORIZE.match(comment)
    if match:
        title = match.group("title").strip().replace("_", " ")
        return title, match.group("verb") == "added to"
    bare = _CATEGORIZE_BARE.match(comment)
    if bare:
        return None, bare.group("verb") == "added to"
    return None


def move_target(params: Any) -> str | None:
    """The new title of a move log event (EventStreams strips the ``4::`` prefix; the RC feed may not)."""
    if isinstance(params, dict):
        for key in ("target", "4::target", "target_title"):
            value = params.get(key)
            if isinstance(value, str) and value:
                return value.replace("_", " ")
    return None


def hidden_revisions(params: Any) -> tuple[tuple[int, ...], bool | None]:
    """The revision ids a revision-deletion log event names, and whether their content is hidden now.

    EventStreams and MediaWiki's JSON feed give ``{"type": "revision", "ids": [...], "ofield": 0,
    "nfield": 3}``; ``list=recentchanges`` (the catch-up path) gives ``"old"``/``"new"`` objects with a
    ``bitmask`` instead of ``ofield``/``nfield``. Ids may come as numbers or digit strings.
    """
    if not isinstance(params, dict):
        return (), None
    raw = params.get("ids")
    listed = list(raw) if isinstance(raw, list | dict) else [raw]  # a dict: ids as its keys
    ids = tuple(dict.fromkeys(i for i in (_int_or_none(v) for v in listed) if i is not None and i > 0))
    now = params.get("nfield")
    if now is None and isinstance(params.get("new"), dict):
        now = params["new"].get("bitmask")
    bits = _int_or_none(now)
    return ids, (None if bits is None else bool(bits & _DELETED_TEXT))


def interpret(change: RecentChange) -> Meaning | None:
    """What this event means for a file watcher; None for events that cannot concern one."""
    if change.type in ("edit", "new"):
        if change.new_revision is None:
            return None
        return Edit(
            change, change.title, change.old_revision if change.type == "edit" else None, change.new_revision
        )
    if change.type == "categorize":
        found = categorize_member(change.comment)
        if found is None:
            return None
        member, added = found
        return Categorized(change, change.title, member, added)
    if change.type == "log":
        if change.log_type == "upload" and change.log_action in ("upload", "overwrite", "revert"):
            return Uploaded(change, change.title, change.log_action)
        if change.log_type == "move" and change.log_action in ("move", "move_redir"):
            target = move_target(change.log_params)
            return Moved(change, change.title, target) if target else None
        if change.log_type == "delete" and change.log_action in ("delete", "restore"):
            return Deleted(change, change.title, restored=change.log_action == "restore")
        if change.log_type in _REVISION_HIDING_LOGS and change.log_action == "revision":
            params = change.log_params
            if isinstance(params, dict) and params.get("type", "revision") != "revision":
                return None  # old file versions, deleted revisions, log entries: not a page's text
            revisions, content = hidden_revisions(params)
            return RevisionsHidden(change, change.title, revisions, content)
    return None
