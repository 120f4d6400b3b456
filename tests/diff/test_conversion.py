"""A template converted into another: the conversion once, and only the values that really changed."""

from __future__ import annotations

from tests.support.diff import diff_text, rows
from tests.support.fixtures import wikitext
from watcher.diff import DiffSettings

FLICKR = wikitext("memucho_flickr_template.wikitext")
CONVERTED = wikitext("issue16/flickr_converted_to_information.new.wikitext")


def test_flickr_converted_to_information_reports_the_conversion_once() -> None:
    changes = diff_text(FLICKR, CONVERTED)
    assert rows(changes) == [
        ("reviewer", "removed", "Bubamara", None, "Flickr", None, None, "content"),
        (
            "source",
            "changed",
            "http://flickr.com/photos/83713082@N00/535916329\nreactor 4",
            "[http://flickr.com/photos/83713082@N00/535916329 reactor 4]",
            "Information",
            None,
            None,
            "content",
        ),
        (
            "author",
            "changed",
            "Carl Montgomery\nhttp://flickr.com/photos/83713082@N00",
            "[http://flickr.com/photos/83713082@N00 Carl Montgomery]",
            "Information",
            None,
            None,
            "content",
        ),
        ("template", "changed", "Flickr", "Information", "Information", None, None, "content"),
    ]
    source, author, template = changes[1:]
    assert source.detail == {"moved from": ["flickr url", "title"]}
    assert author.detail == {"moved from": ["photographer", "photographer url"]}
    assert template.detail == {"moved": [{"from": "taken", "to": "date", "language": None}]}


def test_converting_back_never_loses_a_value() -> None:
    """The reverse edit splits values again: every Flickr field that gets a value is reported."""
    changes = diff_text(CONVERTED, FLICKR)
    assert {c.field for c in changes} == {
        "reviewer",
        "flickr url",
        "title",
        "photographer",
        "photographer url",
        "template",
    }
    assert all(c.new for c in changes)


def test_information_upgraded_to_artwork_with_values_moved_to_artwork_fields() -> None:
    """An uploader moves author → artist and description → title while upgrading: no value records,
    but the date that really changed is one."""
    old = (
        "{{Information\n|description={{sv|1=Brita och jag}}\n|author={{Creator:Carl Larsson}}\n"
        "|date=1890\n|source=Nationalmuseum\n}}\n[[Category:Paintings by Carl Larsson]]\n"
    )
    new = (
        "{{Artwork\n|artist={{Creator:Carl Larsson}}\n|title={{sv|1=Brita och jag}}\n|date=1895\n"
        "|source=Nationalmuseum\n|accession number=NM 1234\n}}\n[[Category:Paintings by Carl Larsson]]\n"
    )
    changes = diff_text(old, new)
    assert rows(changes) == [
        ("date", "changed", "1890", "1895", "Artwork", None, None, "content"),
        ("accession number", "added", None, "NM 1234", "Artwork", None, None, "content"),
        ("template", "changed", "Information", "Artwork", "Artwork", None, None, "content"),
    ]
    assert changes[-1].detail == {
        "moved": [
            {"from": "author", "to": "artist", "language": None},
            {"from": "description", "to": "title", "language": "sv"},
        ]
    }


def test_an_institution_template_converted_into_artwork_is_one_conversion() -> None:
    """{{Hallwyl image}} is no info template here (not configured): today it was one template removed
    and every Artwork field added; now its values pair with Artwork's."""
    old = (
        "== {{int:filedesc}} ==\n{{Hallwyl image\n |title       = {{sv|1=Stol, rokoko}}\n"
        " |date        = {{other date|ca|1750}}\n |object no   = XXVI:II:B.a.01\n"
        " |photographer= Jens Mohr\n}}\n{{cc-by-sa-4.0}}\n[[Category:Chairs in the Hallwyl Museum]]\n"
    )
    new = (
        "== {{int:filedesc}} ==\n{{Artwork\n |title            = {{sv|1=Stol, rokoko}}\n"
        " |date             = {{Otherdate|ca|1750}}\n |accession number = XXVI:II:B.a.01\n"
        " |author           = Jens Mohr\n |medium           = {{technique|walnut}}\n}}\n"
        "{{cc-by-sa-4.0}}\n[[Category:Chairs in the Hallwyl Museum]]\n"
    )
    changes = diff_text(old, new)
    assert rows(changes) == [
        ("medium", "added", None, "{{technique|walnut}}", "Artwork", None, None, "content"),
        ("template", "changed", "Hallwyl image", "Artwork", "Artwork", None, None, "content"),
    ]
    assert changes[-1].detail == {
        "moved": [
            {"from": "object no", "to": "accession number", "language": None},
            {"from": "photographer", "to": "author", "language": None},
        ]
    }
    # configured as an info template, the same edit reads the same
    configured = diff_text(old, new, DiffSettings(info_templates=("Hallwyl image",)))
    assert rows(configured) == rows(changes)


def test_a_template_that_shares_no_values_is_no_conversion() -> None:
    """{{Uncategorized}} removed while {{Information}} is added: two unrelated changes."""
    old = "{{Uncategorized|year=2024|month=May|day=2}}\n[[Category:Chairs]]\n"
    new = "{{Information\n|description={{en|1=A chair}}\n|date=2024\n}}\n[[Category:Chairs]]\n"
    assert sorted((c.field, c.action) for c in diff_text(old, new)) == [
        ("date", "added"),
        ("description", "added"),
        ("template", "removed"),
    ]


def test_within_one_template_a_value_moved_to_another_field_is_a_change() -> None:
    """No conversion, no moves: a date put into the description field changes what both say."""
    old = "{{Information\n|description={{en|1=A chair}}\n|date=1750\n}}\n"
    new = "{{Information\n|description={{en|1=A chair}}\n|other fields=1750\n}}\n"
    assert sorted((c.field, c.action) for c in diff_text(old, new)) == [
        ("date", "removed"),
        ("other fields", "added"),
    ]


def test_a_value_changed_while_it_moves_is_reported() -> None:
    old = "{{Flickr\n|description=Reactor 4\n|taken=2006-09-18\n}}\n"
    new = "{{Information\n|description=Reactor 4\n|date=2007-01-02\n}}\n"
    assert sorted((c.field, c.action, c.old, c.new) for c in diff_text(old, new)) == [
        ("date", "added", None, "2007-01-02"),
        ("taken", "removed", "2006-09-18", None),
        ("template", "changed", "Flickr", "Information"),
    ]
