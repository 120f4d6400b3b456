"""The export download: the whole selection of the page's filters (not one page), as CSV or JSONL.

A reviewer's download marks what it wrote as exported, once the last byte is sent, so the next
download holds only what is new; "include earlier exports" repeats everything. A read-only account
may download too, but its downloads mark nothing (marking is a change).
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from watcher.export.formats import DEFAULT_EXPORT, DEFAULT_EXPORT_STATUS, EXPORT_FORMATS
from watcher.export.writers import content_type, export_filename, iter_export
from watcher.store import queue as store_queue
from watcher.web.kit import CONFIG, DB, READER, access, current_session
from watcher.web.queries import parse_query


@access("signed_in")
async def export_download(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    fmt = fields.get("format", DEFAULT_EXPORT)
    if fmt not in EXPORT_FORMATS:
        raise web.HTTPBadRequest(text=f"Unknown export format; one of {', '.join(EXPORT_FORMATS)}.")
    query = parse_query(fields, default_status=DEFAULT_EXPORT_STATUS)
    everything = fields.get("all") == "1"
    spreadsheet = fields.get("spreadsheet") == "1"
    selection = replace(query.selection, not_exported=not everything)
    records = await store_queue.list_changes(request.app[READER], selection)
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{content_type(fmt)}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export_filename(fmt)}"',
            "X-Export-Count": str(len(records)),
        }
    )
    await response.prepare(request)
    for chunk in iter_export(
        records,
        fmt,
        request.app[CONFIG],
        bom=spreadsheet,
        formula_guard=spreadsheet,  # BOM: where the format takes one
    ):
        await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    if records and current_session(request).can_review:
        await store_queue.mark_exported(request.app[DB], [record.id for record in records])
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/export", export_download)
