"""The review page in a real browser: Playwright driving Debian's chromium.

Skipped where chromium is not installed (``apt-get install -y chromium``); CI installs it. The browser
never reaches the internet: requests to the wiki's thumbnails get a small local PNG, everything else
that is not the test server is aborted.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.support.queue_sample import HOSTILE_STRINGS, fill_queue
from tests.support.web import queue
from tests.web.browser import ARTIFACTS, Watch, needs_chromium
from watcher.diff.model import FieldChange
from watcher.store.db import Database

pytestmark = [pytest.mark.playwright, needs_chromium]


async def flash(page: Page) -> str:
    return str(await page.inner_text("#live .flash-text"))


async def test_review_scenario(browser_page: tuple[Page, Watch], db: Database) -> None:
    page, watch = browser_page
    sv_ids: list[int] = []
    for n in range(6):
        sv_ids += await queue(
            db, revision=100 + n, file=f"File:Harbour at dusk {n % 3}.jpg", object_id=f"EXM-{n % 3}",
            user=f"Editor {n}", comment=f"Swedish caption, edit {n}", timestamp=f"2026-03-0{n + 1}T10:00:00Z",
            changes=[FieldChange("caption", "added", None, f"Hamnen i skymning, nr {n}", language="sv")],
        )  # fmt: skip
    for n in range(4):
        await queue(
            db, revision=200 + n, file=f"File:Portrait {n}.jpg", object_id=f"EXM-P{n}",
            changes=[FieldChange("description", "changed", "A woman, oil", f'A "woman", oil on canvas {n}',
                                 "Information", None, "en")],
        )  # fmt: skip
    await page.goto(page.url)
    assert await page.locator("article.change").count() == 10

    # Filter: Swedish only.
    await page.click("details.filters summary")
    await page.select_option("select[name=language]", "sv")
    await page.click("button:has-text('Filter')")
    await page.wait_for_url(lambda url: "language=sv" in url)
    assert "user=" not in page.url  # empty filters stay out of the address
    assert await page.locator("article.change").count() == 6
    assert await page.locator("article.change .lang").all_inner_texts() == ["sv"] * 6

    # Accept one, with the card's own button: the card says so where it is, the message names it.
    first = page.locator("article.change").first
    first_id = int((await first.get_attribute("id") or "").removeprefix("change-"))
    first_file = await page.locator(".file-group").first.locator(".file-title").inner_text()
    await first.locator("button.accept").click()
    await expect(page.locator("#live .flash-text")).to_have_text(
        f"Accepted #{first_id} (caption, sv) of {first_file}."
    )
    await expect(page.locator(f"#change-{first_id}")).to_have_class("change status-accepted")
    assert "language=sv" in page.url  # still on the same filtered view
    await page.reload()
    assert await page.locator("article.change").count() == 5  # gone from the pending tab

    # Bulk reject two.
    boxes = page.locator("input.pick")
    rejected = [int(await boxes.nth(i).get_attribute("value") or 0) for i in (0, 1)]
    await boxes.nth(0).check()
    await boxes.nth(1).check()
    assert await page.inner_text("#bulk .picked") == "2 selected"
    await page.click("button:has-text('Reject selected')")
    await page.wait_for_load_state()
    assert (await flash(page)).startswith(
        f"Rejected 2 changes: #{min(rejected)} (caption, sv) of File:Harbour"
    )
    assert await page.locator("article.change").count() == 3

    # A note on a pending change.
    card = page.locator("article.change").first
    noted_id = int((await card.get_attribute("id") or "").removeprefix("change-"))
    await card.locator("input[name=note]").fill("Check the ship's name, with the registrar")
    await card.locator("button:has-text('Save note')").click()
    await expect(page.locator("#live .flash-text")).to_contain_text(
        f"Saved the note of #{noted_id} (caption, sv)"
    )
    await page.reload()
    assert await page.locator(f"#change-{noted_id} input[name=note]").input_value() == (
        "Check the ship's name, with the registrar"
    )
    statuses = {r[0]: r[1] for r in await db.fetchall("SELECT id, status FROM changes")}
    assert statuses[first_id] == "accepted" and [statuses[i] for i in rejected] == ["rejected", "rejected"]

    # Download the CSV of the accepted ones (the default), as a curator would.
    await page.click("details.export summary")
    async with page.expect_download() as download_info:
        await page.click("details.export button:has-text('Download')")
    download = await download_info.value
    assert download.suggested_filename.startswith("watcher-export-") and download.suggested_filename.endswith(
        ".csv"
    )
    text = Path(await download.path()).read_text(encoding="utf-8-sig")  # the page's CSV has a BOM
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(int(r["id"]), r["status"], r["reviewer"], r["language"]) for r in rows] == [
        (first_id, "accepted", "anna", "sv")
    ]
    assert rows[0]["object_id"].startswith("EXM-") and rows[0]["new"].startswith("Hamnen i skymning")
    # A filtered view's download is not the routine export: it marks nothing.
    assert await db.scalar("SELECT count(*) FROM changes WHERE exported_at IS NOT NULL") == 0

    # The routine export (no filters) marks what it wrote; the next one has nothing new and says so.
    await page.goto(page.url.split("?")[0])
    await page.click("details.export summary")
    async with page.expect_download() as download_info:
        await page.click("details.export button:has-text('Download')")
    routine = Path(await (await download_info.value).path()).read_text(encoding="utf-8-sig")
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(routine, newline=""))] == [first_id]
    assert await db.scalar("SELECT count(*) FROM changes WHERE exported_at IS NOT NULL") == 1
    await page.click("details.export button:has-text('Download')")  # the panel is still open
    await page.wait_for_load_state()
    assert (await flash(page)).startswith("Nothing new since ")

    # The whole queue, for the screenshot.
    await page.goto(page.url.split("?")[0] + "?status=all")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    await page.set_viewport_size({"width": 375, "height": 812})
    await page.evaluate("document.querySelector('.summary-line').scrollIntoView()")
    await page.screenshot(path=str(ARTIFACTS / "queue-phone.png"))
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert watch.clean(), (watch.dialogs, watch.errors, watch.csp)


async def test_hostile_content_never_runs_and_keeps_the_layout(
    browser_page: tuple[Page, Watch], db: Database
) -> None:
    page, watch = browser_page
    await fill_queue(db, 60, files=10, hostile=True)
    ids = await queue(
        db, revision=9_000_000, file="File:" + HOSTILE_STRINGS[1] + ".jpg", user=HOSTILE_STRINGS[0],
        comment=HOSTILE_STRINGS[2] + " " + HOSTILE_STRINGS[3], object_id=HOSTILE_STRINGS[4],
        timestamp="2027-01-01T00:00:00Z",
        changes=[
            FieldChange("description", "changed", HOSTILE_STRINGS[5], HOSTILE_STRINGS[6], "Information", None, "en"),
            FieldChange(HOSTILE_STRINGS[3], "added", None, HOSTILE_STRINGS[1], template=HOSTILE_STRINGS[0]),
        ],
    )  # fmt: skip
    await db.write("UPDATE changes SET note = ? WHERE id = ?", (HOSTILE_STRINGS[1], ids[0]))
    base = page.url.split("?")[0].rstrip("/")
    for width in (1280, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        for path in ("/", "/?status=all&kind=all&per_page=200", f"/changes/{ids[0]}", f"/changes/{ids[1]}"):
            await page.goto(base + path)
            await page.wait_for_load_state("load")
            for card in (await page.locator("article.change").all())[:5]:
                await card.hover()  # would fire any onmouseover that slipped through
            assert await page.evaluate("typeof window.__pwned") == "undefined", path
            assert (
                await page.evaluate(
                    "document.querySelectorAll('[onerror],[onload],[onmouseover],iframe,svg,style,body script:not([src])')"
                    ".length"
                )
                == 0
            )
            assert await page.evaluate(
                "Array.from(document.querySelectorAll('a[href]')).every(a => ['http:', 'https:'].includes(a.protocol))"
            )
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
                path,
                width,
            )
            assert await page.is_visible("header.top")
        if width == 1280:
            await page.goto(base + "/")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "hostile.png"), full_page=False)
    # The text is shown as text.
    await page.goto(base + f"/changes/{ids[0]}")
    assert HOSTILE_STRINGS[0] in await page.inner_text(".facts")
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors
    assert watch.csp == [], watch.csp
