"""A record's field and values in words (issue 15, point 1), through the one entry point
``watcher.diff.readable``: statements of the real MediaInfo samples, wikitext fields, categories."""

from __future__ import annotations

import pytest

from tests.support.diff import all_mediainfo_samples, diff_sdc, entity
from watcher.diff import FieldChange
from watcher.diff.readable import (
    Readable,
    detail_entity_ids,
    entity_ids,
    field_words,
    qualifier_words,
    statement_value,
    summary_words,
    value_words,
)
from watcher.diff.wikibase_words import PROPERTY_NAMES, time_words

# The synthetic fixtures use placeholder properties; the real entities use what Commons files use.
REAL_ENTITIES = [n for n in all_mediainfo_samples() if not n.startswith("fixture_")]


def statements_of(name: str) -> list[FieldChange]:
    """Every statement of a real entity, as the records of its first structured data."""
    return [c for c in diff_sdc(None, entity(name)) if c.field == "statement"]


def words_of(change: FieldChange, labels: dict[str, str] | None = None) -> str:
    value = statement_value(change.new, change.detail, "new")
    words = value_words(change.field, change.property, value, labels or {})
    assert words is not None
    return words.text


@pytest.mark.parametrize("name", REAL_ENTITIES)
def test_every_property_of_the_real_samples_has_a_name(name: str) -> None:
    for change in statements_of(name):
        assert change.property is not None and change.property in PROPERTY_NAMES, change.property
        assert field_words("statement", change.property, None) == PROPERTY_NAMES[change.property]
        for prop in (change.detail or {}).get("qualifiers", {}):
            assert prop in PROPERTY_NAMES, prop


def by_property(name: str) -> dict[str, list[FieldChange]]:
    found: dict[str, list[FieldChange]] = {}
    for change in statements_of(name):
        assert change.property is not None
        found.setdefault(change.property, []).append(change)
    return found


def test_the_values_of_a_bot_described_file_in_words() -> None:
    """M56656949: the file-metadata statements bots add, and the usual licence/author/source ones."""
    statements = by_property("M56656949_wbgetentities_entity.json")
    assert words_of(statements["P571"][0]) == "19 January 2012"
    assert words_of(statements["P275"][0]) == "CC BY 3.0 (Q14947546)"
    assert words_of(statements["P6216"][0]) == "copyrighted (Q50423863)"
    assert words_of(statements["P7482"][0]) == "file available on the internet (Q74228490)"
    assert words_of(statements["P2048"][0]) == "972 pixel"
    assert words_of(statements["P3575"][0]) == "571855 byte"
    assert words_of(statements["P6757"][0]) == "0.002 second"
    assert words_of(statements["P6790"][0]) == "2.8"
    assert words_of(statements["P1163"][0]) == "image/jpeg"
    assert words_of(statements["P170"][0]) == "unknown value"
    point = value_words("statement", "P1259", statements["P1259"][0].new)
    assert point == Readable(
        "24.469651, 54.380093",
        "https://www.openstreetmap.org/?mlat=24.469651&mlon=54.380093#map=15/24.469651/54.380093",
    )
    creator = statements["P170"][0].detail or {}
    assert qualifier_words(creator.get("qualifiers")) == (
        "object has role: photographer (Q33231); author name string: Jaseem Hamza; URL: "
        "https://web.archive.org/web/20161028152800/http://www.panoramio.com/user/3985956?with_photo_id=95447202"
    )


def test_times_are_read_at_the_precision_the_record_keeps() -> None:
    """M566797 writes a year as +1904-01-01 at precision 9; M76 a month as +2004-07-01 at precision 10."""
    (year,) = by_property("M566797_wbgetentities_entity.json")["P571"]
    assert year.new == "+1904-01-01T00:00:00Z"
    assert words_of(year) == "1904"
    (month,) = by_property("M76_dump_entity.json")["P571"]
    assert words_of(month) == "July 2004"
    # Without the detail the precision is inferred from zeroed parts, and a 01-01 year reads as a day.
    assert value_words("statement", "P571", year.new) == Readable("1 January 1904")
    assert value_words("statement", "P571", "+1890-00-00T00:00:00Z") == Readable("1890")
    assert value_words("statement", "P571", "+1890-05-00T00:00:00Z") == Readable("May 1890")


@pytest.mark.parametrize(
    ("time", "precision", "words"),
    [
        ("+1890-05-03T00:00:00Z", 11, "3 May 1890"),
        ("+1890-05-03T00:00:00Z", 10, "May 1890"),
        ("+1890-00-00T00:00:00Z", 9, "1890"),
        ("+1890-00-00T00:00:00Z", 8, "1890s"),
        ("+1801-00-00T00:00:00Z", 7, "19th century"),
        ("+1900-00-00T00:00:00Z", 7, "19th century"),
        ("+2000-00-00T00:00:00Z", 6, "2nd millennium"),
        ("-0500-00-00T00:00:00Z", 9, "500 BC"),
        ("-0450-00-00T00:00:00Z", 7, "5th century BC"),
        ("+2012-04-21T14:05:00Z", 13, "21 April 2012, 14:05 UTC"),
        ("not a time", None, "not a time"),
    ],
)
def test_wikibase_times_in_words(time: str, precision: int | None, words: str) -> None:
    assert time_words(time, precision) == words


def test_a_changed_statement_reads_each_side_at_its_own_precision() -> None:
    detail = {
        "value_detail": {"precision": "9"},
        "old_value_detail": {"precision": "11"},
        "changed": ["value"],
    }
    assert statement_value("+1904-01-01T00:00:00Z", detail, "old") == "+1904-01-01T00:00:00Z/11"
    assert statement_value("+1904-01-01T00:00:00Z", detail, "new") == "+1904-01-01T00:00:00Z/9"
    assert statement_value("Q42", detail, "new") == "Q42"  # not a time: as it is
    assert statement_value(None, detail, "new") is None


def test_items_take_the_label_the_caller_has_and_show_the_id() -> None:
    labels = {"Q17199752": "Crassula", "P180": "avbildar"}
    words = value_words("statement", "P180", "Q17199752", labels)
    assert words == Readable("Crassula (Q17199752)", "https://www.wikidata.org/wiki/Q17199752")
    assert value_words("statement", "P180", "Q17199752") == Readable(
        "Q17199752", "https://www.wikidata.org/wiki/Q17199752"
    )
    assert field_words("statement", "P180", None, labels) == "avbildar"  # the cache's label wins
    assert field_words("statement", "P180", None) == "depicts"
    assert field_words("statement", "P99999", None) == "property P99999"
    # A label of the licence item wins over the built-in name too.
    assert value_words(
        "statement", "P275", "Q18199165", {"Q18199165": "CC BY-SA 4.0 International"}
    ) == Readable("CC BY-SA 4.0 International (Q18199165)", "https://www.wikidata.org/wiki/Q18199165")


def test_quantities_and_units() -> None:
    assert value_words("statement", "P2048", "12.5 Q174728") == Readable("12.5 centimetre")
    assert value_words("statement", "P2048", "12.5 Q999999999") == Readable("12.5 Q999999999")
    assert value_words("statement", "P2048", "12.5 Q999999999", {"Q999999999": "aln"}) == Readable("12.5 aln")
    assert value_words("statement", "P1114", "-3") == Readable("-3")


def test_entity_ids_are_the_property_items_and_units() -> None:
    assert entity_ids("statement", "P180", "Q1", "Q2") == ["P180", "Q1", "Q2"]
    assert entity_ids("statement", "P2048", "12.5 Q174728", None) == ["P2048", "Q174728"]
    assert entity_ids("statement", "P170", "somevalue", "novalue") == ["P170"]
    assert entity_ids("statement", "P1163", "image/jpeg") == ["P1163"]
    assert entity_ids("description", None, "{{en|Q42}}") == []
    detail = {"qualifiers": {"P3831": ["Q33231"], "P2093": ["Zeisterre"]}, "old_qualifiers": {"P642": ["Q5"]}}
    assert detail_entity_ids(detail) == ["P3831", "Q33231", "P2093", "P642", "Q5"]


def test_fields_in_words() -> None:
    assert field_words("description", None, "Information") == "description"
    assert field_words("location", None, "Location dec") == "camera location"
    assert field_words("location", None, "Artwork") == "location"  # Artwork's |location= is a place
    assert field_words("object location", None, "Object location dec") == "object location"
    assert field_words("template", None, "Uncategorized") == "template Uncategorized"
    assert field_words("text", None, None) == "page text"
    assert field_words("caption", None, None) == "caption"
    assert field_words("category", None, None) == "category"


def test_values_of_the_other_fields() -> None:
    assert value_words("description", None, None) is None
    assert value_words("date", None, "{{other date|ca|1750}}") == Readable("circa 1750")
    assert value_words("description", None, "[[:de:Flunder|Flunder]]") == Readable("Flunder")
    assert value_words("category", None, "Chairs") == Readable("Chairs")
    assert value_words("caption", None, "A [[not a link]]") == Readable(
        "A [[not a link]]"
    )  # captions are text
    assert value_words("file", None, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12") == Readable(
        "a new version of the file"
    )
    assert value_words("licence", None, "cc-by-sa-4.0") == Readable("CC BY-SA 4.0")
    assert value_words("location", None, "59.3293,18.0686") == Readable(
        "59.3293, 18.0686", "https://www.openstreetmap.org/?mlat=59.3293&mlon=18.0686#map=15/59.3293/18.0686"
    )
    assert value_words("location", None, "{{Location|bad}}") == Readable("{{Location}}")
    assert value_words("template", None, "{{Extracted from|1=My new file.jpg}}") == Readable(
        "extracted from My new file.jpg"
    )


def test_summary_words_is_the_summaries_module() -> None:
    assert summary_words("/* wbsetlabel-add:1|sv */ Stol") == "added a caption (sv): Stol"
    assert summary_words(None) is None
