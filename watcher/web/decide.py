"""The review actions: one change, or many at once (selected, shown, one edit's, an undo).

Without script a form posts and the answer is a 303 back to the page it came from, at the card to
look at next (``#change-N``), with a message naming what was decided and an Undo. With script
(``app.js`` asks for JSON) the answer carries the same message and the decided cards as HTML, so
the page updates them where they are and keeps its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from watcher.base.text import plural
from watcher.base.values import ReviewAction
from watcher.store import reviews
from watcher.store.queue import ChangeRecord
from watcher.web import present, queries
from watcher.web.flash import Flash, set_flash
from watcher.web.kit import (
    DB,
    access,
    current_session,
    label_languages,
    render_macro,
    safe_next,
    scope,
    see_other,
)

NOTE_MAX = 500
BULK_MAX = 1000
LISTED_MAX = 5  # a message names this many changes, then says how many more
CARDS_MAX = 200  # a script's answer carries at most this many cards (the page shows at most 200)
# The forms' action values (kept as they were: "pending" is the reopen button) → review actions.
ACTIONS: dict[str, ReviewAction] = {
    "accept": "accept",
    "reject": "reject",
    "pending": "reopen",
    "note": "note",
    "undo": "undo",
}
# The review actions a form for several changes may ask for.
MANY_ACTIONS: tuple[ReviewAction, ...] = ("accept", "reject", "reopen", "undo")
# Decisions an Undo can take back, and after which the page moves on to the next change.
UNDOABLE: tuple[ReviewAction, ...] = ("accept", "reject", "reopen")
DONE: dict[ReviewAction, str] = {
    "accept": "Accepted",
    "reject": "Rejected",
    "reopen": "Put back to pending",
    "note": "Saved the note of",
    "undo": "Undid the decision on",
    "withdraw": "Withdrew",
}


def _note(value: Any) -> str:
    return " ".join(str(value or "").split())[:NOTE_MAX]


def _what(record: ChangeRecord, field: str) -> str:
    """#12 (description, sv)"""
    return f"#{record.id} ({field}{', ' + record.language if record.language else ''})"


def decision_words(action: ReviewAction, records: Sequence[ChangeRecord], fields: dict[int, str]) -> str:
    """ "Accepted #12 (description, sv) of File:X.jpg." — which changes, in words, and of which files."""
    if not records:
        return ""
    files = list(dict.fromkeys(r.file for r in records))
    listed = records[:LISTED_MAX]
    more = f" and {len(records) - len(listed)} more" if len(records) > len(listed) else ""
    if len(files) == 1:
        names = ", ".join(_what(r, fields[r.id]) for r in listed)
        if len(records) == 1:
            return f"{DONE[action]} {names} of {files[0]}."
        return f"{DONE[action]} {plural(len(records), 'change')} of {files[0]}: {names}{more}."
    names = ", ".join(f"{_what(r, fields[r.id])} of {r.file}" for r in listed)
    return f"{DONE[action]} {plural(len(records), 'change')}: {names}{more}."


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _then(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


async def _answer(
    request: web.Request,
    action: ReviewAction,
    outcome: reviews.ReviewOutcome,
    missing: int,
    fallback: str,
    then: int | None,
) -> web.Response:
    form = await request.post()
    back = safe_next(str(form.get("next") or "").split("#", 1)[0], fallback)
    done_ids = [i for i in outcome.found if i not in outcome.nothing_to_undo]
    db = request.app[DB]  # the writer: what was just written, whatever the reader's snapshot
    records = await queries.get_changes(db, done_ids) if done_ids else []
    languages = label_languages(request)
    selection = queries.parse_query(dict(parse_qsl(urlsplit(back).query)), scope(request)).selection
    # The decided cards and the pending ones of the same edits (their "accept all in this edit" counts
    # changed), as the page would show them.
    related = await queries.pending_in_edits(db, selection, records[:CARDS_MAX])
    others = sorted({i for ids in related.values() for i in ids} - set(done_ids))
    redrawn = [*records[:CARDS_MAX], *await queries.get_changes(db, others[:CARDS_MAX])]
    shown = await present.cards(db, redrawn, languages, selection)
    parts = [decision_words(action, records, {i: c.field for i, c in shown.items()})] if records else []
    if len(records) > CARDS_MAX:  # named by field only for the cards drawn; the rest by number
        parts = [f"{DONE[action]} {plural(len(records), 'change')}."]
    parts += outcome.notices()
    if not parts:
        parts.append("Nothing was changed.")
    if missing:
        parts.append(f"{plural(missing, 'change')} not found in the queue.")
    undo = tuple(outcome.changed) if action in UNDOABLE else ()
    flash = Flash(" ".join(parts), undo)
    if _wants_json(request):
        cards = {
            str(i): render_macro(request, "_change.html.j2", "change_card", card, here=back)
            for i, card in shown.items()
        }
        return web.json_response(
            {
                "message": flash.text,
                "message_html": render_macro(request, "_flash.html.j2", "flash_box", flash, here=back),
                "undo": list(undo),
                "decided": done_ids,
                "moves_on": action in UNDOABLE,
                "cards": cards,
                "counts": await queries.status_counts(db, selection),
            }
        )
    await set_flash(request, flash)
    return see_other(back + (f"#change-{then}" if then is not None else ""))


@access("reviewer")
async def review_one(request: web.Request) -> web.StreamResponse:
    change_id = int(request.match_info["id"])
    form = await request.post()
    action = ACTIONS.get(str(form.get("action") or ""))
    if action is None:
        raise web.HTTPBadRequest(text="Unknown review action.")
    note = _note(form.get("note")) if "note" in form else None
    # Another collection's change is refused as an unknown id is: nothing written, "not found".
    ids = await queries.visible_ids(request.app[DB], [change_id], scope(request))
    outcome = await reviews.review(
        request.app[DB], ids, action, actor=current_session(request).user, note=note
    )
    # A decision moves on to the next change; a note or an undo stays on this one.
    then = (_then(form.get("then")) if action in UNDOABLE else None) or change_id
    missing = 0 if outcome.found else 1
    return await _answer(request, action, outcome, missing, f"/changes/{change_id}", then)


@access("reviewer")
async def review_many(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    raw_action = str(form.get("action") or "")
    key = "shown" if raw_action.endswith("-shown") else "id"  # the form field the ids are in
    action = ACTIONS.get(raw_action.removesuffix("-shown"))
    if action not in MANY_ACTIONS or (key == "shown" and action != "accept"):
        raise web.HTTPBadRequest(text="Unknown bulk action.")
    ids: list[int] = []
    for value in form.getall(key, []):
        for part in str(value).split(","):
            if part.strip().isdigit():
                ids.append(int(part))
    asked = sorted(set(ids))[:BULK_MAX]
    ids = await queries.visible_ids(request.app[DB], asked, scope(request))
    note = _note(form.get("note")) or None  # a bulk note is only set where one was written
    outcome = await reviews.review(
        request.app[DB], ids, action, actor=current_session(request).user, note=note
    )
    missing = len(asked) - len(outcome.found)
    return await _answer(request, action, outcome, missing, "/", _then(form.get("then")))


def add_routes(app: web.Application) -> None:
    app.router.add_post(r"/changes/{id:\d{1,18}}/review", review_one)
    app.router.add_post("/changes/bulk", review_many)
