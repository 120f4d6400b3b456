"""The bulk Action API queries of history mode, each chosen for the most results per request.

What the real API allows without ``apihighlimits`` (mediawiki.org API:Query, API:Revisions,
API:Usercontribs; ``includes/api/ApiQueryRevisions.php``):

- ``pageids=``/``titles=``/``revids=`` take 50 values, so ``prop=info`` or ``prop=revisions`` by page id
  costs one request per 50 files.
- A generator's page set is as large as the generator's limit: ``generator=categorymembers`` (and
  ``embeddedin``) with ``g…limit=max`` gives 500 pages per request. ``prop=revisions`` without
  ``rvlimit``/``rvstart``/… is "non-enumeration mode": the latest revision of every page in the set,
  with the limit forced to ``max`` (500 without content). So one request gives the latest revision
  id, its parent, author and time of 500 category members; ``prop=info`` would give only ``lastrevid``.
- ``list=usercontribs`` takes up to 50 users and 500 rows per request.
- A page's history (``rvlimit=max``) is single-page mode only: one request per file. Walking parents
  through ``revids=`` (50 per request, no content) is cheaper as long as a file has fewer than 50 edits
  to walk, which is why :mod:`watcher.history.run` walks first and reads whole histories only for the rest.
- ``list=users&usprop=groups`` takes 50 names: revisions carry no bot flag, so this is how bot edits
  are recognised (action-api.md).

An answer that leaves out a requested page or revision without naming it missing raises
:class:`~watcher.mediawiki.types.Unanswered`: history mode then stops (to be resumed) instead of
skipping files as "missing" because a proxy answered ``{}``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.types import Contribution, RevisionMeta, Revisions, Unanswered, unanswered_message
from watcher.mediawiki.wire import (
    chunks,
    follow_renames,
    gone_revids,
    is_gone,
    listed,
    named_pages,
    query_part,
    revision_entries,
    revision_head,
)

META_PROPS = "ids|timestamp|user|tags"  # tags cost no request: history records carry them


def _meta(page: Mapping[str, Any], raw: Mapping[str, Any]) -> RevisionMeta:
    user = raw.get("user")
    tags = raw.get("tags")
    return RevisionMeta(
        *revision_head(page, raw),
        user=user if isinstance(user, str) and not raw.get("userhidden") else None,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )


def _latest_of(data: Mapping[str, Any]) -> list[RevisionMeta]:
    out: list[RevisionMeta] = []
    for page in named_pages(data):
        revisions = page.get("revisions")
        if not is_gone(page) and isinstance(revisions, list) and revisions and isinstance(revisions[0], dict):
            out.append(_meta(page, revisions[0]))
    return out


async def latest_in_category(api: ActionApi, category: str) -> AsyncGenerator[list[RevisionMeta], None]:
    """The latest revision of every file in the category, one list per response (500 files)."""
    params = {
        "action": "query",
        "generator": "categorymembers",
        "gcmtitle": category,
        "gcmtype": "file",
        "gcmlimit": "max",
        "prop": "revisions",
        "rvprop": META_PROPS,
    }
    async for data in api.query_continue(params):
        yield _latest_of(data)


async def latest_embedding(api: ActionApi, template: str) -> AsyncGenerator[list[RevisionMeta], None]:
    """The latest revision of every file page that transcludes the template (500 per response)."""
    params: dict[str, str | int] = {
        "action": "query",
        "generator": "embeddedin",
        "geititle": template,
        "geinamespace": 6,
        "geilimit": "max",
        "prop": "revisions",
        "rvprop": META_PROPS,
    }
    async for data in api.query_continue(params):
        yield _latest_of(data)


async def latest_by_pageids(
    api: ActionApi, pageids: Sequence[int]
) -> AsyncGenerator[tuple[list[RevisionMeta], list[int]], None]:
    """Latest revisions of the given pages, 50 per request: (found, page ids the API named missing).

    A page id the answer does not name at all raises :class:`Unanswered`."""
    for batch in chunks(list(dict.fromkeys(pageids))):
        params = {
            "action": "query",
            "pageids": "|".join(str(p) for p in batch),
            "prop": "revisions",
            "rvprop": META_PROPS,
        }
        found: list[RevisionMeta] = []
        named_missing: set[int] = set()
        async for data in api.query_continue(params):
            found += _latest_of(data)
            named_missing |= {int(p.get("pageid") or 0) for p in named_pages(data) if is_gone(p)}
        seen = {meta.pageid for meta in found}
        unanswered = [p for p in batch if p not in seen and p not in named_missing]
        if unanswered:
            raise Unanswered(f"the API answer named neither page id {unanswered[0]} nor its absence")
        yield found, [p for p in batch if p not in seen]


async def latest_by_titles(
    api: ActionApi, titles: Sequence[str]
) -> AsyncGenerator[dict[str, RevisionMeta | None], None]:
    """Latest revisions by title, 50 per request, following redirects (a moved file): asked title →
    the latest revision of the page it leads to, or None where the API says there is no such page
    (missing, invalid, interwiki). A title the answer does not name raises :class:`Unanswered`."""
    for batch in chunks(list(dict.fromkeys(titles))):
        params: dict[str, str | int] = {
            "action": "query",
            "titles": "|".join(batch),
            "redirects": 1,
            "prop": "revisions",
            "rvprop": META_PROPS,
        }
        renamed: dict[str, str] = {}
        latest: dict[str, RevisionMeta] = {}
        absent: set[str] = set()
        async for data in api.query_continue(params):
            query = query_part(data)
            for key in ("normalized", "redirects"):
                renamed.update({r["from"]: r["to"] for r in query.get(key, []) if isinstance(r, dict)})
            latest.update({meta.title: meta for meta in _latest_of(data)})
            absent |= {str(p.get("title")) for p in named_pages(data) if is_gone(p) or p.get("invalid")}
            absent |= {str(i.get("title")) for i in query.get("interwiki", []) if isinstance(i, dict)}
        out: dict[str, RevisionMeta | None] = {}
        for asked in batch:
            target = follow_renames(renamed, asked)
            if target not in latest and target not in absent:
                raise Unanswered(f"the API answer named neither {asked} nor its absence")
            out[asked] = latest.get(target)
        yield out


async def category_file_counts(api: ActionApi, categories: Sequence[str]) -> dict[str, int]:
    """How many files each category holds (``prop=categoryinfo``, 50 categories per request)."""
    counts: dict[str, int] = {}
    for batch in chunks(list(dict.fromkeys(categories))):
        params = {"action": "query", "titles": "|".join(batch), "prop": "categoryinfo"}
        async for data in api.query_continue(params):
            for page in query_part(data).get("pages", []):
                info = page.get("categoryinfo") if isinstance(page, dict) else None
                if isinstance(info, dict) and isinstance(page.get("title"), str):
                    counts[page["title"]] = int(info.get("files") or 0)
    return counts


async def contributions(
    api: ActionApi, users: Sequence[str], *, namespace: int = 6
) -> AsyncGenerator[list[Contribution], None]:
    """The users' edits in the namespace, newest first, one list per response (500 rows, 50 users)."""
    for batch in chunks(list(dict.fromkeys(users))):
        params: dict[str, str | int] = {
            "action": "query",
            "list": "usercontribs",
            "ucuser": "|".join(batch),
            "ucnamespace": namespace,
            "uclimit": "max",
            "ucprop": "ids|title|timestamp|flags",
        }
        async for data in api.query_continue(params):
            rows: list[Contribution] = []
            for raw in listed(data, "usercontribs"):
                if not isinstance(raw, dict) or "revid" not in raw:
                    continue
                rows.append(
                    Contribution(
                        revid=int(raw["revid"]),
                        parentid=int(raw.get("parentid") or 0),
                        pageid=int(raw.get("pageid") or 0),
                        title=str(raw.get("title", "")),
                        timestamp=str(raw.get("timestamp", "")),
                        user=str(raw.get("user", "")),
                        top=bool(raw.get("top")),
                    )
                )
            yield rows


async def revision_metas(api: ActionApi, revids: Sequence[int]) -> tuple[dict[int, RevisionMeta], set[int]]:
    """Ids, parent, author and time of revisions, 50 per request: (found by revid, revids the API named
    gone). A revid the answer names neither way raises :class:`Unanswered`, so a walk never takes an
    empty answer for a deleted parent."""
    wanted = list(dict.fromkeys(int(r) for r in revids))
    found: dict[int, RevisionMeta] = {}
    gone: set[int] = set()
    for batch in chunks(wanted):
        params = {
            "action": "query",
            "revids": "|".join(str(r) for r in batch),
            "prop": "revisions",
            "rvprop": META_PROPS,
        }
        async for data in api.query_continue(params):
            for page, raw in revision_entries(data):
                meta = _meta(page, raw)
                found[meta.revid] = meta
            gone |= gone_revids(data)
    answer = Revisions(found, gone & set(wanted))
    unanswered = answer.unanswered(wanted)
    if unanswered:
        raise Unanswered(unanswered_message(unanswered))
    return found, set(answer.gone)


async def page_history(api: ActionApi, pageid: int, start_id: int) -> AsyncGenerator[RevisionMeta, None]:
    """A page's revisions from ``start_id`` back to its creation, newest first (500 per request).

    The caller stops iterating once it has what it needs; later pages are then never requested.
    A deleted page ends the history; an answer that does not name the page raises :class:`Unanswered`.
    """
    params: dict[str, str | int] = {
        "action": "query",
        "pageids": pageid,
        "prop": "revisions",
        "rvprop": META_PROPS,
        "rvlimit": "max",
        "rvstartid": start_id,
    }
    async for data in api.query_continue(params):
        pages = [p for p in named_pages(data) if int(p.get("pageid") or 0) == pageid]
        if not pages:
            raise Unanswered(f"the API answer named neither page id {pageid} nor its absence")
        if any(is_gone(p) for p in pages):
            return
        for page, raw in revision_entries(data):
            yield _meta(page, raw)


async def user_groups(api: ActionApi, users: Sequence[str]) -> dict[str, frozenset[str]]:
    """Each named user's groups (IPs and unknown names get none), 50 names per request."""
    groups: dict[str, frozenset[str]] = {}
    for batch in chunks(sorted(set(users))):
        params = {"action": "query", "list": "users", "ususers": "|".join(batch), "usprop": "groups"}
        data = await api.request(params)
        for raw in listed(data, "users"):
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                groups[raw["name"]] = frozenset(str(g) for g in raw.get("groups") or ())
    return groups
