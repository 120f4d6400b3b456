"""Long pages: the stretches cut before the parse (``nesting.without_template_free_lines``) change no
template the model reads, and no record.

The reference is always the parse of the whole text. A stretch is cut only where a scan of the brackets
proves the parser stands outside every construct at both ends, so each test compares what the engine
reads of the cut text (the page-level templates as trees, every template, every argument) with what it
reads of the whole one, on real pages, on real pages made long, on pages built to fool the scan, and on
generated markup.
"""

from __future__ import annotations

from collections.abc import Iterator

import mwparserfromhell
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mwparserfromhell.smart_list import SmartList
from mwparserfromhell.wikicode import Wikicode

from tests.support.diff import all_wikitext_samples, diff_text, rows
from tests.support.fixtures import WIKITEXT, wikitext
from watcher.diff import DiffSettings, nesting, parse_wikitext
from watcher.diff import wikitext as wikitext_model
from watcher.diff.names import remove_comments
from watcher.diff.nesting import template_free_anchors, without_template_free_lines

Reading = tuple[list[str], list[str], int]

# An upload-log table as pywikibot's transfers leave it on Commons, from a real sample.
TRANSFERRED = wikitext("pywikibot_transferred_from_idwiki.wikitext")
LOG_TABLE = TRANSFERRED[TRANSFERRED.index("{|") : TRANSFERRED.index("|}") + 2]
LOG_ROW = LOG_TABLE[LOG_TABLE.index("|-") : LOG_TABLE.index("|}")]


def reading(text: str) -> Reading:
    """What the model and the object-id look-up read of a text's tree: the page-level templates as
    trees, every template's wikitext, and how many arguments there are."""
    code = mwparserfromhell.parse(text, skip_style_tags=True)
    page = [
        Wikicode(SmartList([t])).get_tree()  # type: ignore[no-untyped-call]
        for t in wikitext_model._page_level_templates(code)
    ]
    every = [str(t) for t in code.filter_templates(recursive=True)]
    return page, every, len(code.filter_arguments(recursive=True))


def prepared(text: str) -> str:
    """The text as the engine gives it to the elision: comments and category lines gone."""
    return wikitext_model.without_category_lines(remove_comments(text))


def assert_same_reading(text: str) -> str:
    """Cut at any length (the engine cuts only long pages), the text reads as the whole one."""
    whole = prepared(text)
    cut = without_template_free_lines(whole, elide_from=0)
    assert reading(cut) == reading(whole)
    return cut


def long_page(page: str, rows_count: int = 600) -> str:
    """A real page with a long upload log after it, as a transfer from another wiki leaves it."""
    return page + "\n== {{Original upload log}} ==\n" + LOG_TABLE.replace("|}", LOG_ROW * rows_count + "|}")


def samples() -> Iterator[str]:
    yield from all_wikitext_samples()
    yield from (f"issue16/{p.name}" for p in sorted((WIKITEXT / "issue16").glob("*.wikitext")))


@pytest.mark.parametrize("name", list(samples()))
def test_every_sample_reads_the_same_cut_and_whole_also_made_long(name: str) -> None:
    page = wikitext(name)
    assert_same_reading(page)
    cut = assert_same_reading(long_page(page))
    whole = prepared(page)
    if template_free_anchors(whole)[-1][0] == len(whole):  # the page closes what it opens
        assert len(cut) < len(page) + len(LOG_TABLE)  # the log's 600 rows are gone
    else:  # a broken page (an unclosed template) is parsed whole, log and all
        assert cut == prepared(long_page(page))


def test_an_upload_log_is_not_parsed_but_its_header_templates_are() -> None:
    page = long_page(wikitext("memucho_kolob_canyons_multilang.wikitext"))
    assert len(page) > 60_000
    cut = without_template_free_lines(prepared(page))
    assert len(cut) < 6_000
    assert "{{int:filehist-datetime}}" in cut and "{{Original upload log}}" in cut
    assert cut.count("|-") <= 2


def test_a_row_with_a_template_stays_and_rows_around_it_go() -> None:
    rows_with_one = LOG_ROW * 50 + "|-\n| {{Date|2018|1|7}} || [[User:X|X]]\n" + LOG_ROW * 50
    page = "{{Information|description={{en|1=A bust}}}}\n" + LOG_TABLE.replace("|}", rows_with_one + "|}")
    cut = assert_same_reading(page)
    assert "{{Date|2018|1|7}}" in cut and len(cut) < 1_000


def test_the_model_and_the_records_of_a_long_page_are_those_of_the_whole_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's own path, against the same engine with the cutting switched off."""
    old = long_page(wikitext("memucho_kolob_canyons_multilang.wikitext"))
    edits = [
        old.replace("[[Category:Kolob Canyons]]", "[[Category:Kolob Arch]]"),
        old.replace("|Date=1997-08", "|Date=1997-08-14"),
        old.replace("| 2018-01-07 01:03 ||", "| 2018-01-07 01:04 ||", 1),  # an edit of a cut row
        old + "\n{{Uncategorized|year=2025}}\n",
    ]
    settings_ = DiffSettings()

    def clear() -> None:
        wikitext_model.parse_wikicode.cache_clear()
        wikitext_model._parse_prepared.cache_clear()

    clear()
    fast = [(parse_wikitext(new, settings_), rows(diff_text(old, new))) for new in edits]
    monkeypatch.setattr(wikitext_model, "without_template_free_lines", lambda text: text)
    clear()
    whole = [(parse_wikitext(new, settings_), rows(diff_text(old, new))) for new in edits]
    clear()
    assert fast == whole
    assert [len(r) for _, r in whole] == [2, 1, 0, 1]  # a category swapped, a date, nothing, a template


# Pages built to fool a scan that pairs brackets naively: in each, a line in the middle holds no
# template and stands outside every construct by a naive count, but the parser reads it inside one.
FOOLING = {
    # mwparserfromhell reads a heading inside a template's parameter name, and "}}" there is text.
    "heading in a template": "{{Information|\n== x }} ==\nplain line\n}}",
    # A template inside a quoted attribute runs past the ">" that ends the tag for a naive scan.
    "template in an attribute": '<span title="{{x|">\n</span>\nplain line\n}}">y</span>',
    "quote in an attribute": '<div title=">\n</div>\nplain line\n{{X}}\n">z</div>',
    # An unclosed tag the parser gives up on, and one it closes in another spelling.
    "unclosed div": "<div>\nplain line\n{{Information|a=b}}",
    "closing in capitals": "<div>\nplain line\n</DIV>\n{{Information|a=b}}\n</div>",
    "nowiki closing in capitals": "<nowiki>a</NOWIKI>{{X|\nplain line\n}}</nowiki>",
    # A link's text runs over lines; an external link's does not; "[1]" is no link.
    "link over lines": "[[File:A.jpg|thumb|caption\nplain line\n{{X}}]]",
    "external link and a bracket": "[http://example.org a\nplain line\n]{{X|[1]\nplain\n}}",
    # A table the parser closes only at a line start; rows of a table inside a template.
    "table close mid-line": "{|\n| a |}\nplain line\n{{X}}\n|}",
    "table in a template": "{{X|\n{|\n|-\n| plain row\n|-\n| {{Y}}\n|}\n}}",
    # Braces the parser pairs as arguments, a comment kept in a nowiki, a stray closer.
    "argument": "{{{a|\nplain line\n}}}{{X}}",
    "comment in nowiki": "<nowiki><!-- {{ --></nowiki>\nplain line\n{{X}}",
    "stray closers": "}}\n]]\n</div>\nplain line\n{{X|[[a]]}}\n",
    "unclosed template at the end": "{{X}}\nplain line\n{{Information|\nplain\n",
    # The parser takes no tag over lines: what a "<br" over lines holds is markup (here a heading).
    "void tag over lines": "{{Information|\n<br\n== x>}} ==\nplain line\n}}",
    "table end in a tag over lines": "{|\n| a\n<br\n|}\n>\n|-\n| plain row\n|}\n{{X}}",
}


@pytest.mark.parametrize("name", sorted(FOOLING))
def test_pages_built_to_fool_the_scan_read_the_same(name: str) -> None:
    text = FOOLING[name]
    for page in (text, text + "\n" + text, "{{Information|a=b}}\n" + text + "\nplain end\n"):
        assert_same_reading(page)


def test_after_what_the_scan_cannot_follow_nothing_is_cut() -> None:
    """A heading inside a template stops the scan: the rows after it stay, however template-free."""
    text = "{{X|\n== h ==\n}}\n" + LOG_TABLE.replace("|}", LOG_ROW * 20 + "|}")
    anchors = template_free_anchors(prepared(text))
    assert anchors == [(0, 0)]
    assert without_template_free_lines(prepared(text), elide_from=0) == prepared(text)


def test_short_pages_are_parsed_whole() -> None:
    page = wikitext("memucho_kolob_canyons_multilang.wikitext")
    assert len(page) < nesting.ELIDE_FROM
    assert without_template_free_lines(page) is page


# Markup generated from the pieces that open and close what the parser pairs, mixed with plain text
# and line breaks: the cut text must read as the whole one, whatever the mix.
PIECES = [
    "{{", "}}", "{{Information|description=", "{{en|1=x}}", "|", "=", "{{{", "}}}", "{", "}",
    "[[", "]]", "[[File:a.jpg|", "[http://x.org ", "[1]", "[", "]", "http://y.org/", "<div>", "</div>",
    "<span title=\"", "\">", "<ref>", "</ref>", "<ref name=a/>", "<br>", "<nowiki>", "</nowiki>",
    "<pre>", "</pre>", "<li>", "</DIV>", "<3", "<", ">", "<!--", "-->", "{|", "|}", "|-", "||", "!",
    "\n", "\n", "\n", "\n", "==", "== h ==\n", "* ", ":", ";", "''", "'", "\"", "&amp;", "a", "text ",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_generated_markup_reads_the_same_cut_and_whole(text: str) -> None:
    assert_same_reading(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(PIECES[:-6]), max_size=6).map("".join)
        | st.sampled_from(["plain line", "|-", "| cell || cell", "[[Category:X]]", ""]),
        max_size=40,
    ).map("\n".join)
)
def test_generated_lines_read_the_same_cut_and_whole(text: str) -> None:
    """Line by line, so that many line starts stand outside everything and stretches are cut."""
    assert_same_reading(text)


def test_a_verbatim_tag_whose_body_holds_a_tag_is_read_as_a_tag() -> None:
    """Found by the generated lines above: ``<pre>`` is skipped whole only as ``<pre>…</pre>`` with no
    ``<`` inside; an opening ``<pre>`` alone keeps the scan inside it."""
    text = "<pre></ref>\n{{en|1=x}}</pre>"
    assert template_free_anchors(text) == [(0, 0), (len(text), 0)]
    assert_same_reading(text)
