"""Edit summaries in words (issue 15, point 3): the real summaries of the event samples, Wikibase's
magic summaries, section comments, rollback/undo and tool signatures."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fixtures import EVENTS, load_events
from watcher.diff.summaries import summary_entity_ids, summary_words

LABELS = {"Q42": "Douglas Adams", "P180": "depicts"}


def sample_comments() -> list[str]:
    comments: list[str] = []
    for path in sorted(EVENTS.iterdir()):
        if path.suffix in (".json", ".jsonl", ".sse"):
            comments += [e["comment"] for e in load_events(path.name) if isinstance(e.get("comment"), str)]
    return list(dict.fromkeys(comments))


def test_the_samples_hold_the_summaries_read_here() -> None:
    comments = sample_comments()
    assert len(comments) > 15
    assert any(c.startswith("/* wbeditentity-update:0| */") for c in comments)


@pytest.mark.parametrize(
    ("comment", "words"),
    [
        # Real summaries of the event samples.
        (
            "/* wbeditentity-update:0| */ automatically adding [[Commons:Structured data|structured data]] "
            "based on file information",
            "edited structured data: automatically adding structured data based on file information",
        ),
        (
            "/* wbeditentity-update:0| */ Adding structured data: date, camera, author, copyright & source",
            "edited structured data: Adding structured data: date, camera, author, copyright & source",
        ),
        (
            "/* wbeditentity-update-languages-and-other-short:0||en */ Adding structured data to this newly "
            "uploaded geograph.org.uk image",
            "changed captions (en) and other structured data: Adding structured data to this newly uploaded "
            "geograph.org.uk image",
        ),
        ("/* wbsetdescription-add:1|hy */ հոդված, based on en:article", "added a description (hy): հոդված, based on en:article"),
        ("/* Rephotographie */", "Rephotographie"),
        ("[[:File:Red squirrel (51205279267).jpg]] added to category", "File:Red squirrel (51205279267).jpg added to category"),
        (
            "added [[Category:Former Salvation Army buildings in the United Kingdom]]",
            "added category Former Salvation Army buildings in the United Kingdom",
        ),
        ("add location United States inside Taken On on template", "add location United States inside Taken On on template"),
        # Wikibase's magic summaries (Wikibase docs/topics/summaries.md), as Commons writes entity links.
        ("/* wbeditentity-update:0| */", "edited structured data"),
        ("/* wbsetclaim-create:2||1 */ [[d:Property:P180]]: [[d:Q42]]", "added a statement: depicts Douglas Adams (Q42)"),
        (
            "/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q17199752]]",
            "added a statement: depicts Q17199752",
        ),
        ("/* wbcreateclaim-create:1| */ [[d:Special:EntityPage/P571]]: 21 April 2012", "added a statement: inception 21 April 2012"),
        ("/* wbsetclaim-update:2||1 */ [[d:Special:EntityPage/P275]]: [[d:Special:EntityPage/Q18199165]]",
         "changed a statement: copyright license CC BY-SA 4.0 (Q18199165)"),
        ("/* wbremoveclaims-remove:1| */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q42]]",
         "removed a statement: depicts Douglas Adams (Q42)"),
        ("/* wbremoveclaims-remove:3| */", "removed 3 statements"),
        ("/* wbsetclaimvalue:1| */ [[d:Special:EntityPage/P180]]", "changed the value of a statement: depicts"),
        ("/* wbsetqualifier-add:1| */ [[d:Special:EntityPage/P180]]", "added a qualifier to a statement: depicts"),
        ("/* wbsetreference-add:2| */ [[d:Special:EntityPage/P571]]", "added a reference to a statement: inception"),
        ("/* wbsetlabel-add:1|sv */ Armband av träkulor", "added a caption (sv): Armband av träkulor"),
        ("/* wbsetlabel-set:1|sv */", "changed a caption (sv)"),
        ("/* wbsetlabel-remove:1|de */", "removed a caption (de)"),
        ("/* wbsomethingnew-add:1| */", "edited structured data"),
        # Section comments and tools.
        ("/* Summary */ fix", "Summary: fix"),
        ("/* {{int:filedesc}} */", "{{int:filedesc}}"),
        ("→Summary: fix", "Summary: fix"),
        (
            "[[Help:Cat-a-lot|Cat-a-lot]]: Moving from [[Category:A]] to [[Category:B]]",
            "Moving from category A to category B (using Cat-a-lot)",
        ),
        ("removed [[Category:A]]; added [[Category:B]] using [[Help:Gadget-HotCat|HotCat]]",
         "removed category A; added category B (using HotCat)"),
        ("+[[Category:Chairs]] (using [[Help:Gadget-HotCat|HotCat]])", "+category Chairs (using HotCat)"),
        ("Typo fixing using [[Project:AWB|AWB]]", "Typo fixing (using AWB)"),
        (
            "Cropped 10 % horizontally using [[Commons:CropTool|CropTool]] with precise mode.",
            "Cropped 10 % horizontally using CropTool with precise mode.",
        ),
        (
            "Reverted edits by [[Special:Contributions/Vandal|Vandal]] ([[User talk:Vandal|talk]]) to last "
            "revision by [[User:Curator|Curator]]",
            "undid edits by Vandal (back to the last version by Curator)",
        ),
        (
            "Undo revision 123 by [[Special:Contributions/Vandal|Vandal]] ([[User talk:Vandal|talk]]) not helpful",
            "undid revision 123 by Vandal: not helpful",
        ),
        ("Undid revision 123 by [[Special:Contributions/Vandal|Vandal]] ([[User talk:Vandal|talk]])",
         "undid revision 123 by Vandal"),
        ("Restored revision 99 by [[Special:Contributions/Curator|Curator]]", "restored revision 99 by Curator"),
        ("[https://example.org/why see here] &amp; there", "see here & there"),
    ],
)  # fmt: skip
def test_summaries_in_words(comment: str, words: str) -> None:
    assert summary_words(comment, LABELS) == words


def test_no_summary_is_none() -> None:
    assert summary_words(None) is None
    assert summary_words("") is None
    assert summary_words("  \u200e ") is None


def test_every_sample_summary_reads_without_wikibase_internals() -> None:
    for comment in sample_comments():
        words = summary_words(comment)
        if not comment.strip():
            assert words is None
            continue
        assert words is not None and "/*" not in words and "[[" not in words, comment


def test_summary_entity_ids_are_what_callers_fetch_labels_for() -> None:
    comment = (
        "/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q42]], [[d:Q42]]"
    )
    assert summary_entity_ids(comment) == ["P180", "Q42"]
    assert summary_entity_ids("[[Category:A]]") == []
    assert summary_entity_ids(None) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(["/*", "*/", "[[", "]]", "|", ":", "wbsetclaim-create", "P180", "Q1", "d:", " ", "x",
                         "Reverted edits by", "(talk)", "using", "HotCat", "[", "]", "&", "\n", "→"]),
        max_size=30,
    ).map("".join)
)  # fmt: skip
def test_never_raises(comment: str) -> None:
    words = summary_words(comment)
    assert words is None or isinstance(words, str)
