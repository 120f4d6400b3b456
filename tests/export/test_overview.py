"""The agency's overview (issue 19): each collection's month in figures, its weekly chart by kind, and
the monthly summary built from the same figures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.support.web import COLLECTIONS_CONFIG_TEXT, queue
from watcher.config import Config, parse_config
from watcher.diff.model import FieldChange
from watcher.export.chart import describe, weekly_chart_svg
from watcher.export.links import WikiLinks
from watcher.export.overview import Month, MonthError, WeekBar, build_overview, week_starts
from watcher.export.summary import summary_html, summary_text
from watcher.store import tracked as store_tracked
from watcher.store.db import Database
from watcher.store.reviews import review

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday
SVG = "{http://www.w3.org/2000/svg}"
CATEGORY = FieldChange("categories", "added", None, "Category:Chairs", None, None, None, "maintenance")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(COLLECTIONS_CONFIG_TEXT, tmp_path / "config.toml")


async def _track(db: Database, collection: str, *titles: str) -> None:
    async with db.transaction() as conn:
        for title in titles:
            await store_tracked.add_file(
                conn, title, "category", f"Category:{collection}", collection=collection
            )


async def _seed(db: Database) -> dict[str, list[int]]:
    """Hallwyl: three files, edits in October and November (content and maintenance); Skokloster one
    file. A decision in October is not November's; an export of a Hallwyl change sets its last export."""
    await _track(db, "hallwyl", "File:A.jpg", "File:B.jpg", "File:C.jpg")
    await _track(db, "skokloster", "File:S.jpg", "File:A.jpg")
    ids = {
        "oct": await queue(db, file="File:A.jpg", revision=1, timestamp="2026-10-30T09:00:00Z", collection="hallwyl"),
        "nov_a": await queue(
            db, file="File:A.jpg", revision=2, timestamp="2026-11-02T08:00:00Z", collection="hallwyl",
            changes=[FieldChange("description", "changed", "x", "y", "Information", None, "sv"), CATEGORY],
        ),
        "nov_a2": await queue(db, file="File:A.jpg", revision=3, timestamp="2026-11-17T23:59:59Z", collection="hallwyl"),
        "nov_b": await queue(db, file="File:B.jpg", revision=4, timestamp="2026-11-16T00:00:00Z", collection="hallwyl"),
        "sko": await queue(db, file="File:S.jpg", revision=5, timestamp="2026-11-03T10:00:00Z", collection="skokloster"),
        "dec": await queue(db, file="File:B.jpg", revision=6, timestamp="2026-12-01T00:00:00Z", collection="hallwyl"),
    }  # fmt: skip
    await review(db, ids["nov_a"][:1], "accept", actor="anna")
    await review(db, ids["nov_b"], "reject", actor="anna")
    await review(db, ids["nov_a2"], "withdraw", actor="Commons", revision=9)
    await review(db, ids["oct"], "accept", actor="anna")
    await db.write("UPDATE changes SET reviewed_at = '2026-11-05T10:00:00Z' WHERE id IN (?, ?, ?)",
                   (ids["nov_a"][0], ids["nov_b"][0], ids["nov_a2"][0]))  # fmt: skip
    await db.write("UPDATE changes SET reviewed_at = '2026-10-31T10:00:00Z' WHERE id = ?", (ids["oct"][0],))
    await db.write("UPDATE changes SET exported_at = '2026-11-06T07:00:00Z' WHERE id = ?", (ids["nov_a"][0],))
    return ids


async def test_each_collections_month_in_figures(db: Database, config: Config) -> None:
    await _seed(db)
    overview = await build_overview(db, config, ["hallwyl", "skokloster"], now=NOW)
    assert overview.month == Month.parse("2026-11")
    hallwyl, skokloster = overview.collections
    assert (hallwyl.name, hallwyl.title) == ("hallwyl", "The Hallwyl Museum")
    assert hallwyl.tracked_files == 3 and skokloster.tracked_files == 2  # A.jpg is in both
    # November's edits: nov_a (2 changes), nov_a2, nov_b; not October's, not December's.
    assert hallwyl.changes == 4
    assert (hallwyl.accepted, hallwyl.rejected, hallwyl.withdrawn) == (1, 1, 1)  # October's accept is not
    assert hallwyl.pending == 2  # the category of nov_a, and December's edit: waiting now, whenever made
    assert hallwyl.last_export == "2026-11-06T07:00:00Z" and skokloster.last_export is None
    assert [(b.file, b.changes, b.pending) for b in hallwyl.busiest] == [
        ("File:A.jpg", 3, 1),
        ("File:B.jpg", 1, 0),
    ]
    assert (skokloster.changes, skokloster.pending, [b.file for b in skokloster.busiest]) == (
        1,
        1,
        ["File:S.jpg"],
    )
    # Twelve weeks, Monday to Monday, the last holding today; each edit in the week it was made, by kind.
    weeks = {w.start: dict(w.counts) for w in hallwyl.weeks}
    assert len(weeks) == 12 and max(weeks) == date(2026, 11, 16) and min(weeks) == date(2026, 8, 31)
    assert weeks[date(2026, 10, 26)] == {"content": 1, "maintenance": 0}  # 30 October
    assert weeks[date(2026, 11, 2)] == {"content": 1, "maintenance": 1}
    assert weeks[date(2026, 11, 9)] == {"content": 0, "maintenance": 0}
    assert weeks[date(2026, 11, 16)] == {"content": 2, "maintenance": 0}  # Monday 00:00 and Tuesday 23:59
    assert sum(sum(w.values()) for w in weeks.values()) == 5  # December's edit is after today's week
    assert {w.start: w.total for w in skokloster.weeks}[date(2026, 11, 2)] == 1


async def test_only_the_collections_asked_for_and_a_past_month(db: Database, config: Config) -> None:
    await _seed(db)
    only = await build_overview(db, config, ["skokloster"], now=NOW)
    assert [c.name for c in only.collections] == ["skokloster"]
    october = await build_overview(db, config, ["hallwyl"], month=Month.parse("2026-10"), now=NOW)
    (hallwyl,) = october.collections
    assert (hallwyl.changes, hallwyl.accepted, hallwyl.rejected) == (1, 1, 0)
    # A past month's chart ends with the week holding its last day (Saturday 31 October).
    assert hallwyl.weeks[-1].start == date(2026, 10, 26)
    assert (await build_overview(db, config, [], now=NOW)).collections == ()
    # A collection the config no longer has keeps its name as its title.
    (gone,) = (await build_overview(db, config, ["closed"], now=NOW)).collections
    assert (gone.title, gone.changes, gone.tracked_files) == ("closed", 0, 0)


def test_months_are_read_as_yyyy_mm_only() -> None:
    assert Month.parse("2026-12").end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month.parse("2026-01").previous().key == "2025-12"
    assert Month.parse("2026-11").label == "November 2026"
    for wrong in ("2026-13", "2026-1", "November", "2026-11-01", ""):
        with pytest.raises(MonthError, match="give it as YYYY-MM"):
            Month.parse(wrong)
    # A month still to come has the weeks up to its first day (Monday 1 March 2027), all empty.
    assert week_starts(Month.parse("2027-03"), NOW)[-1] == date(2027, 3, 1)


def _weeks(*totals: tuple[int, int]) -> list[WeekBar]:
    start = date(2026, 9, 7)
    return [
        WeekBar(date.fromordinal(start.toordinal() + 7 * i), {"content": c, "maintenance": m})
        for i, (c, m) in enumerate(totals)
    ]


def test_the_chart_is_svg_with_its_figures_in_words() -> None:
    weeks = _weeks((3, 1), (0, 0), (12, 0), (0, 2))
    svg = weekly_chart_svg(weeks, ident="hallwyl <&>", heading="Hallwyl: changes per week")
    root = ET.fromstring(svg)  # well-formed: it goes inline into HTML and into an e-mail
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    labelled = (root.get("aria-labelledby") or "").split()
    ids = {str(e.get("id")) for e in root.iter() if e.get("id")}
    assert labelled and set(labelled) <= ids and all("<" not in i and "&" not in i for i in ids)
    assert "style" not in svg  # presentation attributes only: the page's CSP allows no inline style
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == (
        "Changes per week by kind, 4 weeks from 7 Sep to 28 Sep: week of 7 Sep: 3 content, 1 maintenance; "
        "week of 21 Sep: 12 content; week of 28 Sep: 2 maintenance; no changes in the other 1 week."
    )
    bars = [r for g in root.iter(f"{SVG}g") for r in g.iter(f"{SVG}rect")]
    heights = [float(r.get("height") or 0) for r in bars]
    # Four bars with figures (3 and 1 stacked, 12, 2) and a 1-unit mark for the quiet week; the scale
    # tops at 20 (the round number above 12), and 3 stands a quarter as tall as 12.
    assert len(bars) == 5
    tallest = max(heights)
    assert heights[0] == pytest.approx(tallest * 3 / 12, abs=0.2)
    titles = [t.text for g in root.iter(f"{SVG}g") for t in g.findall(f"{SVG}title")]
    assert titles[1] == "Week of 14 Sep: no changes"
    assert "20" in [t.text for t in root.iter(f"{SVG}text")]


def test_a_quiet_chart_says_so() -> None:
    assert describe(_weeks((0, 0), (0, 0))) == "No changes in the 2 weeks from 7 Sep to 14 Sep."
    ET.fromstring(weekly_chart_svg(_weeks((0, 0)), ident="x", heading="x"))


async def test_the_monthly_summary_holds_every_collections_figures(db: Database, config: Config) -> None:
    await _seed(db)
    overview = await build_overview(db, config, ["hallwyl", "skokloster"], now=NOW)
    html = summary_html(overview, WikiLinks(config))
    assert html.startswith("<!doctype html>") and "<script" not in html and "src=" not in html
    assert "What Wikimedia Commons volunteers added in November 2026" in html
    assert (
        html.count("<svg") == 2
        and "<h2>The Hallwyl Museum</h2>" in html
        and "<h2>Skokloster Castle</h2>" in html
    )
    assert "<th scope='row'>Withdrawn (undone on Commons) in November 2026</th><td>1</td>" in html
    assert "<th scope='row'>Last export</th><td>2026-11-06T07:00:00Z</td>" in html
    assert "File:A.jpg</a>: 3 changes, 1 waiting" in html
    text = summary_text(overview)
    assert "The Hallwyl Museum (hallwyl)\n  Tracked files: 3\n  Changes in November 2026: 4" in text
    assert "  Busy: File:A.jpg: 3 changes, 1 waiting" in text
    data = json.loads(json.dumps(overview.as_json()))
    assert data["month"] == "2026-11" and [c["name"] for c in data["collections"]] == [
        "hallwyl",
        "skokloster",
    ]
    assert data["collections"][0]["weeks"][-1] == {"start": "2026-11-16", "content": 2, "maintenance": 0}
