"""The queue page, the change detail page and the export page (the review actions are in ``decide``)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from watcher.export.formats import DEFAULT_EXPORT_STATUS
from watcher.store import reviews
from watcher.web import present, queries
from watcher.web.flash import pop_flash
from watcher.web.grouped import grouped_page
from watcher.web.kit import CONFIG, READER, access, label_languages, render, scope


@access("signed_in")
async def queue_page(request: web.Request) -> web.StreamResponse:
    allowed = scope(request)
    query = queries.parse_query(request.query, allowed)
    reader = request.app[READER]
    total = await queries.count(reader, query.selection)
    pages = max(1, math.ceil(total / query.per_page))
    page = min(query.page, pages)
    groups = await grouped_page(
        reader, query.selection, limit=query.per_page, offset=(page - 1) * query.per_page, by=query.group
    )
    shown = [change for group in groups for change in group.changes]

    def link(**changes: Any) -> str:
        params = query.link_params(**changes)
        return "/?" + urlencode(params) if params else "/"

    return render(
        request,
        "queue.html.j2",
        query=query,
        filters=query.params,
        page=page,
        pages=pages,
        total=total,
        groups=groups,
        shown=shown,
        cards=await present.cards(
            reader, shown, label_languages(request), query.selection, [c.id for c in shown]
        ),
        thumbs=await present.thumbnail_urls(reader, [g.file for g in groups]),
        counts=await queries.status_counts(reader, query.selection),
        choices=await queries.choices(reader, allowed),
        # The collection filter, where the account sees several: (name, title) in the config's order.
        collection_choices=collection_choices(request, allowed),
        link=link,
        flash=await pop_flash(request),
        problems=query.problems,
        page_sizes=queries.PAGE_SIZES,
        export_layout=request.app[CONFIG].export.layout,
        export_status=DEFAULT_EXPORT_STATUS,
    )


@access("signed_in")
async def change_page(request: web.Request) -> web.StreamResponse:
    reader = request.app[READER]
    allowed = scope(request)
    # Another collection's change is as unknown to this account as an id never used: the same 404.
    record = await queries.get_change(reader, int(request.match_info["id"]), allowed)
    if record is None:
        raise web.HTTPNotFound(text="No such change in the queue.")
    siblings = await queries.same_edit(reader, record)
    history = await queries.file_history(reader, record)
    # The whole edit's pending changes in its collection, whatever their kind: this page shows the
    # edit in full.
    selection = replace(
        queries.parse_query({"kind": "all"}, allowed).selection, collections=(record.collection,)
    )
    return render(
        request,
        "change.html.j2",
        change=record,
        siblings=siblings,
        history=history,
        reviews=await reviews.history(reader, record.id),
        cards=await present.cards(reader, [record, *siblings, *history], label_languages(request), selection),
        thumbs=await present.thumbnail_urls(reader, [record.file]),
        flash=await pop_flash(request),
    )


@access("signed_in")
async def export_page(request: web.Request) -> web.StreamResponse:
    """The export form on a page of its own (a bookmark for the routine export), the queue's filters kept."""
    query = queries.parse_query(request.query, scope(request), default_status=DEFAULT_EXPORT_STATUS)
    return render(
        request,
        "export.html.j2",
        filters=query.params,
        problems=query.problems,
        export_layout=request.app[CONFIG].export.layout,
        export_status=query.selection.status if "status" in query.params else DEFAULT_EXPORT_STATUS,
        flash=await pop_flash(request),
    )


def collection_choices(request: web.Request, allowed: queries.Scope) -> list[tuple[str, str]]:
    """(name, title) of each collection the account may filter by; none where it sees only one."""
    offered = allowed.offered
    if len(offered) < 2:
        return []
    config = request.app[CONFIG]
    return [(name, (found.title if (found := config.collection(name)) else name)) for name in offered]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", queue_page)
    app.router.add_get(r"/changes/{id:\d{1,18}}", change_page)
    app.router.add_get("/export", export_page)
