"""The recorded demo session: a museum's files and a day of community edits to them.

The page texts are real Commons file pages (LSH's GLAM batch uploads, an Artwork page, CropTool's
real before/after pair, a Featured picture's `{{mld}}` description) shipped in ``data/``; the edits
are what volunteers typically do to such pages. Captured events of other wikis ride along as noise.
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
    for title, name in FILES.items():
        wiki.add_page(title, data(name), user="LSH upload bot", categories=[CATEGORY])
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


def steps() -> list[Step]:
    caption_entity = json.loads(data("M566797_wbgetentities_entity.json"))
    depicts = caption_entity["statements"]["P180"][:1]
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
        Step("Structured data: a caption and a 'depicts' statement are added to the crassula", lambda w: w.edit(
            CRASSULA, mediainfo={
                "type": "mediainfo", "id": f"M{w.page(CRASSULA).pageid}",
                "labels": {"sv": {"language": "sv", "value": "Krassula i blom"}},
                "descriptions": {}, "statements": {"P180": depicts},
            }, user="Depictor", comment="/* wbeditentity-update:0| */ caption and depicts")),
        Step("A bot reformats the armband page (noise: a bot edit)", lambda w: w.edit(
            ARMBAND, w.page(ARMBAND).latest.wikitext.replace("|title= {{Title|Armband}}", "| title = {{Title|Armband}}"),
            user="TidyBot", bot=True)),
        Step("Someone only changes white space on the chair page (noise)", lambda w: w.edit(
            STOL, w.page(STOL).latest.wikitext.replace("|source= SKO", "|source=  SKO "), user="Spacey")),
        Step("An unrelated file is edited (not the museum's)", lambda w: w.edit(
            "File:Sunrise over Dülmen.jpg", "{{Information|description={{en|1=Sunrise}}}}", user="Someone")),
    ]  # fmt: skip
