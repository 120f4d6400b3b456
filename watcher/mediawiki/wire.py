"""What the live client and the bulk queries share: values batched into requests, parts of responses.

Kept apart from :mod:`watcher.mediawiki.client` so that :mod:`watcher.mediawiki.bulk` reads responses
with the very same helpers instead of copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from watcher.mediawiki.types import Unanswered

__all__ = [
    "BATCH_SIZE",
    "chunks",
    "follow_renames",
    "gone_revids",
    "listed",
    "named_pages",
    "query_part",
    "revision_entries",
    "revision_head",
]

# Flags under which the API says a page or revision is not there (formatversion=2 booleans).
GONE_FLAGS = ("missing", "deleted")

BATCH_SIZE = 50  # titles/pageids/revids/ids/users per request without apihighlimits


def chunks(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterable[Sequence[Any]]:
    """``items`` in slices of ``size``, one per request."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def query_part(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``query`` object of a response (empty when it has none)."""
    query = data.get("query")
    return query if isinstance(query, dict) else {}


def listed(data: Mapping[str, Any], name: str) -> list[Any]:
    """The ``query.<name>`` list of a ``list=<name>`` answer.

    MediaWiki always sends the list, empty where nothing matches, so an answer without it (``{}``,
    no ``query``) did not come from a list module: :class:`Unanswered`, never an empty listing.
    """
    items = query_part(data).get(name)
    if not isinstance(items, list):
        raise Unanswered(f"the answer to list={name} holds no query.{name} (keys: {_keys(data)})")
    return items


def named_pages(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The page entries of an answer (``query.pages``), leaving out anything that is not an object."""
    pages = query_part(data).get("pages")
    return [p for p in pages if isinstance(p, dict)] if isinstance(pages, list) else []


def is_gone(entry: Mapping[str, Any]) -> bool:
    """Whether a page or revision entry says it is not there (deleted, missing, suppressed)."""
    return any(bool(entry.get(flag)) for flag in GONE_FLAGS)


def revision_entries(data: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(page, revision) for every revision an answer holds that is there (gone ones are left out)."""
    for page in named_pages(data):
        revisions = page.get("revisions")
        for raw in revisions if isinstance(revisions, list) else []:
            if isinstance(raw, dict) and "revid" in raw and not is_gone(raw) and not is_gone(page):
                yield page, raw


def gone_revids(data: Mapping[str, Any]) -> set[int]:
    """The revids an answer itself says are gone: the key of a ``badrevids`` entry that names that same
    id (``{"123": {"revid": 123, "missing": true}}``), or a revision entry flagged (or on a page
    flagged) missing/deleted. Ids an answer merely leaves out are not among them."""
    gone: set[int] = set()
    bad = query_part(data).get("badrevids")
    entries: list[tuple[Any, Any]] = []
    if isinstance(bad, dict):  # formatversion=2: keyed by the revid
        entries = list(bad.items())
    elif isinstance(bad, list):
        entries = [(None, entry) for entry in bad]
    for key, entry in entries:
        revid = _revid_named(key, entry)
        if revid is not None:
            gone.add(revid)
    for page in named_pages(data):
        revisions = page.get("revisions")
        for raw in revisions if isinstance(revisions, list) else []:
            if isinstance(raw, dict) and (is_gone(raw) or is_gone(page)):
                revid = _revid_named(None, raw)
                if revid is not None:
                    gone.add(revid)
    return gone


def _revid_named(key: Any, entry: Any) -> int | None:
    """The revid a ``badrevids`` or revision entry names, where key and entry agree on exactly one."""
    named: set[int] = set()
    for value in (key, entry.get("revid") if isinstance(entry, dict) else None):
        if value is None:
            continue
        try:
            named.add(int(value))
        except (TypeError, ValueError):
            return None
    return named.pop() if len(named) == 1 else None


def _keys(data: Mapping[str, Any]) -> str:
    return ", ".join(sorted(str(k) for k in data)) or "none"


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
