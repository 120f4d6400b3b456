"""Second look-ups that confirm what a listing left out: is a page still in a category, still using a
template, still there at all?

A listing that no longer names a file says nothing about why; before the tracked set drops many files
(:mod:`watcher.tracking.resolver`), each removal is asked about page by page (``prop=categories`` with
``clcategories=``, ``prop=templates`` with ``tltemplates=``, 50 titles a request). Only what the answer
names counts: a title it leaves out is neither confirmed nor refuted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.wire import chunks, follow_renames, is_gone, named_pages, query_part

__all__ = ["Membership", "memberships"]

Membership = Literal["categories", "templates"]
_PREFIX: dict[Membership, str] = {"categories": "cl", "templates": "tl"}


async def memberships(
    api: ActionApi, titles: Sequence[str], prop: Membership, only: Sequence[str] = ()
) -> dict[str, frozenset[str] | None]:
    """Requested title → the categories (or templates) the page has, limited to ``only`` where given,
    or None where the API says there is no such page. Titles the answer does not name are absent.

    Redirects are not followed: a moved file's old title is a redirect page, in no category.
    """
    result: dict[str, frozenset[str] | None] = {}
    prefix = _PREFIX[prop]
    for batch in chunks(list(dict.fromkeys(titles))):
        params: dict[str, str | int] = {
            "action": "query",
            "titles": "|".join(batch),
            "prop": prop,
            f"{prefix}limit": "max",
        }
        if only:
            params[f"{prefix}{prop}"] = "|".join(only)
        renamed: dict[str, str] = {}
        named: dict[str, set[str] | None] = {}
        async for data in api.query_continue(params):
            renamed.update(
                {n["from"]: n["to"] for n in query_part(data).get("normalized", []) if isinstance(n, dict)}
            )
            for page in named_pages(data):
                _merge(named, page, prop)
        for asked in batch:
            target = follow_renames(renamed, asked)
            if target in named:
                found = named[target]
                result[asked] = None if found is None else frozenset(found)
    return result


def _merge(named: dict[str, set[str] | None], page: dict[str, Any], prop: Membership) -> None:
    """Add one page entry of one response (continued responses repeat a page with more entries)."""
    title = page.get("title")
    if not isinstance(title, str):
        return
    if is_gone(page) or page.get("invalid"):
        named[title] = None
        return
    entries = page.get(prop)
    found = named.setdefault(title, set())
    if found is not None and isinstance(entries, list):
        found.update(str(e["title"]) for e in entries if isinstance(e, dict) and "title" in e)
