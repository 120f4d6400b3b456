"""Properties of the diff over generated pages: no change against itself or a re-spelling of itself,
the mirror image when old and new swap, and no exception on any input."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.diff import (
    Row,
    all_mediainfo_samples,
    all_wikitext_samples,
    row,
    rows,
)
from tests.support.fixtures import mediainfo, wikitext
from watcher.diff import DiffSettings, FieldChange, RevisionContent, diff_revisions, parse_revision
from watcher.diff.engine import diff_models
from watcher.diff.mediainfo import diff_mediainfo

SETTINGS = DiffSettings()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = ["chair", "oak", "Stockholm", "1750", "painted", "Larsson", "doll", "''Brita''", "[[Sweden]]", "é"]
LANGS = ["en", "fr", "sv", "de", "zh-hans"]
PARAMS = ["description", "title", "date", "author", "source", "medium", "accession number"]
CATEGORIES = [
    "Chairs",
    "Chairs in Sweden",
    "Oak furniture",
    "Paintings by Carl Larsson",
    "Dolls in art",
    "Media contributed by LSH",
]
LICENCES = ["cc-by-sa-4.0", "GFDL", "cc-zero", "PD-self"]
PAGE_TEMPLATES = [
    "{{Extracted from|1=A.jpg}}",
    "{{Uncategorized|year=2024}}",
    "{{QualityImage}}",
    "{{Photo Information|Model=OM-4}}",
]

text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


@st.composite
def values(draw: st.DrawFn) -> dict[str | None, str]:
    """A parameter's languages. Each text names its language, so no text is tagged by chance."""
    langs = draw(st.lists(st.sampled_from([None, *LANGS]), unique=True, max_size=3))
    return {lang: f"{draw(text)} ({lang or 'plain'})" for lang in langs}


@st.composite
def pages(draw: st.DrawFn) -> dict[str, Any]:
    params = draw(st.dictionaries(st.sampled_from(PARAMS), values(), max_size=5))
    sizes = draw(st.one_of(st.none(), st.integers(10, 99)))
    return {
        "params": params,
        "size": sizes,
        "categories": draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=4)),
        "licences": draw(st.lists(st.sampled_from(LICENCES), unique=True, max_size=2)),
        "location": draw(st.one_of(st.none(), st.tuples(st.integers(-900, 900), st.integers(-1800, 1800)))),
        "templates": draw(st.lists(st.sampled_from(PAGE_TEMPLATES), unique=True, max_size=2)),
    }


def render_value(value: dict[str | None, str], style: int) -> str:
    parts = []
    for lang, words in value.items():
        if lang is None:
            parts.append(words)
        else:
            parts.append(f"{{{{{lang}|1={words}}}}}" if style % 2 else f"{{{{{lang}| {words} }}}}")
    return ("\n" if style % 3 else " ").join(parts)


def render(page: dict[str, Any], style: int = 0) -> str:
    """The page as wikitext; ``style`` changes only order, spacing, comments and sort keys."""
    items = list(page["params"].items())
    if style % 2:
        items.reverse()
    pad = " " * (style % 4)
    lines = ["== {{int:filedesc}} ==", "{{Information" + ("<!-- v2 -->" if style % 3 == 1 else "")]
    for name, value in items:
        shown = name.replace(" ", "_") if style % 5 == 1 else name.title() if style % 5 == 2 else name
        lines.append(f"{pad}|{pad}{shown}{pad}={pad}{render_value(value, style)}{pad}")
    if page["size"] is not None:
        size = (
            f"{{{{Size|unit=cm|height={page['size']}}}}}"
            if style % 2
            else f"{{{{Size| height = {page['size']} |unit=cm}}}}"
        )
        lines.append(f"|dimensions={size}")
    lines.append("}}")
    if page["location"] is not None:
        lat, lon = page["location"]
        lines.append(f"{{{{Location dec|{lat / 10}|{lon / 10}}}}}")
    if page["licences"]:
        lines.append("{{self|" + "|".join(page["licences"]) + "}}")
    lines.extend(page["templates"])
    for name in page["categories"][:: -1 if style % 2 else 1]:
        key = f"|{'Key' * (style % 3)}" if style % 3 else ""
        lines.append(f"[[Category:{name.replace(' ', '_') if style % 2 else name}{key}]]")
    return "\n".join(lines) + "\n"


def diff(a: str, b: str) -> list[FieldChange]:
    return diff_revisions(RevisionContent(a), RevisionContent(b), SETTINGS)


def mirrored(change: FieldChange) -> Row:
    action = {"added": "removed", "removed": "added"}.get(change.action, change.action)
    return (
        change.field,
        action,
        change.new,
        change.old,
        change.template,
        change.property,
        change.language,
        change.kind,
    )


@FAST
@given(pages(), st.integers(0, 59))
def test_model_against_itself_and_respelled_is_no_change(page: dict[str, Any], style: int) -> None:
    plain = render(page)
    model = parse_revision(RevisionContent(plain), SETTINGS).wikitext
    assert model is not None and model.parsed
    assert diff_models(model, model, SETTINGS) == []
    respelled = render(page, style)
    assert diff(plain, respelled) == []


@FAST
@given(pages(), pages())
def test_swapping_old_and_new_mirrors_the_changes(a: dict[str, Any], b: dict[str, Any]) -> None:
    forward, backward = diff(render(a), render(b)), diff(render(b), render(a))
    assert Counter(mirrored(c) for c in forward) == Counter(row(c) for c in backward)
    assert all(c.action != "tagged" for c in forward)
    if {k: v for k, v in a["params"].items() if v} != {k: v for k, v in b["params"].items() if v}:
        assert any(c.template == "Information" for c in forward)


@FAST
@given(pages(), st.sampled_from(PARAMS), st.sampled_from(LANGS))
def test_tagging_unchanged_text_is_tagged_not_added(page: dict[str, Any], param: str, lang: str) -> None:
    words = "A chair of oak, painted."
    before = dict(page, params={**page["params"], param: {None: words}})
    after = dict(page, params={**page["params"], param: {lang: words}})
    assert rows(diff(render(before), render(after))) == [
        (param, "tagged", words, words, "Information", None, lang, "content")
    ]


CAPTION_LANGS = ["en", "sv", "de"]
GUIDS = [f"M1${i:08d}-aaaa-bbbb-cccc-dddddddddddd" for i in range(4)]


@st.composite
def entities(draw: st.DrawFn) -> dict[str, Any]:
    captions = draw(
        st.dictionaries(
            st.sampled_from(CAPTION_LANGS), st.sampled_from(["Chair", "Stol", "Stuhl", "A chair"])
        )
    )
    statements: dict[str, list[dict[str, Any]]] = {}
    for guid in draw(st.lists(st.sampled_from(GUIDS), unique=True, max_size=4)):
        prop = draw(st.sampled_from(["P180", "P170", "P1259"]))
        if prop == "P1259":
            value: dict[str, Any] = {
                "value": {"latitude": draw(st.integers(-90, 90)) / 2, "longitude": 18.0, "precision": 0.0001},
                "type": "globecoordinate",
            }
        else:
            qid = draw(st.sampled_from(["Q1", "Q2", "Q3"]))
            value = {"value": {"entity-type": "item", "id": qid}, "type": "wikibase-entityid"}
        snak = {"snaktype": "value", "property": prop, "datavalue": value}
        if draw(st.booleans()):
            snak = {"snaktype": draw(st.sampled_from(["somevalue", "novalue"])), "property": prop}
        qualifiers = draw(
            st.dictionaries(st.sampled_from(["P642", "P518"]), st.sampled_from(["Q7", "Q8"]), max_size=2)
        )
        statements.setdefault(prop, []).append(
            {
                "mainsnak": snak,
                "type": "statement",
                "id": guid,
                "rank": draw(st.sampled_from(["normal", "preferred"])),
                "qualifiers": {
                    p: [
                        {
                            "snaktype": "value",
                            "property": p,
                            "datavalue": {"value": {"id": q}, "type": "wikibase-entityid"},
                        }
                    ]
                    for p, q in qualifiers.items()
                },
            }
        )
    return {
        "type": "mediainfo",
        "id": "M1",
        "labels": {k: {"language": k, "value": v} for k, v in captions.items()} or [],
        "descriptions": [],
        "statements": statements or [],
    }


@FAST
@given(entities(), entities())
def test_structured_data_against_itself_and_mirrored(a: dict[str, Any], b: dict[str, Any]) -> None:
    model = parse_revision(RevisionContent(None, a)).mediainfo
    assert diff_mediainfo(model, model, SETTINGS) == []
    assert diff_revisions(RevisionContent(None, json.dumps(a)), RevisionContent(None, a)) == []
    forward = diff_revisions(RevisionContent(None, a), RevisionContent(None, b))
    backward = diff_revisions(RevisionContent(None, b), RevisionContent(None, a))
    assert Counter(mirrored(c) for c in forward) == Counter(row(c) for c in backward)
    if a["labels"] != b["labels"]:
        assert any(c.field == "caption" for c in forward)


def no_internal_error(changes: list[FieldChange]) -> None:
    assert isinstance(changes, list)
    for c in changes:
        reason = (c.detail or {}).get("reason", "")
        assert not str(reason).startswith("internal error"), reason


SOUP = [
    "{{", "}}", "|", "=", "[[", "]]", "Category:", "category :", ":Category:", "<!--", "-->", "<nowiki>",
    "</nowiki>", "Information", "Artwork", "en", "{{en|", "{{mld|de=", "{{LangSwitch|", "description", "\n",
    " ", "{{int:filedesc}}", "{{subst:Unc}}", "{{#if:", "{{Location|", "N|", "W|", "12.5", "{{self|", "cc-zero",
    "'''", "''", "<br>", "{{{1}}}", "&amp;", "<ref>", "</ref>", "{{Template:", "_",
]  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.sampled_from(SOUP), max_size=40).map("".join),
    st.lists(st.sampled_from(SOUP), max_size=40).map("".join),
)
def test_template_soup_never_raises(a: str, b: str) -> None:
    no_internal_error(diff(a, b))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_random_text_never_raises(a: str, b: str) -> None:
    no_internal_error(diff(a, b))
    no_internal_error(diff_revisions(RevisionContent(a, a), RevisionContent(b, b)))


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(all_wikitext_samples()), st.floats(0, 1), st.floats(0, 1))
def test_truncated_samples_never_raise(name: str, cut_a: float, cut_b: float) -> None:
    text = wikitext(name)
    no_internal_error(diff(text[: int(len(text) * cut_a)], text[: int(len(text) * cut_b)]))
    no_internal_error(diff(text, text[: int(len(text) * cut_b)]))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["labels", "statements", "descriptions", "mainsnak", "datavalue", "value", "type", "id", "P180", "en",
         "qualifiers", "snaktype", "property", "rank", "references", "snaks", "entities", "latitude", "amount"]
    ), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(json_values, st.sampled_from(all_mediainfo_samples()), st.floats(0, 1))
def test_garbage_and_truncated_mediainfo_never_raise(garbage: Any, name: str, cut: float) -> None:
    text = mediainfo(name)
    no_internal_error(diff_revisions(RevisionContent("", text), RevisionContent("", json.dumps(garbage))))
    if isinstance(garbage, dict):
        no_internal_error(diff_revisions(RevisionContent("", garbage), RevisionContent("", text)))
    no_internal_error(
        diff_revisions(RevisionContent("", text), RevisionContent("", text[: int(len(text) * cut)]))
    )
