"""``action=query`` page sets and prop modules, and ``action=wbgetentities``, of the Action API stand-in.

Shapes follow the real API with ``formatversion=2`` (``includes/api/ApiPageSet.php``,
``ApiQueryRevisionsBase.php``, ``ApiQueryInfo.php``, ``ApiQueryImageInfo.php``, Wikibase's
``GetEntities``): ``query.pages[]`` with ``normalized``/``redirects``/``badrevids``,
``slots.<role>.content``, ``missing: true``. Generators are the list modules that can generate
(``generator=categorymembers|embeddedin`` with ``g``-prefixed parameters and ``g…continue``); what
the stand-in does not implement (other generators, ``meta=``) is refused with a ``badvalue`` error
rather than answered wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watcher.demo.standins.action_api_context import Context, UsageError, title_out, token, window
from watcher.demo.standins.action_api_images import url_fields
from watcher.demo.standins.action_api_lists import LISTERS
from watcher.demo.standins.action_api_titles import InvalidTitle, compact, split_title
from watcher.demo.standins.action_api_wiki import FakePage, FakeRevision, Wiki

PROPS = ("revisions", "info", "imageinfo", "categoryinfo", "redirects")
GENERATORS = ("categorymembers", "embeddedin")
RV_PROPS = tuple(
    [
        "ids",
        "flags",
        "timestamp",
        "user",
        "userid",
        "size",
        "slotsize",
        "sha1",
        "slotsha1",
        "contentmodel",
        "comment",
        "parsedcomment",
        "content",
        "tags",
        "roles",
    ]
)
RV_ENUM = ("rvlimit", "rvstart", "rvend", "rvdir", "rvstartid", "rvendid", "rvuser", "rvexcludeuser")


# -- action=query -------------------------------------------------------------------------------


@dataclass
class _Entry:
    out: dict[str, Any]
    page: FakePage | None
    revisions: list[FakeRevision] | None = None  # revids mode: the requested ones


def run_query(ctx: Context) -> dict[str, Any]:
    if ctx.has("meta"):
        raise UsageError("badvalue", "The stand-in implements no meta modules.")
    generator = ctx.get("generator")
    if generator is not None and generator not in GENERATORS:
        raise UsageError("badvalue", f'Unrecognized value for parameter "generator": {generator}.')
    props = ctx.strict_multi("prop", PROPS)
    lists = ctx.strict_multi("list", tuple(LISTERS))
    query: dict[str, Any] = {}
    entries = (_generated(ctx, generator) if generator is not None else _pageset(ctx, query)) or []
    existing = [e for e in entries if e.page is not None]
    for entry in existing:
        if "revisions" in props:
            _prop_revisions(ctx, entry, by_revids=ctx.has("revids"), single=len(entries) == 1)
        if "info" in props:
            _prop_info(entry)
        if "imageinfo" in props:
            _prop_imageinfo(ctx, entry)
        if "redirects" in props:
            _prop_redirects(ctx, entry)
    if "redirects" in props:
        ctx.recognise("rd")
    if not existing:  # the modules were asked for, so their parameters are not "unrecognized"
        prefixes = {
            "revisions": "rv",
            "info": "in",
            "imageinfo": "ii",
            "redirects": "rd",
            "categoryinfo": "ci",
        }
        ctx.recognise(*(prefixes[p] for p in props))
    if "imageinfo" in props:  # missing file pages still say where their (absent) file would live
        for entry in entries:
            if entry.page is None and entry.out.get("ns") == 6:
                entry.out["imagerepository"] = ""
    if "categoryinfo" in props:  # also for category pages that do not exist but have members
        for entry in entries:
            _prop_categoryinfo(ctx, entry)
    for name in lists:
        prefix, lister = LISTERS[name]
        if ctx.runs(prefix):
            query[name] = lister(ctx)
        else:
            ctx.recognise(prefix)
    if ctx.has("titles") or ctx.has("pageids") or ctx.has("revids") or (generator is not None and entries):
        query["pages"] = [e.out for e in sorted(entries, key=_page_order)]
    return {"query": query} if query else {}


def _generated(ctx: Context, name: str) -> list[_Entry]:
    """The pages a list module yields, as the page set (``generator=``): its parameters and its
    continuation carry a ``g`` prefix, and its own output props are not asked for."""
    given = [n for n in ("titles", "pageids", "revids") if ctx.has(n)]
    if given:
        raise UsageError(
            "invalidparammix", f'The parameters "generator" and "{given[0]}" can not be used together.'
        )
    prefix, lister = LISTERS[name]
    inner = {k[1:]: v for k, v in ctx.params.items() if k.startswith(f"g{prefix}")}
    inner[f"{prefix}prop"] = "ids|title"
    sub = Context(ctx.wiki, inner, ctx.max_limit, ctx.max_values)
    items = lister(sub)
    ctx.used.update(f"g{k}" for k in sub.used if k.startswith(prefix) and k != f"{prefix}prop")
    for module, texts in sub.warnings.items():
        for text in texts:
            ctx.warn(module, text)
    for key, value in sub.cont.items():
        if key != "continue":
            ctx.cont[f"g{key}"] = value
            ctx.cont["continue"] = f"g{key}||"
    entries: list[_Entry] = []
    for item in items:
        page = ctx.wiki.page_by_id(int(item.get("pageid") or 0))
        if page is not None:
            entries.append(_Entry(_page_out(page), page))
    return entries


def _page_order(entry: _Entry) -> tuple[int, int]:
    if entry.page is None:
        return (0, 0)
    return (1, entry.page.pageid)


def _pageset(ctx: Context, query: dict[str, Any]) -> list[_Entry] | None:
    given = [n for n in ("titles", "pageids", "revids") if ctx.has(n)]
    if not given:
        return None
    if len(given) > 1:
        raise UsageError(
            "invalidparammix", f'The parameters "{given[0]}" and "{given[1]}" can not be used together.'
        )
    entries: dict[Any, _Entry] = {}
    wiki = ctx.wiki
    if given[0] == "revids":
        bad: dict[str, Any] = {}
        for raw in ctx.values("revids"):
            revid = ctx.integer("revids", raw)
            revision = wiki.revisions.get(revid)
            page = wiki.page_by_id(revision.pageid) if revision is not None else None
            if revision is None or page is None:
                bad[str(revid)] = {"revid": revid, "missing": True}
                continue
            entry = entries.setdefault(page.pageid, _Entry(_page_out(page), page, []))
            assert entry.revisions is not None
            entry.revisions.append(revision)
        if bad:
            query["badrevids"] = bad
    elif given[0] == "pageids":
        for raw in ctx.values("pageids"):
            pageid = ctx.integer("pageids", raw)
            page = wiki.page_by_id(pageid)
            out = _page_out(page) if page else {"pageid": pageid, "missing": True}
            entries.setdefault(pageid, _Entry(out, page))
    else:
        follow = ctx.has("redirects")
        normalized: list[dict[str, Any]] = []
        redirects: list[dict[str, Any]] = []
        for raw in ctx.values("titles"):
            try:
                _, title = split_title(raw)
            except InvalidTitle as error:
                entries.setdefault(
                    raw, _Entry({"title": raw, "invalidreason": str(error), "invalid": True}, None)
                )
                continue
            if title != raw:
                normalized.append({"fromencoded": False, "from": raw, "to": title})
            seen = {title}
            while (
                follow
                and (page := wiki.pages.get(title)) is not None
                and page.redirect_target not in (None, *seen)
            ):
                target = str(page.redirect_target)
                if not any(r["from"] == title for r in redirects):
                    redirects.append({"from": title, "to": target})
                seen.add(target)
                title = target
            page = wiki.pages.get(title)
            entries.setdefault(
                title, _Entry(_page_out(page) if page else {**title_out(title), "missing": True}, page)
            )
        if normalized:
            query["normalized"] = normalized
        if redirects:
            query["redirects"] = redirects
    return list(entries.values())


def _page_out(page: FakePage) -> dict[str, Any]:
    return {"pageid": page.pageid, "ns": page.ns, "title": page.title}


def _prop_revisions(ctx: Context, entry: _Entry, *, by_revids: bool, single: bool) -> None:
    assert entry.page is not None
    props = set(ctx.multi("rvprop", RV_PROPS, "ids|timestamp|flags|comment|user", "revisions"))
    slots_raw = ctx.get("rvslots")
    slots: list[str] | None = None
    if slots_raw is not None:
        slots = (
            ["main", "mediainfo"] if slots_raw == "*" else ctx.strict_multi("rvslots", ("main", "mediainfo"))
        )
    elif props & {"content", "contentmodel"}:
        ctx.warn(
            "main",
            'Because "rvslots" was not specified, a legacy format has been used for the output. This format is '
            "deprecated, and in the future the new format will always be used.",
        )
    enum = [p for p in RV_ENUM if ctx.has(p)]
    if by_revids:
        if enum:
            raise UsageError(
                "invalidparammix",
                'The "revids" parameter may not be used with the list options (rvlimit, rvstartid, rvendid, '
                "rvdir=newer, rvuser, rvexcludeuser, rvstart, and rvend).",
            )
        chosen = sorted(entry.revisions or [], key=lambda r: r.revid)
    elif enum or ctx.has("rvcontinue"):
        if not single:
            raise UsageError(
                "invalidparammix",
                "titles, pageids or a generator was used to supply multiple pages, but the rvlimit, rvstartid, "
                "rvendid, rvdir=newer, rvuser, rvexcludeuser, rvstart, and rvend parameters may only be used "
                "on a single page.",
            )
        chosen = _enumerate_revisions(ctx, entry.page, props)
    else:
        chosen = [entry.page.latest]
    entry.out["revisions"] = [_revision_out(r, props, slots) for r in chosen]


def _enumerate_revisions(ctx: Context, page: FakePage, props: set[str]) -> list[FakeRevision]:
    newer = ctx.choice("rvdir", ("older", "newer"), "older") == "newer"
    limit = ctx.limit("rvlimit", 10, 50 if "content" in props else ctx.max_limit, "revisions")
    start, end = ctx.timestamp("rvstart"), ctx.timestamp("rvend")
    user, exclude = ctx.get("rvuser"), ctx.get("rvexcludeuser")
    key: Callable[[FakeRevision], tuple[Any, ...]] = lambda r: (compact(r.timestamp), r.revid)  # noqa: E731
    # rvstartid/rvendid become a (timestamp, id) bound, as MediaWiki converts them (T163532).
    first, last = _id_bound(ctx, "rvstartid"), _id_bound(ctx, "rvendid")
    if (first and start) or (last and end):
        raise UsageError("invalidparammix", "rvstartid/rvstart and rvendid/rvend can not be used together.")
    revisions = [
        r
        for r in page.revisions
        if (start is None or (compact(r.timestamp) >= start if newer else compact(r.timestamp) <= start))
        and (end is None or (compact(r.timestamp) <= end if newer else compact(r.timestamp) >= end))
        and (first is None or (key(r) >= first if newer else key(r) <= first))
        and (last is None or (key(r) <= last if newer else key(r) >= last))
        and (user is None or r.user == user)
        and (exclude is None or r.user != exclude)
    ]
    start_at = token(ctx, "rvcontinue", (str, int))
    chosen, following = window(revisions, key, start_at, limit, descending=not newer)
    if following is not None:
        ctx.continue_with("rvcontinue", f"{compact(following.timestamp)}|{following.revid}", prop=True)
    return chosen


def _id_bound(ctx: Context, name: str) -> tuple[str, int] | None:
    raw = ctx.get(name)
    if raw is None:
        return None
    revision = ctx.wiki.revisions.get(ctx.integer(name, raw))
    if revision is None:
        raise UsageError(f"badid_{name}", f"No revision was found for parameter <var>{name}</var>.")
    return (compact(revision.timestamp), revision.revid)


def _revision_out(revision: FakeRevision, props: set[str], slots: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "ids" in props:
        out["revid"] = revision.revid
        out["parentid"] = revision.parentid
    if "flags" in props:
        out["minor"] = revision.minor
    if props & {"user", "userid"}:
        if revision.userhidden:
            out["userhidden"] = True
        else:
            if "user" in props:
                out["user"] = revision.user
            if "userid" in props:
                out["userid"] = sum(map(ord, revision.user)) % 100000
    if "timestamp" in props:
        out["timestamp"] = revision.timestamp
    if "size" in props:
        out["size"] = revision.size
    if "sha1" in props:
        out.update({"sha1hidden": True} if revision.texthidden else {"sha1": revision.sha1})
    if "roles" in props:
        out["roles"] = revision.roles
    if slots is not None:
        out["slots"] = {role: _slot_out(revision, role, props) for role in slots if role in revision.roles}
    elif props & {"content", "contentmodel"}:
        out.update(_slot_out(revision, "main", props))
    if props & {"comment", "parsedcomment"}:
        if revision.commenthidden:
            out["commenthidden"] = True
        else:
            if "comment" in props:
                out["comment"] = revision.comment
            if "parsedcomment" in props:
                out["parsedcomment"] = revision.comment
    if "tags" in props:
        out["tags"] = list(revision.tags)
    if revision.suppressed:
        out["suppressed"] = True
    return out


def _slot_out(revision: FakeRevision, role: str, props: set[str]) -> dict[str, Any]:
    content = revision.wikitext if role == "main" else revision.mediainfo or ""
    model, fmt = ("wikitext", "text/x-wiki") if role == "main" else ("wikibase-mediainfo", "application/json")
    out: dict[str, Any] = {}
    if "slotsize" in props:
        out["size"] = len(content.encode("utf-8"))
    if "slotsha1" in props:
        if revision.texthidden:
            out["sha1hidden"] = True
        else:
            out["sha1"] = revision.main_sha1 if role == "main" else revision.mediainfo_sha1
    if "contentmodel" in props:
        out["contentmodel"] = model
    if "content" in props:
        if revision.texthidden:
            out["texthidden"] = True
        else:
            out.update({"contentmodel": model, "contentformat": fmt, "content": content})
    return out


def _prop_redirects(ctx: Context, entry: _Entry) -> None:
    """``prop=redirects``: the pages that redirect here (``rdnamespace`` filters; no continuation,
    as the stand-in's wikis are small), shaped as MediaWiki answers with ``formatversion=2``."""
    page = entry.page
    assert page is not None
    namespaces = {int(n) for n in ctx.values("rdnamespace") if n.lstrip("-").isdigit()}
    found = [
        {"pageid": other.pageid, "ns": other.ns, "title": other.title}
        for other in ctx.wiki.pages.values()
        if (not namespaces or other.ns in namespaces) and other.redirect_target == page.title
    ]
    if found:
        entry.out["redirects"] = sorted(found, key=lambda r: r["pageid"])


def _prop_info(entry: _Entry) -> None:
    page = entry.page
    assert page is not None
    latest = page.latest
    entry.out.update(
        {
            "contentmodel": "wikitext",
            "pagelanguage": "en",
            "pagelanguagehtmlcode": "en",
            "pagelanguagedir": "ltr",
            "touched": latest.timestamp,
            "lastrevid": latest.revid,
            "length": latest.size,
        }
    )
    if page.redirect_target is not None:
        entry.out["redirect"] = True
    if len(page.revisions) == 1:
        entry.out["new"] = True


def _prop_categoryinfo(ctx: Context, entry: _Entry) -> None:
    title = entry.out.get("title")
    if entry.out.get("ns") != 14 or not isinstance(title, str):
        return
    members = [p for p in ctx.wiki.pages.values() if title in p.categories()]
    if not members and entry.page is None:
        return
    files = sum(1 for p in members if p.ns == 6)
    subcats = sum(1 for p in members if p.ns == 14)
    entry.out["categoryinfo"] = {
        "size": len(members),
        "pages": len(members) - files - subcats,
        "files": files,
        "subcats": subcats,
        "hidden": False,
    }


def _prop_imageinfo(ctx: Context, entry: _Entry) -> None:
    page = entry.page
    assert page is not None
    props = ctx.multi(
        "iiprop", ("timestamp", "user", "sha1", "comment", "size", "url"), "timestamp|user", "imageinfo"
    )
    limit = ctx.limit("iilimit", 1, ctx.max_limit, "imageinfo")
    raw_width = ctx.get("iiurlwidth")
    width = ctx.integer("iiurlwidth", raw_width) if raw_width is not None else None
    if page.ns != 6:
        return
    entry.out["imagerepository"] = "local" if page.files else ""
    if not page.files:
        return
    infos = []
    newest_first = list(reversed(page.files))[:limit]  # as the API gives them
    for number, version in enumerate(newest_first):
        info: dict[str, Any] = {}
        if "url" in props:  # one picture per file: older versions show it too
            info.update(url_fields(ctx.wiki, page, width if number == 0 else None))
        for prop in (p for p in props if p != "url"):
            info[prop] = {
                "timestamp": version.timestamp,
                "user": version.user,
                "sha1": version.sha1,
                "comment": version.comment,
                "size": 1000,
            }[prop]
        infos.append(info)
    entry.out["imageinfo"] = infos


# -- action=wbgetentities -----------------------------------------------------------------------


def run_wbgetentities(ctx: Context) -> dict[str, Any]:
    if ctx.has("sites") or ctx.has("titles"):
        raise UsageError("badvalue", "The stand-in looks entities up by ids only.")
    ids = ctx.values("ids")
    if not ids:
        raise UsageError("param-missing", 'Either provide the item "ids" or pairs of "sites" and "titles".')
    props = set(
        ctx.multi(
            "props",
            ("info", "sitelinks", "aliases", "labels", "descriptions", "claims", "datatype"),
            "info|sitelinks|aliases|labels|descriptions|claims|datatype",
            "wbgetentities",
        )
    )
    raw_languages = ctx.get("languages")
    languages = set(raw_languages.split("|")) if raw_languages else None
    ctx.get("languagefallback")
    entities: dict[str, Any] = {}
    for entity_id in ids:
        if not (entity_id[:1] in "QPLM" and entity_id[1:].isdigit()):
            raise UsageError(
                "no-such-entity", f'Could not find an entity with the ID "{entity_id}".', id=entity_id
            )
        entity = _entity(ctx.wiki, entity_id)
        if entity is None:
            entities[entity_id] = {"id": entity_id, "missing": ""}
            continue
        out: dict[str, Any] = {"type": entity["type"], "id": entity_id}
        if "info" in props:
            out.update(
                {k: v for k, v in entity.items() if k in ("pageid", "ns", "title", "lastrevid", "modified")}
            )
        for part in ("labels", "descriptions"):
            if part in props:
                values = entity.get(part) or {}
                out[part] = {k: v for k, v in values.items() if languages is None or k in languages}
        if "claims" in props:
            key = "statements" if entity["type"] == "mediainfo" else "claims"
            out[key] = entity.get(key) or {}
        entities[entity_id] = out
    return {"entities": entities, "success": 1}


def _entity(wiki: Wiki, entity_id: str) -> dict[str, Any] | None:
    if not entity_id.startswith("M"):
        return wiki.entities.get(entity_id)
    page = wiki.page_by_id(int(entity_id[1:]))
    if page is None or page.latest.mediainfo is None:
        return None
    slot = json.loads(page.latest.mediainfo)
    return {
        **slot,
        "type": "mediainfo",
        "id": entity_id,
        "pageid": page.pageid,
        "ns": 6,
        "title": page.title,
        "lastrevid": page.latest.revid,
        "modified": page.latest.timestamp,
        "labels": slot.get("labels") or {},
        "descriptions": slot.get("descriptions") or {},
    }
