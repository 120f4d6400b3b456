"""The agency's overview page and its monthly summary download, held to the account's collections.

``/overview`` shows each collection the account may see (every one for an unlimited account) with
its month's figures, its weekly chart and its busiest files; ``?month=YYYY-MM`` moves through months.
``/overview/summary`` is the same month as the document an agency forwards
(:mod:`watcher.export.summary`), sent as a download so it opens outside the page's security policy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from watcher.export.chart import weekly_chart_svg
from watcher.export.overview import Month, MonthError, Overview, build_overview
from watcher.export.summary import figure_rows, summary_html
from watcher.web.kit import CONFIG, LINKS, READER, access, render, scope
from watcher.web.queries import COLLECTION_KEY

MONTH_KEY = "month"


def _month(request: web.Request) -> tuple[Month, str | None]:
    """The month asked for (this one where none is), and a problem to show where it is no month."""
    asked = request.query.get(MONTH_KEY)
    this_month = Month.of(datetime.now(UTC))
    if not asked:
        return this_month, None
    try:
        return Month.parse(asked), None
    except MonthError as exc:
        return this_month, f"{exc}; showing this month"


async def _overview(request: web.Request, month: Month) -> Overview:
    allowed = scope(request)
    return await build_overview(request.app[READER], request.app[CONFIG], allowed.offered, month=month)


@access("signed_in")
async def overview_page(request: web.Request) -> web.StreamResponse:
    month, problem = _month(request)
    overview = await _overview(request, month)
    now = Month.of(datetime.now(UTC))

    def queue_link(name: str, status: str) -> str:
        return "/?" + urlencode({COLLECTION_KEY: name, "status": status, "kind": "all"})

    return render(
        request,
        "overview.html.j2",
        overview=overview,
        month=month,
        problems=[problem] if problem else [],
        previous_month=month.previous().key,
        next_month=month.following().key if month.start < now.start else None,
        rows={c.name: figure_rows(c, month.label) for c in overview.collections},
        charts={
            c.name: Markup(weekly_chart_svg(c.weeks, ident=c.name, heading=f"{c.title}: changes per week"))
            for c in overview.collections
        },
        queue_link=queue_link,
        file_page=request.app[LINKS].file_page,
        summary_link="/overview/summary?" + urlencode({MONTH_KEY: month.key}),
    )


@access("signed_in")
async def summary_download(request: web.Request) -> web.StreamResponse:
    month, problem = _month(request)
    if problem:
        raise web.HTTPBadRequest(text=problem)
    overview = await _overview(request, month)
    body = summary_html(overview, request.app[LINKS])
    return web.Response(
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="commons-watcher-{month.key}.html"'},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/overview", overview_page)
    app.router.add_get("/overview/summary", summary_download)
