"""The tracked-set part of `watcher status`: files per reason, object ids per rule, the last API error.

The same counts as the summary lines of `watcher tracked`, from the database only (no request): the
object ids are those the last `watcher tracked` stored (:mod:`watcher.tracking.objectids`), with when
they were looked up, so a stale answer reads as one. A database from before migration 7 (read while a
newer watcher has not yet migrated it) gives None rather than an error.
"""

from __future__ import annotations

import logging
from typing import Any

from watcher.base.text import one_line, plural
from watcher.base.values import TRACKED_REASONS
from watcher.config import Config
from watcher.export.tracked_files import rules_in_order
from watcher.store import tracked as store_tracked
from watcher.store.engine import STATEMENT_ERRORS, Store
from watcher.tracking.objectids import rule_label

log = logging.getLogger("watcher.status")


async def tracked_snapshot(db: Store, config: Config) -> dict[str, Any] | None:
    """``tracked_summary`` of `watcher status --format json` (additive; None where unreadable)."""
    try:
        summary = await store_tracked.tracked_summary(db)
    except STATEMENT_ERRORS as exc:
        log.debug("tracked summary unreadable: %s", exc)
        return None
    labels = list(dict.fromkeys(rule_label(rule) for c in config.collections for rule in c.object_id))
    collections = [
        {"name": c.name, "title": c.title, "files": await store_tracked.collection_file_count(db, c.name)}
        for c in config.collections
    ]
    return {
        "files": summary.files,
        "collections": collections,
        "by_reason": {reason: summary.by_reason.get(reason, 0) for reason in TRACKED_REASONS},
        "by_source": [
            {"reason": reason, "detail": detail, "files": count}
            for reason, detail, count in summary.by_detail
        ],
        "object_ids": {
            "with": summary.with_object_id,
            "without": summary.without_object_id,
            "not_looked_up": summary.never_checked,
            "by_rule": [
                {"rule": number, "text": label, "files": count}
                for number, label, count in rules_in_order(summary.by_rule, labels)
            ],
            "looked_up_from": summary.oldest_check,
            "looked_up_to": summary.newest_check,
        },
    }


def _n(count: int, word: str, many: str | None = None) -> str:
    return plural(count, word, many, thousands=" ")


def tracked_lines(snapshot: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The text lines (label, text) of `watcher status` for the tracked summary."""
    if not snapshot:
        return []
    reasons = ", ".join(
        f"{count:,} by {reason}".replace(",", " ") for reason, count in snapshot["by_reason"].items()
    )
    ids = snapshot["object_ids"]
    parts = [f"rule {r['rule']}: {r['files']:,}".replace(",", " ") if r["rule"] else
             f"a rule no longer configured: {r['files']:,}".replace(",", " ") for r in ids["by_rule"]]  # fmt: skip
    if ids["without"]:
        parts.append(f"no rule matched: {ids['without']:,}".replace(",", " "))
    if ids["not_looked_up"]:
        parts.append(f"not looked up: {ids['not_looked_up']:,}".replace(",", " "))
    when = f", looked up {ids['looked_up_to'][:16].replace('T', ' ')} UTC" if ids["looked_up_to"] else ""
    text = f"{ids['with']:,}".replace(",", " ") + f" of {_n(snapshot['files'], 'file')}{when}"
    if parts:
        text += f" ({'; '.join(parts)})"
    if not ids["looked_up_to"] and snapshot["files"]:
        text += "; `watcher tracked` looks them up"
    lines = [("tracked because", one_line(reasons)), ("object ids", one_line(text))]
    collections = snapshot.get("collections") or []
    if len(collections) > 1:  # the agency's view: how many files each collection tracks
        each = ", ".join(f"{c['name']} {_n(c['files'], 'file')}" for c in collections)
        lines.insert(0, ("collections", one_line(each)))
    return lines


def api_error_line(status: dict[str, Any]) -> tuple[str, str] | None:
    """("last API error", "at TIME: TEXT"), where the daemon has recorded one."""
    text = status.get("api_last_error")
    if not text:
        return None
    return ("last API error", f"{status.get('api_last_error_at') or 'time unknown'}: {one_line(str(text))}")
