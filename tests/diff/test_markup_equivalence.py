"""Markup spelling is not content: equivalent spellings make no records, a real text change still does,
and records keep the raw wikitext."""

from __future__ import annotations

import html.entities
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.diff import diff_text, rows
from tests.support.fixtures import wikitext
from watcher.diff.normalise import comparable, is_blank, same_value

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_awb_style_clean_ups_of_real_pages_make_no_records() -> None:
    pairs = [
        ("croptool_algoma_steel.old.wikitext", "issue16/algoma_steel_awb_cleanup.new.wikitext"),
        (
            "memucho_infobox_aircraft_image.wikitext",
            "issue16/infobox_aircraft_image_awb_cleanup.new.wikitext",
        ),
    ]
    for old, new in pairs:
        before, after = wikitext(old), wikitext(new)
        assert before != after
        assert diff_text(before, after) == [], new
        assert diff_text(after, before) == [], new


def test_a_real_change_inside_a_cleaned_up_value_keeps_the_raw_wikitext() -> None:
    before = wikitext("croptool_algoma_steel.old.wikitext")
    after = wikitext("issue16/algoma_steel_awb_cleanup.new.wikitext").replace("Wallace", "Wallace Street")
    [change] = diff_text(before, after)
    assert (change.field, change.action, change.language) == ("description", "changed", None)
    assert change.old is not None and "terrasse Wallace ÆØÅ<br>" in change.old
    assert change.new is not None and "&AElig;&Oslash;&#197; <br>" in change.new


EQUAL = [
    ("a<br>b", "a<br />b"),
    ("a<br>b", "a <BR/> b"),
    ("a</br>b", "a<br>b"),
    ("text<br>", "text"),
    ("Caf&eacute;", "Café"),
    ("Caf&#233;", "Café"),
    ("Caf&#xE9;", "Café"),
    ("e\u0301", "é"),  # NFC
    ("a&nbsp;b", "a b"),
    ("a\u00a0b", "a b"),
    ("a\u2009b", "a b"),
    ("a\u3000b", "a b"),
    ("a\u200bb", "ab"),
    ("\u200eRoma", "Roma"),
    ("{{en|1=x}}", "{{en|x}}"),
    ("{{en| x }}", "{{en|1=x}}"),
    ("{{Size|cm|65|50|depth=}}", "{{Size|cm|65|50}}"),
    ("{{Technique|oil|canvas}}", "{{technique|oil|2=canvas}}"),
    ("[[Foo_bar|x]]", "[[foo bar|x]]"),
    ("[[Foo bar]]", "[[Foo bar|Foo bar]]"),
    ('<span style="color:red">x</span>', "<span  style='color:red'>x</span>"),
    ("a<!-- note -->b", "ab"),
    ("{{Otherdate|ca|1750}}", "{{other date|ca|1750}}"),
]
DIFFERENT = [
    ("a b", "ab"),
    ("a<br>b", "a b"),  # a line break is not a space
    ("[[Foo_bar]]", "[[Foo bar]]"),  # the shown text differs
    ("''x''", "x"),
    ("{{X|a|b}}", "{{X|b|a}}"),
    ("&#65;", "B"),
    ("{{X|a||c}}", "{{X|a|c}}"),  # an empty positional still holds its place
    ("a\u200db", "ab"),  # ZWJ changes how some scripts render
]


def test_comparable_equal_and_different_spellings() -> None:
    for a, b in EQUAL:
        assert comparable(a) == comparable(b), (a, b)
        assert same_value(a, b)
    for a, b in DIFFERENT:
        assert comparable(a) != comparable(b), (a, b)


def test_blank_values() -> None:
    assert all(is_blank(v) for v in ["", " ", "<br />", "&nbsp;", "\u200b", "<p></p>", " <br> \n "])
    assert not any(is_blank(v) for v in ["x", "&#65;", "[[A]]", "{{own}}", "-"])


# -- properties --------------------------------------------------------------------------------------

WORDS = ["chair", "oak", "Stockholm", "Málaga", "Åland", "Göteborg", "naïve", "大館", "1750", "''Brita''"]
SPACES = [" ", "&nbsp;", "\u00a0", "\u2009", "  ", " \u200b"]
BREAKS = ["<br>", "<br/>", "<br />", "<BR>", " <br> ", "</br>"]
PARAMS = ["description", "title", "source", "notes"]


@st.composite
def values(draw: st.DrawFn) -> list[list[str]]:
    """A value: lines of words (lines are joined with <br>)."""
    lines = draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), min_size=1, max_size=3))
    return lines


def _char(c: str, data: st.DataObject) -> str:
    if c.isascii():
        return c
    name = html.entities.codepoint2name.get(ord(c))
    forms = [c, f"&#{ord(c)};", f"&#x{ord(c):X};"] + ([f"&{name};"] if name else [])
    return data.draw(st.sampled_from(forms))


def spell(value: list[list[str]], data: st.DataObject | None) -> str:
    """The value as wikitext; with ``data``, every space, break and letter in one of its equal spellings."""
    if data is None:
        return "<br>".join(" ".join(line) for line in value)
    lines = []
    for line in value:
        words = ["".join(_char(c, data) for c in word) for word in line]
        text = words[0]
        for word in words[1:]:
            text += data.draw(st.sampled_from(SPACES)) + word
        lines.append(text)
    text = lines[0]
    for following in lines[1:]:
        text += data.draw(st.sampled_from(BREAKS)) + following
    return text


def page(params: dict[str, list[list[str]]], data: st.DataObject | None) -> str:
    """A real-style page: each value in {{en|…}}, a nested template and a link beside them."""
    body = []
    for name, value in params.items():
        text = spell(value, data)
        if data is None:
            tagged = "{{en|1=" + text + "}}"
        else:
            tagged = (
                data.draw(st.sampled_from(["{{en|1=%s}}", "{{en|%s}}", "{{en| %s }}", "{{En|1= %s}}"])) % text
            )
        body.append(f"|{name}={tagged}")
    size = "{{Size|unit=cm|height=65|width=50}}"
    link = "[[Gustavian style|Gustavian]] chair"
    if data is not None:
        size = data.draw(
            st.sampled_from(
                [
                    size,
                    "{{size|width=50|unit=cm|height=65|depth=}}",
                    "{{Size | unit = cm |height=65|width=50}}",
                ]
            )
        )
        link = data.draw(
            st.sampled_from(
                [link, "[[Gustavian_style|Gustavian]] chair", "[[gustavian style|Gustavian]]&#32;chair"]
            )
        )
    return (
        "== {{int:filedesc}} ==\n{{Information\n"
        + "\n".join(body)
        + f"\n|dimensions={size}\n|other fields={link}\n|date=1790\n}}}}\n"
        + "== {{int:license-header}} ==\n{{self|cc-by-sa-4.0}}\n[[Category:Gustavian chairs]]\n"
    )


@FAST
@given(st.dictionaries(st.sampled_from(PARAMS), values(), min_size=1, max_size=3), st.data())
def test_equivalent_spellings_diff_to_nothing(
    params: dict[str, list[list[str]]], data: st.DataObject
) -> None:
    plain = page(params, None)
    respelled = page(params, data)
    assert diff_text(plain, respelled) == []
    assert diff_text(respelled, plain) == []


@FAST
@given(
    st.dictionaries(st.sampled_from(PARAMS), values(), min_size=1, max_size=3),
    st.data(),
    st.sampled_from(["a new word", "Uppsala", "1751"]),
)
def test_a_real_text_change_still_gives_a_record(
    params: dict[str, list[list[str]]], data: st.DataObject, word: str
) -> None:
    """One word replaced in one value, both sides in random equal spellings: exactly one record, on
    that field and language, with the raw wikitext of each side."""
    name = data.draw(st.sampled_from(sorted(params)))
    line = data.draw(st.integers(0, len(params[name]) - 1))
    changed: dict[str, Any] = {k: [list(x) for x in v] for k, v in params.items()}
    changed[name][line][0] = word
    before, after = page(params, data), page(changed, data)
    assert rows(diff_text(before, after)) == [
        (
            name,
            "changed",
            raw_value(before, name),
            raw_value(after, name),
            "Information",
            None,
            "en",
            "content",
        )
    ]


def raw_value(text: str, name: str) -> str:
    """The raw text inside {{en|…}} of parameter ``name``, as the page spells it."""
    start = text.index(f"|{name}=") + len(name) + 2
    value = text[start : text.index("\n", start)]
    inner = value[value.index("|") + 1 : value.rindex("}}")]
    return inner[2:].strip() if inner.startswith("1=") else inner.strip()


def test_pywikibot_commons_clean_up_makes_no_records() -> None:
    """pywikibot's cosmetic_changes.py (commonsfiledesc), the "Bot: Cosmetic changes" edit, undone on a
    real page to give the before: headings, "Own work", "See below", the upload-form tracker, __NOTOC__."""
    after = wikitext("dreykh_crassula_information.wikitext")
    before = (
        after.replace("=={{int:filedesc}}==", "== Summary ==", 1)
        .replace("|source={{own}}", "|source=Own work by uploader", 1)
        .replace("|permission=\n", "|permission=See below\n", 1)
        .replace("=={{int:license-header}}==", "== Licensing ==", 1)
        + "{{ImageUpload|full}}\n__NOTOC__\n"
    )
    assert before.count("\n") > after.count("\n")
    assert diff_text(before, after) == []
    assert rows(diff_text(before, after.replace("|source={{own}}", "|source={{own}} and the museum", 1))) == [
        (
            "source",
            "changed",
            "Own work by uploader",
            "{{own}} and the museum",
            "Information",
            None,
            None,
            "content",
        )
    ]
