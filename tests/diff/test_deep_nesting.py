"""Templates nested beyond the parser's depth: one ``text`` record, never false removals."""

from __future__ import annotations

import mwparserfromhell

from tests.support.diff import diff_text, rows
from tests.support.fixtures import wikitext
from watcher.diff import DiffSettings, parse_wikitext
from watcher.diff.nesting import SAFE_DEPTH, bracket_nesting, too_deep

# A real page whose description is then wrapped in ever more templates.
PAGE = wikitext("memucho_duelmen_sunrise.wikitext")


def nested(levels: int, positional: bool) -> str:
    """``levels`` templates inside each other, as a bot that wraps and re-wraps a value leaves it."""
    value = "Sonnenaufgang über Dülmen"
    for i in range(levels):
        value = f"{{{{Wrap{i}|{value}}}}}" if positional else f"{{{{Wrap{i}|text={value}}}}}"
    return value


def deep_page(levels: int, positional: bool = True) -> str:
    start = PAGE.index("{{de|")
    return PAGE[:start] + "{{de|1=" + nested(levels, positional) + "}}\n" + PAGE[start:]


def test_beyond_the_parser_limit_an_edit_is_one_text_record_not_false_removals() -> None:
    old = deep_page(45)
    new = old.replace("|date           = 2012-09-16", "|date           = 2012-09-17")
    assert new != old
    [change] = diff_text(old, new)
    assert (change.field, change.action, change.old, change.new) == ("text", "changed", old, new)
    assert change.detail is not None and "nest deeper" in change.detail["reason"]
    assert "2012-09-17" in change.detail["line_diff"]
    assert not parse_wikitext(old, DiffSettings()).parsed


def test_below_the_limit_the_same_edit_is_a_field_record() -> None:
    old = deep_page(25)
    new = old.replace("|date           = 2012-09-16", "|date           = 2012-09-17")
    assert rows(diff_text(old, new)) == [
        (
            "date",
            "changed",
            "2012-09-16 08:08:42",
            "2012-09-17 08:08:42",
            "Information",
            None,
            None,
            "content",
        )
    ]
    assert diff_text(old, old + "\n") == []


def test_detection_follows_the_parser_not_a_guess() -> None:
    """Named parameters cost the tokenizer less depth than positional ones: 45 levels of the first
    still parse, of the second they do not; the check says so in both cases."""
    for levels, positional in [(20, True), (32, True), (45, False), (33, True), (48, False), (60, True)]:
        text = deep_page(levels, positional)
        code = mwparserfromhell.parse(text, skip_style_tags=True)
        info = next(t for t in code.filter_templates(recursive=False) if t.name.strip() == "Information")
        lost = not info.has("date")
        assert too_deep(text, code) == lost, (levels, positional)
    assert too_deep(deep_page(60), mwparserfromhell.parse(deep_page(60), skip_style_tags=True))


def test_bracket_nesting_counts_closed_pairs_only() -> None:
    assert bracket_nesting("{{a|{{b|[[c]]}}}}") == (3, 2)
    assert bracket_nesting("{{a|{{b}}") == (2, 1)  # the outer one never closes
    assert bracket_nesting("}} ]] {{x}}") == (1, 1)
    assert bracket_nesting("{{{1|x}}}") == (1, 1)  # an argument reads as one pair, as the parser has it
    deep_but_unclosed = "{{" * (SAFE_DEPTH + 5) + "x"
    assert not too_deep(deep_but_unclosed, mwparserfromhell.parse(deep_but_unclosed))


def test_every_sample_is_within_the_limit() -> None:
    for name in ["lsh_glam_batch_stol_103896.wikitext", "memucho_kolob_canyons_multilang.wikitext"]:
        text = wikitext(name)
        assert not too_deep(text, mwparserfromhell.parse(text, skip_style_tags=True))
        assert parse_wikitext(text, DiffSettings()).parsed
