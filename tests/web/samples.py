"""Real samples queued the way the pipeline queues them, for what the review page says in words: the
LSH chair's ``|date= {{other date|ca|1750}}`` (tests/fixtures/wikitext) and the Crassula drawing's
structured data (M566797: depicts Q17199752, inception 1904 at year precision), a photographer's creator
statement with its qualifiers (M74698470), with labels in the cache as the labels task leaves them."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support.diff import diff_sdc, diff_text, entity
from tests.support.fixtures import wikitext
from tests.support.web import CONFIG_TEXT, queue
from watcher.config import Config, parse_config
from watcher.diff.model import FieldChange
from watcher.mediawiki.types import Thumbnail
from watcher.store.db import Database
from watcher.store.labels import store_labels
from watcher.store.thumbnails import store_thumbnails

LABEL_LANGUAGES = ("sv", "en")
CONFIG_LABELS = '\n[labels]\nlanguages = ["sv", "en"]\n'
# As Wikidata names them (the labels task stores each language asked for, null where there is none).
LABELS = {
    "P180": {"sv": "avbildar", "en": "depicts"},
    "Q17199752": {"en": "Crassula", "sv": "Crassula"},
    "P571": {"sv": "tillkomsttid", "en": "inception"},
    "Q33231": {"sv": "fotograf", "en": "photographer"},
}
CHAIR = "File:Stol - LSH 103896.jpg"
DRAWING = "File:Haeckel Crassula.jpg"
THUMB = "https://upload.wikimedia.org/wikipedia/commons/thumb/a/a9/Haeckel_Crassula.jpg/240px-Haeckel_Crassula.jpg"


def labelled_config(folder: Path) -> Config:
    """The tests' config with [labels] languages = ["sv", "en"] (the page offers both)."""
    return parse_config(CONFIG_TEXT + CONFIG_LABELS, folder / "config.toml")


@dataclass(frozen=True)
class Queued:
    date: int  # {{other date|ca|1750}} added
    depicts: int  # P180 Q17199752 added
    inception: int  # P571 +1904-01-01T00:00:00Z/9 added
    creator: int  # P170 somevalue, with qualifiers (object has role: photographer, ...)


def chair_date() -> list[FieldChange]:
    new = wikitext("lsh_glam_batch_stol_103896.wikitext")
    old = new.replace("|date= {{other date|ca|1750}}", "|date=")
    return [c for c in diff_text(old, new) if c.field == "date"]


def drawing_statements() -> list[FieldChange]:
    drawing = entity("M566797_wbgetentities_entity.json")
    before = copy.deepcopy(drawing)
    before["statements"] = {}
    wanted = {("P180", "Q17199752"), ("P571", "+1904-01-01T00:00:00Z")}
    return [c for c in diff_sdc(before, drawing) if (c.property, c.new) in wanted]


def photo_creator() -> list[FieldChange]:
    photo = entity("M74698470_wbgetentities_response.json")
    before = copy.deepcopy(photo)
    before["statements"] = {}
    return [c for c in diff_sdc(before, photo) if c.property == "P170"]


async def queue_word_samples(db: Database) -> Queued:
    (date,) = await queue(
        db, revision=5001, file=CHAIR, user="LSH batch", timestamp="2026-03-01T10:00:00Z",
        comment="/* Information */ date", object_id="LSH 103896", changes=chair_date(),
    )  # fmt: skip
    depicts, inception = await queue(
        db, revision=5002, file=DRAWING, user="Sdc editor", timestamp="2026-03-02T10:00:00Z",
        comment="/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q17199752]]",
        object_id="NM 42", changes=drawing_statements(),
    )  # fmt: skip
    (creator,) = await queue(
        db, revision=5003, file="File:Photo by Vidartereyes.jpg", user="Sdc editor",
        timestamp="2026-03-03T10:00:00Z", object_id="FOTO 9", changes=photo_creator(),
    )  # fmt: skip
    await store_labels(db, LABELS, LABEL_LANGUAGES, datetime(2026, 3, 2, tzinfo=UTC))
    await store_thumbnails(db, [Thumbnail(DRAWING, THUMB, 240, 180)])
    return Queued(date=date, depicts=depicts, inception=inception, creator=creator)
