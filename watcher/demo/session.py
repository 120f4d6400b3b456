"""The recorded demo session: a museum's files and a day of community edits to them.

The page texts are real Commons file pages (LSH's GLAM batch uploads, an Artwork page, CropTool's
real before/after pair, a Featured picture's `{{mld}}` description) shipped in ``data/``; the edits
are what volunteers typically do to such pages. Captured events of other wikis ride along as noise.
Each file has a small picture of what it shows (``data/thumbs``), which the stand-in serves as its
thumbnail, and the stand-in answers Wikidata's ``wbgetentities`` with the real labels of the items and
properties the changes name (``data/wikidata_labels.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from watcher.demo.standins.action_api import ActionApiPeer

CATEGORY = "Category:Media contributed by LSH"
SUBCATEGORY = "Category:Media contributed by LSH: 2015-11"


def data(name: str) -> str:
    return resources.files("watcher.demo").joinpath("data", name).read_text(encoding="utf-8")


def picture(name: str) -> bytes:
    """One of the small PNG pictures in ``data/thumbs`` (made by :mod:`watcher.demo.standins.pictures`)."""
    return resources.files("watcher.demo").joinpath("data", "thumbs", name).read_bytes()


def wikidata_labels() -> dict[str, dict[str, str]]:
    """The real Wikidata labels of the items and properties the session's changes name, by id."""
    entities = json.loads(data("wikidata_labels.json"))["entities"]
    return {entity_id: dict(spec["labels"]) for entity_id, spec in entities.items()}


def captured_events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in data("captured_events.jsonl").splitlines() if line.strip()]


FILES: dict[str, str] = {
    "File:Armband av träkulor, 1842 - Livrustkammaren - 98906.jpg": "lsh_glam_batch_armband_98906.wikitext",
    "File:Undersidan av stol - Skoklosters slott - 103896.jpg": "lsh_glam_batch_stol_103896.wikitext",
    "File:Portrait de Picasso - Modigliani - Livrustkammaren - 100001.jpg": "dreykh_modigliani_artwork.wikitext",
    "File:Church 1905 - Hallwylska museet - 100002.jpg": "croptool_ru_church_1905.old.wikitext",
    "File:Platichthys flesus - Hallwylska museet - 100003.jpg": "memucho_platichthys_mld.old.wikitext",
    "File:Crassula - Hallwylska museet - 100004.jpg": "dreykh_crassula_information.wikitext",
}
# What each file's thumbnail shows, in the order of FILES.
PICTURES = ("armband.png", "chair.png", "portrait.png", "church.png", "flounder.png", "crassula.png")


@dataclass(frozen=True)
class Step:
    """One thing that happens on the wiki during the demo."""

    says: str
    act: Callable[[ActionApiPeer], object]


def build_wiki(wiki: ActionApiPeer) -> None:
    """The museum's files as they were uploaded, in its category and a batch subcategory."""
    wiki.add_page(
        CATEGORY, "Media contributed by LSH (Livrustkammaren, Skoklosters slott, Hallwylska museet)."
    )
    wiki.add_page(SUBCATEGORY, f"[[{CATEGORY}]]")
    for (title, name), shown in zip(FILES.items(), PICTURES, strict=True):
        wiki.add_page(title, data(name), user="LSH upload bot", categories=[CATEGORY])
        wiki.pictures[title] = picture(shown)
    # The stand-in plays Wikidata too (the demo's [labels] api_url): the labels the changes need.
    for entity_id, labels in wikidata_labels().items():
        wiki.add_entity(entity_id, labels)
    wiki.add_page(
        "File:Sunrise over Dülmen.jpg",
        "{{Information|description={{en|1=Not the museum's}}}}",
        user="Someone",
    )


def _replace(title: str, old: str, new: str) -> Callable[[ActionApiPeer], object]:
    def act(wiki: ActionApiPeer) -> object:
        text = wiki.page(title).latest.wikitext
        if old not in text:
            raise ValueError(f"demo step cannot find {old!r} in {title}")
        return wiki.edit(
            title, text.replace(old, new, 1), user=_user(title, old), comment=f"demo: {new[:40]}"
        )

    return act


def _user(title: str, text: str) -> str:
    names = ["Kulturarvsvän", "Translatrice", "Dating Detective", "Cat-a-lot user", "Geo Volunteer"]
    return names[(len(title) + len(text)) % len(names)]


ARMBAND, STOL, PICASSO, CHURCH, FLOUNDER, CRASSULA = FILES


def _depicts(wiki: ActionApiPeer, title: str, item: str) -> dict[str, Any]:
    """A "depicts" statement as Wikibase stores it, shaped like the real one of M566797 (data/)."""
    statement = json.loads(data("M566797_wbgetentities_entity.json"))["statements"]["P180"][0]
    statement["mainsnak"].pop("hash", None)
    statement["mainsnak"]["datavalue"]["value"] = {
        "entity-type": "item",
        "numeric-id": int(item[1:]),
        "id": item,
    }
    statement["id"] = f"M{wiki.page(title).pageid}$5e1f3c2a-6b0d-4f8e-9a71-0c2d4b6e8f10"
    return dict(statement)


def steps() -> list[Step]:
    return [
        Step(
            "A volunteer adds an English translation of the armband's description",
            _replace(ARMBAND, "|description= {{sv|", "|description= {{en|1=A bracelet of wooden beads, 1842.}}\n{{sv|"),
        ),
        Step(
            "Someone refines the chair's date",
            _replace(STOL, "|date= {{other date|ca|1750}}", "|date= {{other date|between|1745|1755}}"),
        ),
        Step("CropTool links a cropped version of the church photo (a real CropTool edit)", lambda w: w.edit(
            CHURCH, data("croptool_ru_church_1905.new.wikitext"), user="CropBot user", comment="Cropped")),
        Step("Three languages are removed from the flounder's {{mld}} description", lambda w: w.edit(
            FLOUNDER, data("memucho_platichthys_mld.new.wikitext"), user="Pruner", comment="trim")),
        Step("A category is added to the portrait", _replace(
            PICASSO, "[[Category:Amedeo Modigliani]]",
            "[[Category:Amedeo Modigliani]]\n[[Category:Paintings in the Hallwyl Museum]]")),
        Step("Structured data: a Swedish caption is added to the crassula", lambda w: w.edit(
            CRASSULA, mediainfo={
                "type": "mediainfo", "id": f"M{w.page(CRASSULA).pageid}",
                "labels": {"sv": {"language": "sv", "value": "Krassula i blom"}},
                "descriptions": {}, "statements": {},
            }, user="Depictor", comment="/* wbsetlabel-add:1|sv */ Krassula i blom")),
        Step("Structured data: the portrait is said to depict Pablo Picasso", lambda w: w.edit(
            PICASSO, mediainfo={
                "type": "mediainfo", "id": f"M{w.page(PICASSO).pageid}", "labels": {}, "descriptions": {},
                "statements": {"P180": [_depicts(w, PICASSO, "Q5593")]},
            }, user="Depictor",
            comment="/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q5593]]")),
        Step("A bot reformats the armband page (noise: a bot edit)", lambda w: w.edit(
            ARMBAND, w.page(ARMBAND).latest.wikitext.replace("|title= {{Title|Armband}}", "| title = {{Title|Armband}}"),
            user="TidyBot", bot=True)),
        Step("Someone only changes white space on the chair page (noise)", lambda w: w.edit(
            STOL, w.page(STOL).latest.wikitext.replace("|source= SKO", "|source=  SKO "), user="Spacey")),
        Step("An unrelated file is edited (not the museum's)", lambda w: w.edit(
            "File:Sunrise over Dülmen.jpg", "{{Information|description={{en|1=Sunrise}}}}", user="Someone")),
    ]  # fmt: skip
