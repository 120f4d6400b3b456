"""Template redirects: a redirected name diffs per field under the canonical template name."""

from __future__ import annotations

from tests.support.diff import diff_text, rows
from tests.support.fixtures import wikitext
from watcher.config import DiffSection, ObjectIdRule
from watcher.diff import DiffSettings, find_object_id, parse_wikitext
from watcher.diff.redirects import BUILTIN_TEMPLATE_REDIRECTS, TemplateRedirects

ARTWORK = wikitext("dreykh_modigliani_artwork.wikitext")


def test_painting_is_artwork_field_by_field() -> None:
    """The real Modigliani page written with {{Painting}}, and its date edited: one field record."""
    painted = wikitext("issue16/painting_redirect.new.wikitext")
    assert "{{Painting\n" in painted
    assert rows(diff_text(ARTWORK, painted)) == [
        ("date", "changed", "1915", "1915-1916", "Artwork", None, None, "content")
    ]
    model = parse_wikitext(painted, DiffSettings())
    assert [t.name for t in model.info] == ["Artwork"] and model.templates == ()


def test_bypassing_a_redirect_is_no_change() -> None:
    """AWB's redirect bypass ({{Painting}} → {{Artwork}}, {{Otherdate}} → {{Other date}}) makes no record."""
    painted = ARTWORK.replace("{{Artwork\n", "{{painting\n", 1)
    assert diff_text(painted, ARTWORK) == []
    stool = wikitext("lsh_glam_batch_stol_103896.wikitext")
    assert "{{other date|ca|1750}}" in stool
    assert diff_text(stool, stool.replace("{{other date|ca|1750}}", "{{Otherdate|ca|1750}}")) == []


def test_renamed_language_codes_are_one_language() -> None:
    """MediaWiki renamed zh-yue to yue: {{zh-yue|…}} and {{yue|…}} are the same language."""
    old = "{{Information\n|description={{zh-yue|1=大館}}\n|date=2011\n}}\n"
    new = "{{Information\n|description={{yue|1=大館}}\n|date=2011\n}}\n"
    assert diff_text(old, new) == []
    assert diff_text(old, new.replace("{{yue|1=大館}}", "{{mld|zh-yue=大館}}")) == []
    edited = new.replace("大館", "大館，香港")
    assert rows(diff_text(old, edited)) == [
        ("description", "changed", "大館", "大館，香港", "Information", None, "yue", "content")
    ]


def test_a_redirect_known_only_to_the_wiki_comes_through_the_settings_hook() -> None:
    """Without it a redirected info template is one whole-template record; with the wiki's list it is
    an {{Information}} compared field by field. Names as list=allredirects returns them."""
    old = "{{Informations\n|description={{fr|1=Une chaise.}}\n|date=1750\n}}\n"
    new = "{{Informations\n|description={{fr|1=Une chaise en chêne.}}\n|date=1750\n}}\n"
    assert [c.field for c in diff_text(old, new)] == ["template"]
    settings = DiffSettings().with_redirects({"Template:Informations": "Template:Information"})
    assert rows(diff_text(old, new, settings)) == [
        (
            "description",
            "changed",
            "Une chaise.",
            "Une chaise en chêne.",
            "Information",
            None,
            "fr",
            "content",
        )
    ]


def test_table_takes_any_spelling_follows_chains_and_survives_cycles() -> None:
    table = TemplateRedirects.build(
        {
            "Template:Art_photo_old": "Template:Art photo",  # → Art photo → Art Photo (built in)
            "template:a": "B",
            "B": "A",  # a cycle: neither name moves
            "Painting": "Painting",  # a self-redirect is ignored
        }
    )
    assert table.resolve("Art photo old") == "Art Photo"
    assert table.canonical("{{ template:art_photo_old }}".strip("{} ")) == "Art Photo"
    assert {table.resolve("A"), table.resolve("B")} <= {"A", "B"}
    assert table.resolve("Painting") == "Artwork"
    assert table.canonical("int:filedesc") is None  # magic words stay no templates
    assert "Painting" in table.aliases_of(["artwork"])


def test_settings_redirects_extend_the_builtin_table_and_win() -> None:
    plain = DiffSettings.from_section(DiffSection())
    assert dict(plain.redirects.items()) == dict(BUILTIN_TEMPLATE_REDIRECTS)
    overridden = plain.with_redirects({"Painting": "Information"})
    assert overridden.redirects.resolve("Painting") == "Information"
    assert overridden.redirects.resolve("Otherdate") == "Other date"
    assert plain.redirects.resolve("Painting") == "Artwork"  # a copy: the first settings are unchanged
    assert overridden != plain


def test_an_unclosed_template_under_a_redirected_name_is_still_caught() -> None:
    broken = ARTWORK.replace("{{Artwork\n", "{{Painting\n", 1).replace("\n}}\n", "\n}\n", 1)
    [change] = diff_text(ARTWORK, broken)
    assert change.field == "text" and change.detail is not None
    assert change.detail["reason"] == "an information template is not closed"


def test_object_id_rule_reads_the_template_under_its_redirect() -> None:
    page = ARTWORK.replace("{{Artwork\n", "{{Painting\n", 1).replace(
        " |accession number = \n", " |accession number = NM 2095\n", 1
    )
    rule = ObjectIdRule(template="Artwork", param="accession number")
    assert find_object_id("File:Modigliani - Picasso.jpg", page, None, [rule]) == "NM 2095"
