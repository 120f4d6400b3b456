"""What a curator reads in the browser (issue 15): the labelled statement, the rendered date, the raw
wikitext one click away, and the label language picked from the page's own select."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.web.browser import ARTIFACTS, Watch, needs_chromium
from tests.web.samples import labelled_config, queue_word_samples
from watcher.config import Config
from watcher.store.db import Database

pytestmark = [pytest.mark.playwright, needs_chromium]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return labelled_config(tmp_path)


async def test_the_labelled_statement_and_the_rendered_date(
    browser_page: tuple[Page, Watch], db: Database
) -> None:
    page, watch = browser_page
    q = await queue_word_samples(db)
    await page.goto(page.url)
    depicts = page.locator(f"#change-{q.depicts}")
    await expect(depicts.locator(".field")).to_have_text("avbildar")  # sv, the first of [labels] languages
    await expect(depicts.locator(".values .side").nth(1).locator(".value")).to_have_text(
        "Crassula (Q17199752)"
    )
    await expect(depicts.locator("a.more")).to_have_attribute(
        "href", "https://www.wikidata.org/wiki/Q17199752"
    )
    await expect(depicts.locator(".summary-text")).to_have_text(
        "added a statement: avbildar Crassula (Q17199752)"
    )
    await expect(page.locator(f"#change-{q.inception} .values .side").nth(1).locator(".value")).to_have_text(
        "1904"
    )

    date = page.locator(f"#change-{q.date}")
    await expect(date.locator(".values .side").nth(1).locator(".value")).to_have_text("circa 1750")
    after = date.locator(".values .side").nth(1)
    raw = after.locator("details.raw pre.wikitext")
    await expect(raw).to_be_hidden()  # one click away
    await after.locator("details.raw summary").click()
    await expect(raw).to_have_text("{{other date|ca|1750}}")
    await expect(raw).to_be_visible()

    # The label language: the page's select, remembered for the next page.
    await page.select_option("#label-language", "en")
    await page.wait_for_url("**/?lang=en")
    await expect(page.locator(f"#change-{q.depicts} .field")).to_have_text("depicts")
    await page.goto(page.url.split("?")[0] + f"changes/{q.depicts}")
    await expect(page.locator(f"#change-{q.depicts} .field")).to_have_text("depicts")
    await expect(page.locator("#label-language")).to_have_value("en")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "words-change.png"), full_page=True)
    assert watch.clean(), (watch.dialogs, watch.errors, watch.csp)
