"""The review page in words (issue 15): properties by name, items with their label and id, dates as
people write them, summaries in words, the raw wikitext one click away, labels in the language the
curator picks, and the stored thumbnails."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import queue, sign_in
from tests.web.samples import DRAWING, THUMB, labelled_config, queue_word_samples
from watcher.config import Config
from watcher.diff.model import FieldChange
from watcher.store.db import Database


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return labelled_config(tmp_path)


@pytest.fixture
async def anna(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    assert (await sign_in(client, "anna")).status == 303
    return client


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def card(page: str, change: int) -> str:
    return page.split(f'id="change-{change}">', 1)[1].split("</article>", 1)[0]


async def test_statements_dates_and_summaries_read_as_words(anna: TestClient[Any, Any], db: Database) -> None:
    q = await queue_word_samples(db)
    page = await (await anna.get("/?lang=en")).text()
    depicts = card(page, q.depicts)
    assert '<span class="field">depicts</span>' in depicts
    assert '<div class="value"><ins>Crassula (Q17199752)</ins></div>' in depicts
    assert (
        '<a class="more" href="https://www.wikidata.org/wiki/Q17199752" rel="noreferrer">on Wikidata</a>'
        in depicts
    )
    assert "<summary>Raw value" in depicts and '<pre class="wikitext">Q17199752</pre>' in depicts
    assert "added a statement: depicts Crassula (Q17199752)" in text(depicts)  # the summary, in words
    assert "<summary>As typed</summary>" in depicts and "wbsetclaim-create" in depicts  # ... and as typed
    inception = card(page, q.inception)
    assert '<span class="field">inception</span>' in inception and "<ins>1904</ins>" in inception
    creator = card(page, q.creator)
    assert '<span class="field">creator</span>' in creator and "<ins>unknown value</ins>" in creator
    qualifiers = creator.split('<div class="qualifiers">', 1)[1].split("</div>", 1)[0].split("; ")
    assert sorted(qualifiers) == [
        "Wikimedia username: Vidartereyes",
        "author name string: Vidartereyes",
        "object has role: photographer (Q33231)",
    ]
    date = card(page, q.date)
    assert '<div class="value"><ins>circa 1750</ins></div>' in date
    assert "<summary>Wikitext" in date and '<pre class="wikitext">{{other date|ca|1750}}</pre>' in date
    assert "Information: date" in text(date)  # the section comment
    # The stored thumbnail (the wiki's thumb URL), Special:FilePath where none is stored.
    assert f'src="{THUMB}"' in page
    assert 'src="https://commons.wikimedia.org/wiki/Special:FilePath/Stol_-_LSH_103896.jpg?width=120"' in page
    assert DRAWING in page


async def test_the_label_language_is_the_curators_choice_and_is_remembered(
    anna: TestClient[Any, Any], db: Database
) -> None:
    q = await queue_word_samples(db)
    first = await (await anna.get("/")).text()  # the first configured language
    assert '<span class="field">avbildar</span>' in card(first, q.depicts)
    assert '<select id="label-language" name="lang">' in first
    assert '<option value="sv" lang="sv" selected>sv</option>' in first
    response = await anna.get("/?lang=en&status=pending")
    assert response.cookies["watcher_lang"].value == "en"
    form = (await response.text()).split('class="language"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="status" value="pending">' in form and 'name="lang" value' not in form
    remembered = await (await anna.get(f"/changes/{q.depicts}")).text()
    assert '<span class="field">depicts</span>' in remembered
    assert '<option value="en" lang="en" selected>en</option>' in remembered
    ignored = await anna.get("/?lang=xx")  # not one of [labels] languages: not taken, not remembered
    assert "watcher_lang" not in ignored.cookies
    assert '<span class="field">depicts</span>' in card(await ignored.text(), q.depicts)


async def test_word_highlighting_is_on_the_text_not_the_markup(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (change,) = await queue(
        db,
        changes=[FieldChange("description", "changed", "A [[Flounder|flounder]] at sea", "A [[Flounder|plaice]] at sea", "Information", None, "en")],
    )  # fmt: skip
    html = card(await (await anna.get("/")).text(), change)
    assert '<div class="value" lang="en">A <del>flounder</del> at sea</div>' in html
    assert '<div class="value" lang="en">A <ins>plaice</ins> at sea</div>' in html
    assert '<pre class="wikitext">A [[Flounder|plaice]] at sea</pre>' in html


async def test_the_change_page_shows_the_words_too(anna: TestClient[Any, Any], db: Database) -> None:
    q = await queue_word_samples(db)
    page = await (await anna.get(f"/changes/{q.depicts}?lang=en")).text()
    assert "added a statement: depicts Crassula (Q17199752)" in text(page.split("<dt>Summary</dt>", 1)[1])
    assert '<span class="field">inception</span>' in page  # its sibling in the same edit
    assert "<summary>Technical detail (as recorded)</summary>" in page
    assert f'src="{THUMB}"' in page
