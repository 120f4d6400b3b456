"""Reviewing in a real browser without losing the place (issue 15): a decision updates its card where it
is and moves the focus on, its message says which change with an Undo, keys do it all (j/k, a/r, u,
o, ?), the page without script comes back at the next card, and times are the curator's."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.support.web import queue
from tests.web.browser import DESKTOP, BrowserOpener, Watch, needs_chromium
from watcher.diff.model import FieldChange
from watcher.store.db import Database

pytestmark = [pytest.mark.playwright, needs_chromium]


async def twelve(db: Database) -> list[int]:
    """Six files with two edits each; the page shows them newest file first."""
    ids: list[int] = []
    for n in range(12):
        ids += await queue(
            db, revision=100 + n, file=f"File:Harbour at dusk {n % 6}.jpg", object_id=f"EXM-{n % 6}",
            user=f"Editor {n}", timestamp=f"2026-03-{n + 1:02d}T10:00:00Z",
            changes=[FieldChange("caption", "added", None, f"Hamnen i skymning, nr {n}", language="sv")],
        )  # fmt: skip
    return ids


async def card_ids(page: Page) -> list[int]:
    ids = await page.locator("article.change").evaluate_all("cards => cards.map(c => c.id)")
    return [int(i.removeprefix("change-")) for i in ids]


async def status_of(db: Database, change: int) -> str:
    return str(await db.scalar("SELECT status FROM changes WHERE id = ?", (change,)))


async def file_of(page: Page, change: int) -> str:
    title = page.locator(f".file-group:has(#change-{change}) .file-title")
    return str(await title.inner_text())


async def test_accept_then_undo_keeps_the_place(browser_page: tuple[Page, Watch], db: Database) -> None:
    page, watch = browser_page
    await twelve(db)
    await page.goto(page.url)
    order = await card_ids(page)
    chosen, following = order[6], order[7]
    card = page.locator(f"#change-{chosen}")
    await card.scroll_into_view_if_needed()
    before = await page.evaluate("window.scrollY")
    assert before > 200  # well down the page
    await card.locator("button.accept").click()
    live = page.locator("#live .flash-text")
    await expect(live).to_have_text(f"Accepted #{chosen} (caption, sv) of {await file_of(page, chosen)}.")
    await expect(card).to_have_class("change status-accepted")  # redrawn where it was
    await expect(page.locator(f"#change-{following}")).to_be_focused()  # on to the next change
    after = await page.evaluate("window.scrollY")
    assert abs(after - before) < 600, (before, after)  # the page did not jump back to the top
    assert await status_of(db, chosen) == "accepted"
    assert await card_ids(page) == order
    await expect(page.locator("#live")).to_have_attribute("aria-live", "polite")

    await page.locator("#live button.undo").click()
    await expect(live).to_have_text(
        f"Undid the decision on #{chosen} (caption, sv) of {await file_of(page, chosen)}."
    )
    await expect(card).to_have_class("change status-pending")
    await expect(card).to_be_focused()
    assert await status_of(db, chosen) == "pending"
    assert await page.locator("#live button.undo").count() == 0
    assert abs(await page.evaluate("window.scrollY") - before) < 600
    assert watch.clean(), (watch.dialogs, watch.errors, watch.csp)


async def test_the_keyboard_path(browser_page: tuple[Page, Watch], db: Database) -> None:
    page, watch = browser_page
    await twelve(db)
    await page.goto(page.url)
    order = await card_ids(page)
    await expect(page.locator("#shortcuts")).to_be_visible()  # listed on the page (with script)
    await page.keyboard.press("j")
    await expect(page.locator(f"#change-{order[0]}")).to_be_focused()
    await page.keyboard.press("j")
    second = page.locator(f"#change-{order[1]}")
    await expect(second).to_be_focused()
    outline = await second.evaluate(
        "c => getComputedStyle(c).outlineStyle + ' ' + getComputedStyle(c).outlineWidth"
    )
    assert outline == "solid 3px"  # the focus is visible

    await page.keyboard.press("a")
    await expect(second).to_have_class("change status-accepted")
    await expect(page.locator(f"#change-{order[2]}")).to_be_focused()
    assert await status_of(db, order[1]) == "accepted"
    await page.keyboard.press("u")
    await expect(second).to_have_class("change status-pending")
    await expect(second).to_be_focused()
    assert await status_of(db, order[1]) == "pending"

    await page.keyboard.press("r")
    await expect(second).to_have_class("change status-rejected")
    await page.keyboard.press("k")
    await page.keyboard.press("k")
    await expect(page.locator(f"#change-{order[0]}")).to_be_focused()
    await page.keyboard.press("u")  # undoes the rejection, wherever the focus is
    await expect(second).to_have_class("change status-pending")

    # Never while typing: the keys go into the note.
    note = page.locator(f"#change-{order[3]} input[name=note]")
    await note.click()
    await page.keyboard.type("jar ok?")
    assert await note.input_value() == "jar ok?"
    await expect(note).to_be_focused()
    assert [await status_of(db, i) for i in order] == ["pending"] * len(order)

    await page.locator(f"#change-{order[3]} .change-id").focus()
    await page.keyboard.press("?")
    await expect(page.locator("#shortcuts")).to_have_attribute("open", "")
    await expect(page.locator("#shortcuts")).to_contain_text("undo the last decision")
    await page.keyboard.press("Escape")
    await expect(page.locator("#shortcuts")).not_to_have_attribute("open", "")
    await page.keyboard.press("j")
    await expect(page.locator(f"#change-{order[4]}")).to_be_focused()
    await page.keyboard.press("o")
    await page.wait_for_url(f"**/changes/{order[4]}")
    assert watch.clean(), (watch.dialogs, watch.errors, watch.csp)


async def test_without_script_a_decision_comes_back_at_the_next_card(
    open_browser: BrowserOpener, db: Database
) -> None:
    await twelve(db)
    async with open_browser(javascript=False) as (page, watch):
        await page.goto(page.url + "?language=sv")
        order = await card_ids(page)
        assert await page.locator("#shortcuts").is_hidden()  # no keys without script: not listed
        file = await file_of(page, order[2])
        await page.locator(f"#change-{order[2]} button.accept").click()
        await page.wait_for_url(f"**/?language=sv#change-{order[3]}")
        await expect(page.locator("#live .flash-text")).to_have_text(
            f"Accepted #{order[2]} (caption, sv) of {file}."
        )
        assert await page.evaluate("document.querySelector(':target').id") == f"change-{order[3]}"
        assert await page.evaluate("window.scrollY") > 200  # at that card, not at the top
        message = await page.locator("#live").bounding_box()
        assert (
            message is not None
            and message["y"] >= 0
            and message["y"] + message["height"] <= DESKTOP["height"]
        )
        await page.locator("#live button.undo").click()
        await page.wait_for_url(f"**/?language=sv#change-{order[2]}")
        await expect(page.locator("#live .flash-text")).to_have_text(
            f"Undid the decision on #{order[2]} (caption, sv) of {file}."
        )
        assert await status_of(db, order[2]) == "pending"
        assert await card_ids(page) == order
        # UTC without script, on the page and on hover.
        time = page.locator(f"#change-{order[0]} .prov time")  # the newest file's first edit
        assert await time.get_attribute("datetime") == "2026-03-06T10:00:00Z"
        assert await time.inner_text() == "2026-03-06 10:00 UTC"
        assert await time.get_attribute("title") == "2026-03-06 10:00 UTC"
        assert watch.clean()


async def test_times_are_the_curators_local_time_with_utc_on_hover(
    open_browser: BrowserOpener, db: Database
) -> None:
    (change,) = await queue(db, timestamp="2026-03-01T10:00:00Z")
    for zone, local in (
        ("Europe/Stockholm", "1 Mar 2026, 11:00 CET"),
        ("America/New_York", "1 Mar 2026, 05:00 GMT-5"),
    ):
        async with open_browser(timezone=zone) as (page, watch):
            time = page.locator(f"#change-{change} .prov time")
            await expect(time).to_have_text(local)
            assert await time.get_attribute("title") == "2026-03-01 10:00 UTC"
            assert await time.get_attribute("datetime") == "2026-03-01T10:00:00Z"
            assert watch.clean()


async def test_accept_all_by_this_editor_in_this_edit_in_place(
    browser_page: tuple[Page, Watch], db: Database
) -> None:
    page, watch = browser_page
    edit = await queue(
        db, revision=300, file="File:Chair.jpg", user="Lena", timestamp="2026-03-05T10:00:00Z",
        changes=[FieldChange("caption", "added", None, "Stol", language="sv"),
                 FieldChange("title", "added", None, "Stol", "Artwork")],
    )  # fmt: skip
    (after,) = await queue(db, revision=301, file="File:Table.jpg", timestamp="2026-03-01T10:00:00Z")
    await page.goto(page.url + "?group=edit")
    assert await page.locator(".edit-group").count() == 2
    await page.locator(f"#change-{edit[1]} button.accept-edit").click()
    await expect(page.locator("#live .flash-text")).to_have_text(
        f"Accepted 2 changes of File:Chair.jpg: #{edit[0]} (caption, sv), #{edit[1]} (title)."
    )
    for change in edit:
        await expect(page.locator(f"#change-{change}")).to_have_class("change status-accepted")
    await expect(page.locator(f"#change-{after}")).to_be_focused()
    await expect(page.locator(".tabs .count[data-status=accepted]")).to_have_text("2")
    assert [await status_of(db, i) for i in (*edit, after)] == ["accepted", "accepted", "pending"]
    await page.keyboard.press("u")
    for change in edit:
        await expect(page.locator(f"#change-{change}")).to_have_class("change status-pending")
    assert watch.clean(), (watch.dialogs, watch.errors, watch.csp)
