"""Hand-written pairs in real Commons style, one per rule of the wikitext diff."""

from __future__ import annotations

from tests.support.diff import diff_text, rows
from tests.support.fixtures import wikitext
from watcher.diff import DiffSettings, RevisionContent, diff_revisions, parse_wikitext

PAGE = """== {{int:filedesc}} ==
{{Artwork
 |artist           = {{Creator:Carl Larsson}}
 |title            = {{sv|1=Brita och jag}}
 |description      = {{en|1=A girl holding a doll in a sunlit room.}}
 |date             = 1890
 |medium           = {{Technique|oil|canvas}}
 |dimensions       = {{Size|cm|65|50}}
 |institution      = {{Institution:Nationalmuseum Stockholm}}
 |accession number = NM 1234
 |source           = Nationalmuseum
 |permission       =
 |other_versions   =
}}
{{Object location dec|59.3275|18.0781}}

== {{int:license-header}} ==
{{PD-Art|PD-old-auto|deathyear=1919}}

[[Category:Paintings by Carl Larsson]]
[[Category:Paintings in the Nationalmuseum Stockholm|Larsson]]
[[Category:Media contributed by Nationalmuseum Stockholm]]
"""


def edit(old: str, new: str, text: str = PAGE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_french_description_added() -> None:
    new = edit("doll in a sunlit room.}}", "doll in a sunlit room.}}\n{{fr|1=Une fille tenant une poupée.}}")
    assert rows(diff_text(PAGE, new)) == [
        ("description", "added", None, "Une fille tenant une poupée.", "Artwork", None, "fr", "content")
    ]


def test_date_changed_to_circa_is_one_changed_record() -> None:
    new = edit("= 1890", "= {{circa|1890}}")
    assert rows(diff_text(PAGE, new)) == [
        ("date", "changed", "1890", "{{circa|1890}}", "Artwork", None, None, "content")
    ]


def test_english_description_rewritten_is_changed_not_removed_and_added() -> None:
    new = edit("A girl holding a doll", "Brita, the artist's daughter, holding a doll")
    [change] = diff_text(PAGE, new)
    assert (change.field, change.action, change.language) == ("description", "changed", "en")
    assert change.old == "A girl holding a doll in a sunlit room."
    assert change.new == "Brita, the artist's daughter, holding a doll in a sunlit room."


def test_category_added_removed_and_renamed() -> None:
    added = edit(
        "[[Category:Paintings by Carl Larsson]]",
        "[[Category:Paintings by Carl Larsson]]\n[[Category:Girls with dolls]]",
    )
    assert rows(diff_text(PAGE, added)) == [
        ("category", "added", None, "Girls with dolls", None, None, None, "content")
    ]
    removed = edit("[[Category:Paintings by Carl Larsson]]\n", "")
    assert rows(diff_text(PAGE, removed)) == [
        ("category", "removed", "Paintings by Carl Larsson", None, None, None, None, "content")
    ]
    diffused = edit(
        "[[Category:Paintings by Carl Larsson]]", "[[Category:Paintings by Carl Larsson in Nationalmuseum]]"
    )
    assert rows(diff_text(PAGE, diffused)) == [
        (
            "category",
            "changed",
            "Paintings by Carl Larsson",
            "Paintings by Carl Larsson in Nationalmuseum",
            None,
            None,
            None,
            "content",
        )
    ]
    typo = edit("Paintings by Carl Larsson]]", "Paintings by Carl Larson]]")
    assert [c.action for c in diff_text(PAGE, typo)] == ["changed"]


def test_unrelated_categories_swapped_stay_a_removal_and_an_addition() -> None:
    new = edit("[[Category:Paintings by Carl Larsson]]", "[[Category:Dolls in art]]")
    assert sorted(c.action for c in diff_text(PAGE, new)) == ["added", "removed"]


def test_sort_key_case_underscore_and_link_forms_are_no_change() -> None:
    new = edit(
        "[[Category:Paintings in the Nationalmuseum Stockholm|Larsson]]",
        "[[category: paintings_in_the Nationalmuseum Stockholm|Larsson, Carl]]",
    )
    assert diff_text(PAGE, new) == []
    # [[:Category:X]] is a link, <nowiki> is text: neither is membership
    linked = PAGE + "See also [[:Category:Dolls in art]] and <nowiki>[[Category:Dolls]]</nowiki>\n"
    assert diff_text(PAGE, linked) == []


def test_comment_only_whitespace_only_and_parameter_order_are_no_change() -> None:
    commented = edit("= 1890", "= 1890<!-- from the museum's database -->")
    assert diff_text(PAGE, commented) == []
    spaced = PAGE.replace(" |date             = 1890", "|date=1890   ").replace(
        "\n}}\n{{Object", "\n\n}}\n{{Object"
    )
    assert diff_text(PAGE, spaced) == []
    lines = PAGE.split("\n")
    start, end = lines.index("{{Artwork") + 1, lines.index("}}")
    reordered = "\n".join(lines[:start] + lines[start:end][::-1] + lines[end:])
    assert reordered != PAGE
    assert diff_text(PAGE, reordered) == []


def test_template_name_spellings_are_one_template() -> None:
    new = edit("{{Artwork\n", "{{ template:artwork <!-- GLAM upload -->\n")
    assert diff_text(PAGE, new) == []
    aliased = edit(" |other_versions   =\n", " |Other versions = [[File:Brita och jag (detail).jpg]]\n")
    assert rows(diff_text(PAGE, aliased)) == [
        (
            "other versions",
            "added",
            None,
            "[[File:Brita och jag (detail).jpg]]",
            "Artwork",
            None,
            None,
            "content",
        )
    ]


def test_nested_template_spelling_is_no_change() -> None:
    a = edit("{{Technique|oil|canvas}}", "{{Technique|oil|2=canvas}}")
    b = edit("{{Technique|oil|canvas}}", "{{technique | oil | canvas }}")
    assert diff_text(a, b) == []
    c = edit("{{Size|cm|65|50}}", "{{Size|unit=cm|height=65|width=50}}")
    d = edit("{{Size|cm|65|50}}", "{{Size|width=50|unit=cm|height=65}}")
    assert diff_text(c, d) == []


def test_language_tag_around_unchanged_text_is_tagged() -> None:
    old = edit("{{en|1=A girl holding a doll in a sunlit room.}}", "A girl holding a doll in a sunlit room.")
    assert rows(diff_text(old, PAGE)) == [
        (
            "description",
            "tagged",
            "A girl holding a doll in a sunlit room.",
            "A girl holding a doll in a sunlit room.",
            "Artwork",
            None,
            "en",
            "content",
        )
    ]
    # text changed while being tagged is no tagging
    changed = edit("{{en|1=A girl holding a doll in a sunlit room.}}", "{{en|1=A girl with a doll.}}")
    assert sorted((c.action, c.language) for c in diff_text(old, changed)) == [
        ("added", "en"),
        ("removed", None),
    ]


def test_mld_and_langswitch_are_one_record_per_language() -> None:
    old = edit(
        "{{en|1=A girl holding a doll in a sunlit room.}}",
        "{{mld|en=A girl with a doll.|sv=En flicka med en docka.}}",
    )
    new = edit(
        "{{en|1=A girl holding a doll in a sunlit room.}}",
        "{{LangSwitch|en=A girl with a doll.|de=Ein Mädchen.}}",
    )
    assert rows(diff_text(old, new)) == [
        ("description", "added", None, "Ein Mädchen.", "Artwork", None, "de", "content"),
        ("description", "removed", "En flicka med en docka.", None, "Artwork", None, "sv", "content"),
    ]


def test_untagged_text_beside_language_templates_is_language_null() -> None:
    old = edit(
        "{{en|1=A girl holding a doll in a sunlit room.}}", "{{en|1=A girl.}} Gift of the artist, 1905."
    )
    new = edit(
        "{{en|1=A girl holding a doll in a sunlit room.}}", "{{en|1=A girl.}} Gift of the artist, 1906."
    )
    assert rows(diff_text(old, new)) == [
        (
            "description",
            "changed",
            "Gift of the artist, 1905.",
            "Gift of the artist, 1906.",
            "Artwork",
            None,
            None,
            "content",
        )
    ]


def test_nowiki_int_subst_and_parser_functions_are_not_templates() -> None:
    model = parse_wikitext(
        PAGE
        + "{{subst:Unc}}\n{{#if:x|{{Uncategorized}}}}\n<nowiki>{{Uncategorized}}</nowiki>\n{{DEFAULTSORT:Larsson}}\n",
        DiffSettings(),
    )
    assert [t.name for t in model.templates] == []
    value = edit("{{en|1=A girl holding a doll in a sunlit room.}}", "<nowiki>{{fr|x}}</nowiki> {{int:lang}}")
    param = parse_wikitext(value, DiffSettings()).info[0].param("description")
    assert param is not None and [lang for lang, _ in param.values] == [None]


def test_other_date_ca_is_a_parameter_not_catalan() -> None:
    model = parse_wikitext(wikitext("lsh_glam_batch_stol_103896.wikitext"), DiffSettings())
    date = model.info[0].param("date")
    assert date is not None and date.values == ((None, "{{other date|ca|1750}}"),)


def test_maintenance_templates_and_categories_are_kind_maintenance() -> None:
    new = (
        PAGE
        + "{{Uncategorized|year=2024|month=May|day=2}}\n[[Category:Media needing categories as of 2 May 2024]]\n"
    )
    assert rows(diff_text(PAGE, new)) == [
        (
            "category",
            "added",
            None,
            "Media needing categories as of 2 May 2024",
            None,
            None,
            None,
            "maintenance",
        ),
        (
            "template",
            "added",
            None,
            "{{Uncategorized|year=2024|month=May|day=2}}",
            "Uncategorized",
            None,
            None,
            "maintenance",
        ),
    ]
    assert rows(
        diff_text(PAGE, edit("[[Category:Media contributed by Nationalmuseum Stockholm]]\n", ""))
    ) == [
        (
            "category",
            "removed",
            "Media contributed by Nationalmuseum Stockholm",
            None,
            None,
            None,
            None,
            "maintenance",
        )
    ]


def test_configured_maintenance_patterns_apply() -> None:
    new = PAGE + "{{Nationalmuseum review|done}}\n[[Category:Nationalmuseum batch 7]]\n"
    settings = DiffSettings(
        maintenance_templates=("nationalmuseum review",), maintenance_categories=("Nationalmuseum batch *",)
    )
    assert [c.kind for c in diff_text(PAGE, new, settings)] == ["maintenance", "maintenance"]
    assert [c.kind for c in diff_text(PAGE, new)] == ["content", "content"]


def test_page_level_template_added_changed_removed() -> None:
    one = PAGE + "{{Extracted from|1=Brita och jag.jpg}}\n"
    two = PAGE + "{{Extracted from|1=Brita och jag, 1890.jpg}}\n"
    assert rows(diff_text(one, two)) == [
        (
            "template",
            "changed",
            "{{Extracted from|1=Brita och jag.jpg}}",
            "{{Extracted from|1=Brita och jag, 1890.jpg}}",
            "Extracted from",
            None,
            None,
            "content",
        )
    ]
    assert [c.action for c in diff_text(two, PAGE)] == ["removed"]


def test_location_changed_beyond_and_within_tolerance() -> None:
    moved = edit("{{Object location dec|59.3275|18.0781}}", "{{Object location dec|59.3285|18.0781}}")
    assert rows(diff_text(PAGE, moved)) == [
        (
            "object location",
            "changed",
            "59.3275,18.0781",
            "59.3285,18.0781",
            "Object location dec",
            None,
            None,
            "content",
        )
    ]
    nudged = edit("{{Object location dec|59.3275|18.0781}}", "{{Object location dec|59.327504|18.078099}}")
    assert diff_text(PAGE, nudged) == []
    assert len(diff_text(PAGE, nudged, DiffSettings(coordinate_tolerance=1e-7))) == 1


def test_dms_and_decimal_spellings_of_one_place_are_no_change_and_camera_is_apart() -> None:
    dms = edit("{{Object location dec|59.3275|18.0781}}", "{{Object location|59|19|39|N|18|4|41.16|E}}")
    assert diff_text(PAGE, dms) == []
    camera = PAGE + "{{Location dec|59.3270|18.0790}}\n"
    assert rows(diff_text(PAGE, camera)) == [
        ("location", "added", None, "59.327,18.079", "Location dec", None, None, "content")
    ]


def test_licence_added_removed_and_self_wrapper_is_no_change() -> None:
    own = PAGE.replace("{{PD-Art|PD-old-auto|deathyear=1919}}", "{{self|cc-by-sa-4.0}}")
    both = PAGE.replace(
        "{{PD-Art|PD-old-auto|deathyear=1919}}", "{{self|cc-by-sa-4.0|GFDL|migration=redundant}}"
    )
    assert rows(diff_text(own, both)) == [("licence", "added", None, "GFDL", None, None, None, "content")]
    direct = PAGE.replace("{{PD-Art|PD-old-auto|deathyear=1919}}", "{{Cc-by-sa-4.0}}")
    assert diff_text(own, direct) == []
    assert rows(diff_text(PAGE, own)) == [
        ("licence", "added", None, "cc-by-sa-4.0", None, None, None, "content"),
        ("licence", "removed", "PD-Art|PD-old-auto|deathyear=1919", None, None, None, None, "content"),
    ]
    year = edit("deathyear=1919", "deathyear=1920")
    assert [c.action for c in diff_text(PAGE, year)] == ["changed"]


def test_configured_info_template_gives_field_records() -> None:
    old = "{{Nationalmuseum artwork\n|object-id=17880\n|title={{sv|Brita}}\n}}\n"
    new = "{{Nationalmuseum artwork\n|object-id=17880\n|title={{sv|Brita och jag}}\n}}\n"
    assert [c.field for c in diff_text(old, new)] == ["template"]
    settings = DiffSettings(info_templates=("Nationalmuseum artwork",))
    assert rows(diff_text(old, new, settings)) == [
        ("title", "changed", "Brita", "Brita och jag", "Nationalmuseum artwork", None, "sv", "content")
    ]


def test_lsh_technique_alias_is_medium() -> None:
    text = wikitext("lsh_glam_batch_armband_98906.wikitext")
    renamed = text.replace("|medium= {{technique|wood}}", "|technique= {{technique|wood}}")
    assert renamed != text
    assert diff_text(text, renamed) == []


def test_duplicate_parameter_last_one_wins_as_in_mediawiki() -> None:
    old = "{{Information\n|description={{en|A}}\n|date=1890\n|date=1891\n}}"
    model = parse_wikitext(old, DiffSettings())
    assert model.info[0].param("date") is not None
    assert model.info[0].duplicates == ("date",)
    assert rows(diff_text(old, old.replace("|date=1890\n", ""))) == []
    assert [c.old for c in diff_text(old, old.replace("1891", "1892"))] == ["1891"]


def test_information_upgraded_to_artwork_compares_fields() -> None:
    old = "{{Information\n|description={{en|A chair}}\n|date=1750\n}}"
    new = "{{Artwork\n|description={{en|A chair}}\n|date=1750\n|accession number=SKO 1775\n}}"
    assert rows(diff_text(old, new)) == [
        ("accession number", "added", None, "SKO 1775", "Artwork", None, None, "content"),
        ("template", "changed", "Information", "Artwork", "Artwork", None, None, "content"),
    ]


def test_malformed_page_and_missing_text_never_raise() -> None:
    broken = PAGE.replace("\n}}\n{{Object", "\n}\n{{Object")
    [change] = diff_text(PAGE, broken)
    assert change.field == "text" and change.detail is not None and "line_diff" in change.detail
    assert diff_text(broken, broken + "\n") == []
    [gone] = diff_revisions(RevisionContent(PAGE), RevisionContent(None))
    assert (gone.field, gone.old, gone.new) == ("text", PAGE, None)
    assert diff_revisions(None, RevisionContent(PAGE)) == []
    assert diff_revisions(RevisionContent(None), RevisionContent(None)) == []


def test_order_is_deterministic_and_follows_the_new_page() -> None:
    new = (
        edit("= 1890", "= 1891")
        .replace("{{sv|1=Brita och jag}}", "{{sv|1=Brita och jag}}{{en|Brita and I}}")
        .replace("[[Category:Paintings by Carl Larsson]]", "[[Category:Girls in art]]")
    )
    first = diff_text(PAGE, new)
    assert [(c.field, c.action) for c in first] == [
        ("title", "added"),
        ("date", "changed"),
        ("category", "added"),
        ("category", "removed"),
    ]
    assert diff_text(PAGE, new) == first


def test_untagging_is_the_language_removed_and_untagged_text_added() -> None:
    tagged = PAGE
    untagged = edit(
        "{{en|1=A girl holding a doll in a sunlit room.}}", "A girl holding a doll in a sunlit room."
    )
    assert sorted((c.action, c.language) for c in diff_text(tagged, untagged)) == [
        ("added", None),
        ("removed", "en"),
    ]


def test_templates_inside_layout_tags_count_but_not_inside_galleries() -> None:
    page = (
        '<div style="float:right">{{Information|description={{en|A chair}}}}</div>\n'
        "<gallery>\nFile:Chair, back.jpg|{{en|Back}}\n</gallery>\n{{self|GFDL}}\n"
    )
    model = parse_wikitext(page, DiffSettings())
    assert model.parsed and [t.name for t in model.info] == ["Information"]
    assert model.templates == () and [lic.value for lic in model.licences] == ["GFDL"]
    assert [c.new for c in diff_text(page, page.replace("A chair", "A chair of oak"))] == ["A chair of oak"]
