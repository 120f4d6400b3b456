"""The queue page, the change detail page, and the review actions (one change, or many at once)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from watcher.base.text import plural
from watcher.base.values import EXPORT_LAYOUTS, KIND_CHOICES, SOURCES, STATUS_CHOICES, STATUSES, ReviewAction
from watcher.export.formats import EXPORT_STATUS_CHOICES, EXPORTS
from watcher.export.profiles import REGISTRY as PROFILES
from watcher.export.trust import trust_signals
from watcher.store import reviews
from watcher.store.queue import ChangeRecord
from watcher.web import auth, queries
from watcher.web.kit import CONFIG, DB, READER, access, current_session, render, safe_next, see_other
from watcher.web.worddiff import word_diff

NOTE_MAX = 500
BULK_MAX = 1000
# The forms' action values (kept as they were: "pending" is the reopen button) → review actions.
ACTIONS: dict[str, ReviewAction] = {
    "accept": "accept",
    "reject": "reject",
    "pending": "reopen",
    "note": "note",
    "undo": "undo",
}
DONE: dict[ReviewAction, str] = {
    "accept": "Accepted",
    "reject": "Rejected",
    "reopen": "Put back to pending",
    "note": "Saved the note of",
    "undo": "Undid the latest decision of",
    "withdraw": "Withdrew",
}


def when(stamp: str | None) -> str:
    """2026-03-01T07:30:12Z → 2026-03-01 07:30 UTC (the contract's times are UTC)."""
    if not stamp:
        return ""
    return stamp[:16].replace("T", " ") + " UTC"


def pretty_json(value: Any) -> str:
    """Readable JSON for a <pre>; a plain string, so autoescaping still applies."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {
    "when": when, "plural": plural, "pretty_json": pretty_json, "trust": trust_signals,
}  # fmt: skip
# The value lists the templates offer (status tabs, filter and export selects), from their one place.
TEMPLATE_GLOBALS: dict[str, Any] = {
    "statuses": STATUSES,
    "status_choices": STATUS_CHOICES,
    "kind_choices": KIND_CHOICES,
    "sources": SOURCES,
    "export_status_choices": EXPORT_STATUS_CHOICES,
    "export_formats": EXPORTS,
    "export_layouts": EXPORT_LAYOUTS,
    "export_profiles": PROFILES,
    "editor_choices": queries.EDITOR_LABELS,
}


def _diffs(records: list[ChangeRecord]) -> dict[int, tuple[Markup, Markup]]:
    return {r.id: word_diff(r.old, r.new) for r in records}


async def _pop_flash(request: web.Request) -> str | None:
    session = current_session(request)
    if session.flash is None:
        return None
    await auth.set_flash(request.app[DB], session.token_hash, None)
    return session.flash


@access("signed_in")
async def queue_page(request: web.Request) -> web.StreamResponse:
    query = queries.parse_query(request.query)
    reader = request.app[READER]
    total = await queries.count(reader, query.selection)
    pages = max(1, math.ceil(total / query.per_page))
    page = min(query.page, pages)
    groups = await queries.grouped_page(
        reader, query.selection, limit=query.per_page, offset=(page - 1) * query.per_page
    )
    shown = [change for group in groups for change in group.changes]

    def link(**changes: Any) -> str:
        return "/?" + urlencode(query.link_params(**changes))

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
        diffs=_diffs(shown),
        counts=await queries.status_counts(reader, query.selection),
        choices=await queries.choices(reader),
        link=link,
        flash=await _pop_flash(request),
        problems=query.problems,
        page_sizes=queries.PAGE_SIZES,
        export_layout=request.app[CONFIG].export.layout,
    )


@access("signed_in")
async def change_page(request: web.Request) -> web.StreamResponse:
    reader = request.app[READER]
    record = await queries.get_change(reader, int(request.match_info["id"]))
    if record is None:
        raise web.HTTPNotFound(text="No such change in the queue.")
    siblings = await queries.same_edit(reader, record)
    history = await queries.file_history(reader, record)
    return render(
        request,
        "change.html.j2",
        change=record,
        siblings=siblings,
        history=history,
        reviews=await reviews.history(reader, record.id),
        diffs=_diffs([record, *siblings, *history]),
        flash=await _pop_flash(request),
    )


def _note(value: Any) -> str:
    return " ".join(str(value or "").split())[:NOTE_MAX]


async def _finish(
    request: web.Request, action: ReviewAction, outcome: reviews.ReviewOutcome, missing: int, fallback: str
) -> web.Response:
    form = await request.post()
    done = [i for i in outcome.found if i not in outcome.nothing_to_undo]
    parts = (
        [f"{DONE[action]} {plural(len(done), 'change')}: {', '.join(f'#{i}' for i in done)}."] if done else []
    )
    parts += outcome.notices()
    if not parts:
        parts.append("Nothing was changed.")
    if missing:
        parts.append(f"{plural(missing, 'change')} not found in the queue.")
    await auth.set_flash(request.app[DB], current_session(request).token_hash, " ".join(parts))
    return see_other(safe_next(str(form.get("next") or ""), fallback))


@access("reviewer")
async def review_one(request: web.Request) -> web.StreamResponse:
    change_id = int(request.match_info["id"])
    form = await request.post()
    action = ACTIONS.get(str(form.get("action") or ""))
    if action is None:
        raise web.HTTPBadRequest(text="Unknown review action.")
    note = _note(form.get("note")) if "note" in form else None
    outcome = await reviews.review(
        request.app[DB], [change_id], action, actor=current_session(request).user, note=note
    )
    return await _finish(request, action, outcome, 0 if outcome.found else 1, f"/changes/{change_id}")


@access("reviewer")
async def review_many(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    raw_action = str(form.get("action") or "")
    scope = "shown" if raw_action.endswith("-shown") else "id"
    action = ACTIONS.get(raw_action.removesuffix("-shown"))
    if action not in ("accept", "reject"):
        raise web.HTTPBadRequest(text="Unknown bulk action.")
    ids: list[int] = []
    for value in form.getall(scope, []):
        for part in str(value).split(","):
            if part.strip().isdigit():
                ids.append(int(part))
    ids = sorted(set(ids))[:BULK_MAX]
    note = _note(form.get("note")) or None  # a bulk note is only set where one was written
    outcome = await reviews.review(
        request.app[DB], ids, action, actor=current_session(request).user, note=note
    )
    return await _finish(request, action, outcome, len(ids) - len(outcome.found), "/")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", queue_page)
    app.router.add_get(r"/changes/{id:\d{1,18}}", change_page)
    app.router.add_post(r"/changes/{id:\d{1,18}}/review", review_one)
    app.router.add_post("/changes/bulk", review_many)
