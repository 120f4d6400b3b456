"""What the live client and the bulk queries share: values batched into requests, parts of responses.

Kept apart from :mod:`watcher.mediawiki.client` so that :mod:`watcher.mediawiki.bulk` reads responses
with the very same helpers instead of copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["BATCH_SIZE", "chunks", "follow_renames", "query_part", "revision_head"]

BATCH_SIZE = 50  # titles/pageids/revids/ids/users per request without apihighlimits


def chunks(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterable[Sequence[Any]]:
    """``items`` in slices of ``size``, one per request."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def query_part(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``query`` object of a response (empty when it has none)."""
    query = data.get("query")
    return query if isinstance(query, dict) else {}


def follow_renames(renames: Mapping[str, str], title: str) -> str:
    """Where ``title`` ends after the response's ``normalized``/``redirects`` hops (loops are cut)."""
    for _ in range(len(renames) + 1):  # the API resolves chains; guard against loops anyway
        if title not in renames:
            break
        title = renames[title]
    return title


def revision_head(page: Mapping[str, Any], raw: Mapping[str, Any]) -> tuple[int, int, int, str, str]:
    """revid, parentid (0 for a page's first revision), pageid, title and timestamp of one revision of
    ``page``: what every revision record starts with."""
    return (
        int(raw["revid"]),
        int(raw.get("parentid") or 0),
        int(page.get("pageid") or 0),
        str(page.get("title", "")),
        str(raw.get("timestamp", "")),
    )
