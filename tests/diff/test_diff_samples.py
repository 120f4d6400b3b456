"""The real captures: every sample parses into the model, and the real pairs give exactly the
changes the samples' README names."""

from __future__ import annotations

import re

import pytest

from tests.support.diff import (
    all_mediainfo_samples,
    all_wikitext_samples,
    diff_text,
    entity,
    rows,
)
from tests.support.fixtures import mediainfo, wikitext
from watcher.diff import DiffSettings, RevisionContent, diff_revisions, parse_mediainfo, parse_wikitext

SETTINGS = DiffSettings()

# sample → (info templates, categories, licences, locations, {param: languages})
EXPECTED_MODELS: dict[str, tuple[list[str], int, list[str], list[str], dict[str, list[str | None]]]] = {
    "croptool_algoma_steel.old.wikitext": (
        ["Information"],
        1,
        ["PD-self"],
        [],
        {"description": [None], "date": [None], "author": [None]},
    ),
    "croptool_qi_gong_bust_full.old.wikitext": (
        ["Information"],
        5,
        ["cc-by-sa-4.0"],
        [],
        {"description": ["zh"]},
    ),
    "croptool_qi_gong_bust_short.old.wikitext": (
        ["Information"],
        0,
        ["PD-self"],
        [],
        {"other versions": [None]},
    ),
    "croptool_ru_church_1905.old.wikitext": (
        ["Information"],
        2,
        ["PD-old-70-1923"],
        [],
        {"description": ["ru"]},
    ),
    "croptool_solomonic_columns.old.wikitext": (
        ["Information"],
        2,
        ["cc-zero"],
        ["location 41.902029,12.453861"],
        {"description": ["en"]},
    ),
    "dreykh_crassula_information.wikitext": (
        ["Information"],
        12,
        ["cc-by-sa-3.0"],
        [],
        {"description": ["en", "es", "fr"], "date": [None]},
    ),
    "dreykh_modigliani_artwork.wikitext": (
        ["Artwork"],
        2,
        ["PD-Art|PD-old-auto|deathyear=1920"],
        [],
        {"title": ["fr"], "artist": [None], "medium": [None]},
    ),
    "lsh_glam_batch_armband_98906.wikitext": (
        ["LSH artwork"],
        6,
        [],
        [],
        {"description": ["sv"], "title": [None], "inventory number": [None]},
    ),
    "lsh_glam_batch_stol_103896.wikitext": (
        ["LSH artwork"],
        5,
        [],
        [],
        {"date": [None], "other versions": [None]},
    ),
    "memucho_anjuta_transferred.wikitext": (["Information"], 0, [], [], {"description": [None]}),
    "memucho_artwork_school_of_athens.wikitext": (
        ["Artwork"],
        0,
        [],
        [],
        {"title": ["de", "el", "en", "es", "it"], "institution": [None]},
    ),
    "memucho_bundesarchiv_barch_image.wikitext": (
        ["BArch-image"],
        0,
        [],
        [],
        {"id": [None], "inventory": [None]},
    ),
    "memucho_dalian_old_men.wikitext": (
        ["Information"],
        14,
        ["cc-by-sa-3.0", "GFDL"],
        ["object location 38.875052,121.584854"],
        {"description": ["en", "fr", "zh"]},
    ),
    "memucho_duelmen_sunrise.wikitext": (
        ["Information"],
        20,
        ["cc-by-sa-3.0", "cc-by-sa-3.0-de", "cc-by-sa-4.0"],
        ["location 51.821097,7.258872"],
        {"description": ["de", "en", "fr"]},
    ),
    "memucho_flickr_template.wikitext": (
        ["Flickr"],
        0,
        ["cc-by-2.0"],
        [],
        {"description": [None], "flickr url": [None]},
    ),
    "memucho_infobox_aircraft_image.wikitext": (
        ["Infobox aircraft image"],
        0,
        [],
        [],
        {"description": ["en"], "imagedate": [None]},
    ),
    "memucho_kolob_canyons_multilang.wikitext": (
        ["Information"],
        6,
        ["cc-by-3.0"],
        ["location 37.446278,-113.193533"],
        {"description": ["aa", "de", "en", "fr", "it", "zh-hans"]},
    ),
    "memucho_platichthys_mld.old.wikitext": (
        ["Information"],
        9,
        ["cc-by-sa-3.0"],
        [],
        {"description": ["cs", "de", "en", "et", "fr", "pt"]},
    ),
    "pywikibot_transferred_from_idwiki.wikitext": (
        ["Information"],
        0,
        ["PD-IDGov"],
        [],
        {"description": ["id"]},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_MODELS))
def test_sample_parses_into_the_model(name: str) -> None:
    infos, n_categories, licences, locations, languages = EXPECTED_MODELS[name]
    model = parse_wikitext(wikitext(name), SETTINGS)
    assert model.parsed, model.problem
    assert [t.name for t in model.info] == infos
    assert len(model.categories) == n_categories
    assert [lic.value for lic in model.licences] == licences
    assert [f"{c.field} {c.value()}" for c in model.locations] == locations
    for param, langs in languages.items():
        found = model.info[0].param(param)
        assert found is not None, param
        assert [lang for lang, _ in found.values] == langs


def test_every_wikitext_sample_is_covered_and_only_the_malformed_one_fails() -> None:
    singles = {n for n in all_wikitext_samples() if ".new." not in n}
    assert singles - set(EXPECTED_MODELS) == {"memucho_staffelwalze_malformed.wikitext"}
    for name in all_wikitext_samples():
        model = parse_wikitext(wikitext(name), SETTINGS)
        assert model.parsed == (name != "memucho_staffelwalze_malformed.wikitext"), name


def test_values_are_the_text_inside_language_templates_without_comments() -> None:
    model = parse_wikitext(wikitext("memucho_platichthys_mld.old.wikitext"), SETTINGS)
    description = dict(model.info[0].params[0].values)
    assert description["et"] == "Vääna-Jõesuu rannikumere lest"
    assert model.info[0].params[0].name == "description"  # "Description    " canonical
    athens = parse_wikitext(wikitext("memucho_artwork_school_of_athens.wikitext"), SETTINGS)
    title = athens.info[0].param("title")
    assert title is not None and dict(title.values)["it"] == "Scuola di Atene"


def test_categories_keep_names_apart_from_sort_keys_and_accept_lower_case() -> None:
    model = parse_wikitext(wikitext("dreykh_crassula_information.wikitext"), SETTINGS)
    names = [c.name for c in model.categories]
    assert "Images by User:Poco a poco" in names  # written [[category:…]]
    assert all(c.sort_key is None for c in model.categories)


def test_page_level_templates_are_kept_apart_from_headings_and_licences() -> None:
    model = parse_wikitext(wikitext("memucho_duelmen_sunrise.wikitext"), SETTINGS)
    assert [t.name for t in model.templates] == [
        "Assessments",
        "Picture of the day",
        "User:XRay/Templates/Notes",
    ]


@pytest.mark.parametrize("name", all_wikitext_samples())
def test_a_sample_against_itself_is_no_change(name: str) -> None:
    text = wikitext(name)
    assert diff_text(text, text) == []
    trailing = "\n".join(line + "  " for line in text.split("\n"))
    assert diff_text(text, trailing) == []
    if parse_wikitext(text, SETTINGS).parsed:  # white space around parameters, not between words
        respaced = re.sub(r"\n\s*\|\s*([\w ]+?)\s*=", r"\n |  \1   = ", text)
        assert respaced != text
        assert diff_text(text, respaced) == []


README_PAIRS = {
    "croptool_ru_church_1905": [
        (
            "other versions",
            "added",
            None,
            "{{Extracted from|1=My new file.jpg}}",
            "Information",
            None,
            None,
            "content",
        )
    ],
    "croptool_qi_gong_bust_full": [
        (
            "other versions",
            "added",
            None,
            "{{Image extracted|1=My new file.jpg}}",
            "Information",
            None,
            None,
            "content",
        )
    ],
    "croptool_algoma_steel": [
        (
            "other versions",
            "added",
            None,
            "{{Image extracted|1=My new file.jpg}}",
            "Information",
            None,
            None,
            "content",
        )
    ],
    "croptool_qi_gong_bust_short": [
        (
            "other versions",
            "changed",
            "{{Image extracted|HoryujiYumedono0363 edit1.jpg}}",
            "{{Image extracted|HoryujiYumedono0363 edit1.jpg|2=My new file.jpg}}",
            "Information",
            None,
            None,
            "content",
        )
    ],
    "croptool_solomonic_columns": [
        (
            "template",
            "added",
            None,
            "{{Extracted from|1=My old file.jpg}}",
            "Extracted from",
            None,
            None,
            "content",
        )
    ],
    "memucho_platichthys_mld": [
        (
            "description",
            "removed",
            "Eine [[:de:Flunder|Flunder]], ''Platichthys flesus'', nahe dem estnischen Dorf "
            "[[:de:Vääna-Jõesuu|Vääna-Jõesuu]]",
            None,
            "Information",
            None,
            "de",
            "content",
        ),
        (
            "description",
            "removed",
            "''{{W|European flounder|Platichthys flesus}}'' near {{W|Vääna-Jõesuu}} in [[:w:Estonia|Estonia]].",
            None,
            "Information",
            None,
            "en",
            "content",
        ),
        (
            "description",
            "removed",
            "Flet commun, ''Platichthys flesus'', près de Vääna-Jöesuu en [[:Estonie|Estonie]].",
            None,
            "Information",
            None,
            "fr",
            "content",
        ),
    ],
}


@pytest.mark.parametrize("slug", sorted(README_PAIRS))
def test_real_pair_gives_exactly_the_readme_change(slug: str) -> None:
    old, new = wikitext(f"{slug}.old.wikitext"), wikitext(f"{slug}.new.wikitext")
    assert rows(diff_text(old, new)) == README_PAIRS[slug]


def test_every_pair_in_the_folder_is_checked() -> None:
    pairs = {n.split(".")[0] for n in all_wikitext_samples() if ".old." in n}
    assert pairs == set(README_PAIRS)


def test_malformed_sample_degrades_to_a_line_diff() -> None:
    old = wikitext("memucho_staffelwalze_malformed.wikitext")
    new = old.replace("| Date = 1921", "| Date = 1921-05")
    [change] = diff_text(old, new)
    assert (change.field, change.action, change.template, change.old, change.new) == (
        "text",
        "changed",
        None,
        old,
        new,
    )
    assert change.detail is not None
    assert "-| Date = 1921\n+| Date = 1921-05" in change.detail["line_diff"]
    # the broken page against a repaired one is a text change too, never a list of invented removals
    [repaired] = diff_text(old, old.replace("}\n}", "}}"))
    assert repaired.field == "text"


# sample → (entity id, captions, number of statements, {property: first value})
EXPECTED_ENTITIES: dict[str, tuple[str, dict[str, str], int, dict[str, str]]] = {
    "M17372639_wbgetentities_response.json": ("M17372639", {}, 6, {"P180": "Q173387", "P170": "somevalue"}),
    "M189_dump_entity.json": ("M189", {}, 5, {"P275": "Q50829104"}),
    "M238_dump_entity.json": ("M238", {}, 1, {"P180": "Q506126"}),
    "M56656949_wbgetentities_entity.json": (
        "M56656949",
        {},
        17,
        {"P1259": "24.469651,54.380093", "P3575": "571855 Q8799", "P1163": "image/jpeg"},
    ),
    "M566797_wbgetentities_entity.json": (
        "M566797",
        {"en": "Muscinae"},
        13,
        {"P571": "+1904-01-01T00:00:00Z"},
    ),
    "M74698470_wbgetentities_response.json": ("M74698470", {"en": "Chick Corea"}, 9, {"P180": "Q192465"}),
    "M76_dump_entity.json": ("M76", {}, 11, {"P1259": "52.9913,6.5702", "P6757": "0.004 Q11574"}),
    "M99_dump_entity.json": ("M99", {}, 7, {"P571": "+2004-08-01T00:00:00Z"}),
    "fixture_M1_wbgetentities_shape.json": ("M1", {"de": "Stadtansicht", "en": "Historical view"}, 2, {}),
    "fixture_M5234_slot_shape.json": ("M5234", {"pt": "Portuguese", "nov": "Novial", "en": "English"}, 8, {}),
}


@pytest.mark.parametrize("name", all_mediainfo_samples())
def test_mediainfo_sample_parses_into_the_model(name: str) -> None:
    entity_id, captions, n_statements, values = EXPECTED_ENTITIES[name]
    model = parse_mediainfo(mediainfo(name))
    assert model.parsed and model.entity_id == entity_id
    assert set(model.captions or {}) == set(captions)
    for lang, start in captions.items():
        assert (model.captions or {})[lang].startswith(start)
    assert len(model.statements) == n_statements
    for prop, value in values.items():
        assert next(s.main.value for s in model.statements if s.property == prop) == value
    # the raw text and the parsed dict are one model
    assert parse_mediainfo(entity(name)).statements == model.statements


@pytest.mark.parametrize("name", all_mediainfo_samples())
def test_mediainfo_sample_against_itself_and_its_other_shapes_is_no_change(name: str) -> None:
    text = mediainfo(name)
    assert diff_revisions(RevisionContent("x", text), RevisionContent("x", text)) == []
    assert diff_revisions(RevisionContent("x", text), RevisionContent("x", entity(name))) == []


def test_descriptions_as_empty_list_and_qualifiers_are_read() -> None:
    model = parse_mediainfo(mediainfo("fixture_M5234_slot_shape.json"))
    assert model.descriptions == {}
    preferred = next(s for s in model.statements if s.rank == "preferred" and s.property == "P737")
    assert preferred.qualifier_values() == {"P392": ["Q331"], "P92": ["4"], "P190": ["jpg"], "P2422": ["Q25"]}
    m1 = parse_mediainfo(mediainfo("fixture_M1_wbgetentities_shape.json"))
    assert set(m1.descriptions or {}) == {"pt", "es", "ru", "de", "en"}
