"""Accessibility of the review page (issue 15): axe-core finds no serious or critical violation on the
sign-in, queue, change, export and overview pages, at the desktop size and at a phone's 375 px; the layout fits a
phone; keyboard-only use reaches and decides a change with the focus always visible. Screenshots of
each page at both sizes go to test-artifacts/.

axe-core comes inside the ``axe-playwright-python`` package (its bundled ``axe.min.js``, injected
into the page); the browser reaches nothing but the test server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Page, expect

from tests.support.web import queue
from tests.web.browser import ARTIFACTS, DESKTOP, PHONE, BrowserOpener, needs_chromium
from tests.web.samples import labelled_config, queue_word_samples
from watcher.config import Config
from watcher.diff.model import FieldChange
from watcher.store.db import Database

pytestmark = [pytest.mark.playwright, needs_chromium]

AXE = Axe()
SERIOUS = ("serious", "critical")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return labelled_config(tmp_path)


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings, one line each (rule, impact, where)."""
    results = await AXE.run(page, options={"resultTypes": ["violations"]})
    violations: list[dict[str, Any]] = results.response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in SERIOUS
    ]


async def check_page(page: Page, name: str, *, open_panels: bool = True) -> None:
    """Screenshots at both sizes, axe at both sizes (with every panel open), and no sideways scrolling."""
    ARTIFACTS.mkdir(exist_ok=True)
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, size)
        if open_panels:
            await page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        found = await serious_violations(page)
        assert found == [], (name, size, found)
        if open_panels:
            await page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = false; })")
    await page.set_viewport_size(DESKTOP)


async def a_full_queue(db: Database) -> None:
    await queue_word_samples(db)
    for n in range(4):
        await queue(
            db, revision=700 + n, file=f"File:Portrait {n}.jpg", object_id=f"EXM-P{n}", user=f"Editor {n}",
            comment="[[Help:Gadget-HotCat|HotCat]]: adjusted description",
            changes=[FieldChange("description", "changed", "A woman, oil", f"A woman, [[oil paint|oil]] on canvas {n}",
                                 "Information", None, "en"),
                     FieldChange("caption", "added", None, f"Porträtt {n}", language="sv")],
        )  # fmt: skip


async def test_axe_finds_nothing_serious_on_any_page(open_browser: BrowserOpener, db: Database) -> None:
    await a_full_queue(db)
    async with open_browser(user=None) as (page, watch):
        await expect(page.locator("#name")).to_be_visible()
        await check_page(page, "sign-in")
        assert watch.clean()
    async with open_browser() as (page, watch):
        base = page.url.rstrip("/")
        await check_page(page, "queue")
        # After a decision made in place: the message with its Undo, at the bottom of the window.
        await page.locator("article.change button.accept").first.click()
        await expect(page.locator("#live button.undo")).to_be_visible()
        await check_page(page, "queue-decided", open_panels=False)
        await page.goto(base + "/?group=edit&status=all&lang=en")
        await check_page(page, "queue-by-edit")
        change = await page.locator("article.change:has(.field:text-is('depicts'))").first.get_attribute("id")
        assert change is not None
        await page.goto(f"{base}/changes/{change.removeprefix('change-')}?lang=en")
        await check_page(page, "change")
        await page.goto(base + "/export")
        await check_page(page, "export")
        await page.goto(base + "/overview?month=2026-03")  # the month the samples were edited in
        await expect(page.locator("svg.chart rect").first).to_be_attached()
        await check_page(page, "overview")
        assert watch.clean(), (watch.dialogs, watch.errors, watch.csp)


async def test_keyboard_only_reaches_and_decides_a_change_with_the_focus_visible(
    open_browser: BrowserOpener, db: Database
) -> None:
    await a_full_queue(db)
    async with open_browser() as (page, watch):
        await page.goto(page.url)
        await page.keyboard.press("Tab")
        skip = page.locator("a.skip")
        await expect(skip).to_be_focused()
        box = await skip.bounding_box()
        assert box is not None and box["y"] >= 0  # shown when focused
        await page.keyboard.press("Enter")
        await expect(page.locator("main")).to_be_focused()
        seen: list[str] = []
        for _ in range(80):
            await page.keyboard.press("Tab")
            focused = await page.evaluate(
                """() => { const e = document.activeElement; const s = getComputedStyle(e);
                   return [e.tagName + '.' + e.className + ':' + (e.textContent || '').trim().slice(0, 20),
                           s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
            )
            seen.append(focused[0])
            assert focused[1] != "none" and focused[2] >= 2, focused  # every stop shows where it is
            if focused[0].startswith("BUTTON.accept:Accept change"):  # a card's (not "Accept selected")
                break
        else:
            pytest.fail(f"no card's Accept button within 80 tab stops: {seen}")
        card_id = await page.evaluate("document.activeElement.closest('article.change').id")
        change = int(card_id.removeprefix("change-"))
        assert card_id == await page.locator("article.change").first.get_attribute("id")  # the first card's
        await page.keyboard.press("Enter")
        await expect(page.locator("#live .flash-text")).to_contain_text(f"Accepted #{change} ")
        assert await db.scalar("SELECT status FROM changes WHERE id = ?", (change,)) == "accepted"
        assert watch.clean()


async def test_the_phone_layout_fits_and_its_buttons_are_in_reach(
    open_browser: BrowserOpener, db: Database
) -> None:
    await a_full_queue(db)
    async with open_browser(viewport=PHONE) as (page, watch):
        base = page.url.rstrip("/")
        for path in ("/", "/?group=edit", "/changes/1", "/export", "/overview?month=2026-03"):
            await page.goto(base + path)
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        await page.goto(base + "/")
        card = page.locator("article.change").nth(2)
        for button in ("button.accept", "button.reject"):
            box = await card.locator(button).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
                button,
                box,
            )
            assert box["height"] >= 32  # big enough to tap
        values = await card.locator(".values").evaluate(
            "v => getComputedStyle(v).gridTemplateColumns.split(' ').length"
        )
        assert values == 1  # before and after one above the other
        await card.locator("button.accept").click()
        await expect(page.locator("#live button.undo")).to_be_visible()
        toast = await page.locator("#live").bounding_box()
        assert toast is not None and toast["x"] >= 0 and toast["x"] + toast["width"] <= PHONE["width"]
        assert toast["y"] + toast["height"] <= PHONE["height"]  # in view, at the bottom
        assert watch.clean()


async def test_the_axe_run_would_find_a_violation(open_browser: BrowserOpener) -> None:
    """The check above can fail: an unlabelled field and grey-on-grey text on the sign-in page are found."""
    async with open_browser(user=None) as (page, _):
        await page.evaluate(
            """() => { const field = document.createElement('input'); field.type = 'text';
               const faint = document.createElement('p'); faint.textContent = 'hard to read';
               faint.setAttribute('class', 'faint-test'); faint.style.color = '#bbb'; faint.style.background = '#ccc';
               document.querySelector('main').append(field, faint); }"""
        )
        found = " ".join(await serious_violations(page))
        assert "label" in found and "color-contrast" in found, found
