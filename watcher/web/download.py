"""The export download: the whole selection of the page's filters (not one page), as CSV or JSONL.

Like `watcher export`, and decided by the same function (:func:`watcher.export.routine.marks_exported`):
only the routine selection (accepted, every kind, not exported before, no filter) marks what it wrote,
once every record is sent, so the next download holds only what is new; "include earlier exports",
another status or any filter downloads what matches and marks nothing. A read-only account may
download too, but its downloads mark nothing (marking is a change). A selection with nothing in it
downloads no header-only file: the page says "nothing new since …" (or what else) instead.

CSV is for spreadsheets by default: a UTF-8 byte order mark (so Excel reads it as UTF-8) and the
formula guard (``export.csvfile``); "raw" opts out of the guard for an importer.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from aiohttp import web

from watcher.base.values import EXPORT_LAYOUTS, choice_or
from watcher.export import routine as routine_export
from watcher.export.formats import DEFAULT_EXPORT, DEFAULT_EXPORT_STATUS, EXPORT_FORMATS
from watcher.export.profiles import PROFILE_NAMES
from watcher.export.routine import last_export_time, marks_exported, nothing_new
from watcher.export.writers import export_filename, labels_for, render_export
from watcher.web import auth
from watcher.web.kit import CONFIG, DB, READER, access, current_session, safe_next, scope, see_other
from watcher.web.queries import parse_query

NOTHING_MATCHES = "no change matches this selection"


@access("signed_in")
async def export_download(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    fmt = fields.get("format", DEFAULT_EXPORT)
    if fmt not in EXPORT_FORMATS:
        raise web.HTTPBadRequest(text=f"Unknown export format; one of {', '.join(EXPORT_FORMATS)}.")
    # Every kind unless the page filters one, as `watcher export` does: the page's default view
    # (content) exports the routine selection.
    # Held to the account's collections: an account limited to some downloads only theirs, and so
    # never the routine selection (which marks): the routine export is every collection's.
    query = parse_query(
        fields, scope(request), default_status=DEFAULT_EXPORT_STATUS, defaults={"kind": "all"}
    )
    if query.problems:  # a filter dropped would export (and maybe mark) more than was asked for
        raise web.HTTPBadRequest(text="Nothing was exported: " + "; ".join(query.problems) + ".")
    selection = replace(query.selection, not_exported=fields.get("all") != "1")
    routine = marks_exported(selection, fmt)
    reader = request.app[READER]
    batch = await routine_export.select(reader, selection, fmt)
    records = batch.records
    if not records:
        said = nothing_new(await last_export_time(reader)) if routine else NOTHING_MATCHES
        session = current_session(request)
        await auth.set_flash(
            request.app[DB], session.token_hash, f"{said[:1].upper()}{said[1:]}: nothing to download."
        )
        return see_other(safe_next(fields.get("next"), "/"))
    marks = routine and current_session(request).can_review
    config = request.app[CONFIG]
    layout = choice_or(fields.get("layout"), EXPORT_LAYOUTS, config.export.layout)
    profile = fields.get("profile") or None
    if profile is not None and profile not in PROFILE_NAMES:
        raise web.HTTPBadRequest(text=f"Unknown profile; one of {', '.join(PROFILE_NAMES)}.")
    labels = await labels_for(reader, records, config.labels.languages)
    try:
        rendered = render_export(
            # A BOM for a spreadsheet (CSV only); a profile brings its importer's own encoding.
            records, config, fmt=fmt, layout=layout, profile=profile, bom=profile is None,
            formula_guard=fields.get("raw") != "1", labels=labels,
        )  # fmt: skip
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"Nothing was exported: {exc}.") from exc
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{rendered.content_type}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export_filename(fmt, extension=rendered.extension)}"',
            "X-Export-Count": str(len(records)),
            "X-Export-Marked": "yes" if marks else "no",
        }
    )
    await response.prepare(request)
    for chunk in rendered.chunks:
        await response.write(chunk.encode("utf-8"))
    if not marks:
        await response.write_eof()
        return response
    # Marked once every record is sent, before the end of the body: a browser that has the whole
    # file already sees the marks (a second click says "nothing new"); a body that cannot be ended
    # takes its marks back, so the routine export still has those changes.
    stamp = await routine_export.mark(request.app[DB], batch)
    try:
        await response.write_eof()
    except BaseException:
        if stamp is not None:
            await asyncio.shield(routine_export.unmark(request.app[DB], batch, stamp))
        raise
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/export", export_download)
