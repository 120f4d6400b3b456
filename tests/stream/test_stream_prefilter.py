"""The byte-level prefilter: the same answer as a plain rule on parsed events, on every real sample."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.stream import CODFW_SSE, WIKI, is_candidate, sample_events, sample_payloads, titleset
from watcher.stream.prefilter import Prefilter, TitleSetMatcher


def prefilter(
    titles: list[str] | tuple[str, ...] = (), users: tuple[str, ...] = (), wiki: str = WIKI
) -> Prefilter:
    return Prefilter(wiki, TitleSetMatcher(titleset(*titles), titleset(*users)))


def encodings(ev: dict[str, Any]) -> dict[str, bytes]:
    """One event written the ways a server might: compact raw UTF-8 (EventStreams), ASCII-escaped,
    spaced, pretty-printed, and with keys in reverse order."""
    return {
        "compact": json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode(),
        "escaped": json.dumps(ev, ensure_ascii=True, separators=(",", ":")).encode(),
        "spaced": json.dumps(ev, ensure_ascii=False).encode(),
        "pretty": json.dumps(ev, ensure_ascii=False, indent=2).encode(),
        "reversed": json.dumps(dict(reversed(list(ev.items()))), separators=(",", ":")).encode(),
    }


SAMPLES = sample_events()
COMMONS_TITLES = [e["title"] for e in SAMPLES if e["wiki"] == WIKI]


@pytest.mark.parametrize("name,raw", sample_payloads(), ids=lambda v: v if isinstance(v, str) else "")
def test_raw_samples_as_published(name: str, raw: bytes) -> None:
    ev = json.loads(raw)
    wiki = ev.get("wiki") or WIKI
    title = ev.get("title")
    # Tracking the event's own title makes it a candidate (on its wiki), tracking others does not.
    for titles in ([title] if isinstance(title, str) else [], ["File:Not tracked.jpg"]):
        pf = prefilter(titles, wiki=wiki)
        got = pf.check(raw)
        assert (got is not None) == is_candidate(ev, titles, wiki=wiki), (name, titles)
        if got is not None:
            assert got == ev
        assert pf.malformed == 0


@pytest.mark.parametrize("style", ["compact", "escaped", "spaced", "pretty", "reversed"])
def test_every_sample_in_every_serialisation(style: str) -> None:
    tracked_sets: list[list[str]] = [[], COMMONS_TITLES, COMMONS_TITLES[::2], ["Category:Jetons"]]
    checked = candidates = 0
    for titles in tracked_sets:
        pf = prefilter(titles, users=("1971markus",))
        for ev in SAMPLES:
            got = pf.check(encodings(ev)[style])
            assert (got is not None) == is_candidate(ev, titles, ("1971markus",)), (ev["title"], titles)
            candidates += got is not None
            checked += 1
        assert pf.malformed == 0
    assert candidates > 5 and checked == 4 * len(SAMPLES)


def test_compact_non_matching_events_are_never_parsed() -> None:
    """The point of the prefilter: other wikis, untracked Commons titles and uploads by untracked users
    cost a few finds and no parse."""
    pf = prefilter(["File:Something else.jpg"], users=("Someone else",))
    for ev in SAMPLES:
        assert pf.check(encodings(ev)["compact"]) is None
    assert pf.parsed == 0
    assert len(SAMPLES) >= 40 and any(e.get("log_type") == "upload" and e["wiki"] == WIKI for e in SAMPLES)


def test_scan_of_a_run_equals_check_of_each_event() -> None:
    titles, users = COMMONS_TITLES[1::3], ("1971markus",)
    datas = [encodings(e)[style] for e in SAMPLES for style in ("compact", "spaced")]
    buf = b"".join(b"xx" + d for d in datas)
    spans, pos = [], 0
    for d in datas:
        spans += [pos + 2, pos + 2 + len(d)]
        pos += 2 + len(d)
    hits = prefilter(titles, users).scan(buf, spans)
    singles = [(spans[2 * k], prefilter(titles, users).check(d)) for k, d in enumerate(datas)]
    assert hits == [(ds, ev) for ds, ev in singles if ev is not None]
    assert len(hits) > 4


def test_other_wikis_dropped_even_when_the_title_is_tracked() -> None:
    others = [e for e in SAMPLES if e["wiki"] != WIKI]
    pf = prefilter([e["title"] for e in others])
    assert all(pf.check(encodings(e)["compact"]) is None for e in others)
    assert (
        prefilter([e["title"] for e in others], wiki="enwiki").check(encodings(others[-1])["compact"]) is None
    )
    enwiki = next(e for e in others if e["wiki"] == "enwiki")
    assert prefilter([enwiki["title"]], wiki="enwiki").check(encodings(enwiki)["compact"]) == enwiki


def test_categorize_event_matches_on_the_category_not_the_file_in_the_comment() -> None:
    ev = next(e for e in SAMPLES if e["type"] == "categorize" and e["title"] == "Category:Jetons")
    raw = encodings(ev)["compact"]
    assert prefilter(["Category:Jetons"]).check(raw) == ev
    file_in_comment = ev["comment"].split("[[:")[1].split("]]")[0]
    assert file_in_comment.startswith("File:")
    assert prefilter([file_in_comment]).check(raw) is None


def test_codfw_capture_with_broken_schema_key_still_filters() -> None:
    line = next(x for x in CODFW_SSE.read_bytes().splitlines() if x.startswith(b"data: "))[6:]
    assert prefilter(["Category:Taken with Nikon D3100"]).check(line) is not None
    assert prefilter(["Category:Other"]).check(line) is None


def test_upload_by_tracked_uploader() -> None:
    upload = next(e for e in SAMPLES if e.get("log_type") == "upload" and e["wiki"] == WIKI)
    for style, raw in encodings(upload).items():
        assert prefilter(users=("1971markus",)).check(raw) == upload, style
        assert prefilter(users=("Someone else",)).check(raw) is None, style
    # An edit by a tracked uploader is not an upload.
    edit = copy.deepcopy(next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit"))
    edit["user"] = "1971markus"
    assert prefilter(users=("1971markus",)).check(encodings(edit)["compact"]) is None
    # Another log type by that user neither.
    other_log = {**upload, "log_type": "delete", "log_action": "delete"}
    assert prefilter(users=("1971markus",)).check(encodings(other_log)["compact"]) is None


def test_uploader_bytes_that_need_a_parse() -> None:
    upload = next(e for e in SAMPLES if e.get("log_type") == "upload" and e["wiki"] == WIKI)
    escaped = {**upload, "user": 'Museum "bot"'}
    raw = encodings(escaped)["compact"]
    pf = prefilter(users=('Museum "bot"',))
    assert pf.check(raw) == escaped and pf.parsed == 1
    # A second compact "user" key (nested): parsed, and decided on the top-level value.
    nested = encodings(upload)["compact"][:-1] + b',"x":{"user":"Someone"}}'
    assert prefilter(users=("1971markus",)).check(nested) is not None
    assert prefilter(users=("Someone",)).check(nested) is None


def test_canary_events_are_never_candidates() -> None:
    ev = copy.deepcopy(next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit"))
    ev["meta"]["domain"] = "canary"
    pf = prefilter([ev["title"]])
    assert pf.check(encodings(ev)["compact"]) is None
    assert pf.canary == 1


@pytest.mark.parametrize(
    "title",
    [
        'File:Quote "marks".jpg',
        "File:Back\\slash.jpg",
        "File:Café à l'été.jpg",
        "File:Tab\there.png",
        "File:𝔘.svg",
    ],
)
def test_titles_needing_escapes(title: str) -> None:
    ev = copy.deepcopy(next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit"))
    ev["title"] = title
    for style, raw in encodings(ev).items():
        assert prefilter([title]).check(raw) == ev, style
        assert prefilter([title + "x"]).check(raw) is None, style
    # A tracked title that is a prefix of the escaped one must not match the truncated bytes.
    ev["title"] = 'File:A"B.jpg'
    assert prefilter(["File:A"]).check(encodings(ev)["compact"]) is None


def test_escaped_wiki_value_and_duplicate_keys() -> None:
    ev = next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit")
    compact = encodings(ev)["compact"]
    escaped_wiki = compact.replace(b'"wiki":"commonswiki"', b'"wiki":"commons\\u0077iki"')
    assert escaped_wiki != compact
    assert prefilter([ev["title"]]).check(escaped_wiki) == ev
    # A nested "wiki" key elsewhere: the byte path must not trust either occurrence.
    nested = compact[:-1] + b',"log_params":{"wiki":"enwiki","title":"x"}}'
    assert prefilter([ev["title"]]).check(nested) is not None
    # JSON keeps the last of duplicate top-level keys.
    dup = compact[:-1] + b',"wiki":"enwiki"}'
    assert prefilter([ev["title"]]).check(dup) is None
    dup_title = compact[:-1] + b',"title":"File:Other.jpg"}'
    assert prefilter(["File:Other.jpg"]).check(dup_title) is not None
    assert prefilter([ev["title"]]).check(dup_title) is None


def test_missing_keys_fall_back_to_parsing() -> None:
    ev = next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit")
    pf = prefilter([ev["title"]])
    for key in ("wiki", "title"):
        stripped = {k: v for k, v in ev.items() if k != key}
        assert pf.check(encodings(stripped)["compact"]) is None
    assert pf.parsed == 2 and pf.malformed == 0


def test_malformed_events_are_counted_never_fatal() -> None:
    ev = next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit")
    compact = encodings(ev)["compact"]
    pf = prefilter([ev["title"]])
    bad = [
        compact[: len(compact) // 2],  # truncated: the wiki key is gone, so it must be parsed
        compact[:-1],  # title matches, JSON broken
        b"[1, 2]",  # JSON but not an object
        b"",
        b"\xff" + compact,  # not UTF-8
    ]
    for raw in bad:
        assert pf.check(raw) is None
    assert pf.malformed == len(bad)
    assert pf.check(compact) == ev  # and it carries on
    # A truncated event of another wiki whose wiki key survived is dropped without a parse.
    other = encodings(next(e for e in SAMPLES if e["wiki"] == "eswiki"))["compact"]
    assert pf.check(other[other.rfind(b'"wiki"') - 40 :]) is None
    assert pf.malformed == len(bad)


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(st.characters(codec="utf-8"), min_size=1, max_size=30),
    tracked=st.booleans(),
    style=st.sampled_from(["compact", "escaped", "spaced", "pretty", "reversed"]),
    wiki=st.sampled_from([WIKI, "enwiki", "commonswiki2", "commons"]),
)
def test_arbitrary_titles(title: str, tracked: bool, style: str, wiki: str) -> None:
    ev = copy.deepcopy(next(e for e in SAMPLES if e["wiki"] == WIKI and e["type"] == "edit"))
    ev["title"] = "File:" + title
    ev["wiki"] = wiki
    titles = [ev["title"]] if tracked else ["File:" + title + "_"]
    got = prefilter(titles).check(encodings(ev)[style])
    assert (got is not None) == is_candidate(ev, titles)
