"""Turns the stand-in wiki's recent changes into EventStreams ``recentchange`` events.

What the real pipeline does (MediaWiki → EventBus → Kafka → EventStreams), in miniature: the fake
wiki of :mod:`watcher.demo.standins.action_api_wiki` records every change as MediaWiki would, and this
bridge gives each one the shape EventStreams serves (``meta``, ``$schema``, log params without their
``4::`` prefixes, ``revision.old`` absent on page creation), so the end-to-end tests and
``watcher demo`` drive the daemon with events that match the revisions the Action API serves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from watcher.demo.standins.action_api_titles import namespace_of
from watcher.demo.standins.action_api_wiki import RecentChange


def rc_to_event(
    change: RecentChange,
    *,
    wiki: str = "commonswiki",
    server_url: str = "https://commons.wikimedia.org",
    dt: datetime | None = None,
    topic: str = "eqiad.mediawiki.recentchange",
) -> dict[str, Any]:
    """One EventStreams event for one recent change. ``dt`` (meta.dt) defaults to now."""
    host = urlsplit(server_url).hostname or "localhost"
    moment = dt or datetime.now(UTC)
    edit_time = datetime.fromisoformat(change.timestamp.replace("Z", "+00:00"))
    page_url = f"{server_url}/wiki/{quote(change.title.replace(' ', '_'))}"
    event: dict[str, Any] = {
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {
            "uri": page_url,
            "request_id": str(uuid.uuid4()),
            "id": str(uuid.uuid4()),
            "domain": host,
            "stream": "mediawiki.recentchange",
            "dt": moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "topic": topic,
            "partition": 0,
        },
        "id": change.rcid,
        "type": change.type,
        "namespace": namespace_of(change.title),
        "title": change.title,
        "title_url": page_url,
        "comment": change.comment,
        "timestamp": int(edit_time.timestamp()),
        "user": change.user,
        "bot": change.bot,
        "server_url": server_url,
        "server_name": host,
        "server_script_path": "/w",
        "wiki": wiki,
    }
    if change.type in ("edit", "new"):
        event["minor"] = change.minor
        event["length"] = (
            {"new": change.newlen} if change.type == "new" else {"old": change.oldlen, "new": change.newlen}
        )
        event["revision"] = (
            {"new": change.revid} if change.type == "new" else {"old": change.old_revid, "new": change.revid}
        )
        if change.type == "edit":
            event["notify_url"] = (
                f"{server_url}/w/index.php?diff={change.revid}&oldid={change.old_revid}&rcid={change.rcid}"
            )
    elif change.type == "log" and change.log is not None:
        entry = change.log
        event["log_id"] = entry.logid
        event["log_type"] = entry.type
        event["log_action"] = entry.action
        event["log_params"] = _log_params(entry.type, entry.params)
        event["log_action_comment"] = entry.comment
    return event


def _log_params(kind: str, params: dict[str, Any]) -> Any:
    """Log params as the RC feed formatter writes them (``target``/``noredir`` for moves, [] if none)."""
    if kind == "move":
        return {
            "target": params.get("target_title", ""),
            "noredir": "1" if params.get("suppressredirect") else "0",
        }
    if kind == "delete" and params.get("type") == "revision":  # revision deletion: the bitmasks
        return {
            "type": "revision",
            "ids": list(params.get("ids", [])),
            "ofield": params.get("old", {}).get("bitmask", 0),
            "nfield": params.get("new", {}).get("bitmask", 0),
        }
    return dict(params) if params else []


class WikiBridge:
    """Remembers how far it has published, so callers can publish whatever the wiki did since."""

    def __init__(self, wiki_changes: list[RecentChange], **options: Any) -> None:
        self.changes = wiki_changes
        self.options = options
        self.published = 0

    def pending(self) -> list[dict[str, Any]]:
        """Events for the recent changes not yet taken, in order."""
        fresh = self.changes[self.published :]
        self.published = len(self.changes)
        return [rc_to_event(change, **self.options) for change in fresh]
