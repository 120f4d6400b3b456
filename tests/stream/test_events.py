"""Event interpretation on the real captures and on hand-made events in the real shapes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.core import (
    categorize,
    delete,
    edit,
    log_event,
    move,
    new_page,
    rc,
    restore,
    upload,
)
from tests.support.fixtures import EVENTS, load_events, sse_records
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import revision_delete
from watcher.demo.standins.bridge import rc_to_event
from watcher.stream.events import (
    Categorized,
    Deleted,
    Edit,
    MalformedEvent,
    Moved,
    RecentChange,
    RevisionsHidden,
    Uploaded,
    categorize_member,
    event_key,
    hidden_revisions,
    interpret,
    move_target,
    parse_event,
)
from watcher.tracking.catchup import rc_row_to_event

CAPTURES = sorted(p.name for p in EVENTS.iterdir() if p.suffix in (".json", ".jsonl", ".sse"))
RC_FEED = "mediawiki-1.39_rcfeed_udp_json.jsonl"


def meaning(event: dict[str, Any]) -> Any:
    return interpret(parse_event(event))


# -- every capture -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_every_recentchange_capture_parses(name: str) -> None:
    events = load_events(name)
    assert events
    for event in events:
        if event.get("$schema", "").startswith("/mediawiki/revision/create"):
            # Not a recentchange event: it has no `wiki`, `type` or `title`.
            with pytest.raises(MalformedEvent, match="wiki"):
                parse_event(event)
            continue
        change = parse_event(event)
        assert (
            change.wiki == event["wiki"] and change.title == event["title"] and change.type == event["type"]
        )
        assert change.raw is event
        assert change.bot is bool(event.get("bot"))
        assert change.timestamp.endswith("Z") and len(change.timestamp) == 20
        # The rcid is the same whichever data centre (or the Action API) delivered the change.
        assert change.key == f"{event['wiki']}:rc:{event['id']}"
        assert change.is_canary is False
        interpret(change)  # never raises on a real event


def test_sse_transcript_of_2025_08_29() -> None:
    records = sse_records((EVENTS / "sse_recentchange_2025-08-29_eqiad.sse").read_text(encoding="utf-8"))
    assert len(records) == 9
    for sse_id, _ in records:
        assert [entry["topic"] for entry in json.loads(sse_id)] == [
            "eqiad.mediawiki.recentchange",
            "codfw.mediawiki.recentchange",
        ]
    commons = [data for _, data in records if data["wiki"] == "commonswiki"]
    assert len(commons) == 3
    sdc, wikitext_edit, user_page = (meaning(e) for e in commons)
    for found, event in zip((sdc, wikitext_edit, user_page), commons, strict=True):
        assert isinstance(found, Edit)
        assert found.title == event["title"]
        assert (found.old_revision, found.new_revision) == (
            event["revision"]["old"],
            event["revision"]["new"],
        )
        assert found.change.key == f"commonswiki:rc:{event['id']}"
    assert sdc.change.bot is True and sdc.change.comment.startswith("/* wbeditentity-update-languages")
    assert wikitext_edit.change.bot is False
    assert wikitext_edit.change.user == commons[1]["user"]
    # The unix timestamp wins over meta.dt (they differ by a second here).
    assert sdc.change.timestamp == "2025-08-29T06:45:16Z"
    assert sdc.change.dt == "2025-08-29T06:45:16.993Z"


def test_localised_categorize_comments_of_other_wikis_mean_nothing() -> None:
    records = load_events("sse_recentchange_2025-08-29_eqiad.sse")
    categorizations = [e for e in records if e["type"] == "categorize"]
    assert len(categorizations) == 4
    assert all(meaning(e) is None for e in categorizations)


def test_page_creation_without_old_revision_in_eventstreams() -> None:
    (created,) = [e for e in load_events("sse_recentchange_2025-08-29_eqiad.sse") if e["type"] == "new"]
    found = meaning(created)
    assert isinstance(found, Edit)
    assert found.old_revision is None and found.new_revision == created["revision"]["new"]


def test_codfw_categorize_with_a_broken_schema_key() -> None:
    (event,) = load_events("sse_recentchange_2026-03-03_codfw_commons_categorize.sse")
    found = meaning(event)
    assert isinstance(found, Categorized)
    assert found.category == "Category:Taken with Nikon D3100"
    assert found.member == "File:Ferrari 550 Maranello - Flickr - Alexandre Prévot (3).jpg"
    assert found.added is True and found.change.bot is True


def test_categorize_pair_of_one_edit() -> None:
    added, removed, sdc = load_events("rc_2021-07-28_commons_categorize_pair_and_sdc_edit.jsonl")
    assert added["meta"]["request_id"] == removed["meta"]["request_id"]
    first, second = meaning(added), meaning(removed)
    assert isinstance(first, Categorized) and isinstance(second, Categorized)
    assert first.member == second.member == "File:Red squirrel (51205279267).jpg"
    assert (first.category, first.added) == ("Category:Flickr images reviewed by FlickreviewR 2", True)
    assert (second.category, second.added) == ("Category:Flickr review needed", False)
    assert isinstance(meaning(sdc), Edit)


def test_categorize_by_a_human_with_notify_url() -> None:
    (event,) = load_events("rc_2024-04-08_commons_categorize_file_page_diff.json")
    found = meaning(event)
    assert isinstance(found, Categorized)
    assert found.member == "File:Jeton. Ordinaire des guerres - btv1b10405460g (1 of 2).jpg"
    assert found.category == "Category:Jetons" and found.added and not found.change.bot


def test_categorize_without_a_file_link() -> None:
    (event,) = load_events("rc_2026-06-28_commons_categorize_no_file_link.json")
    found = meaning(event)
    assert isinstance(found, Categorized)
    assert found.member is None and found.added is True
    assert found.category == event["title"]


def test_template_caused_categorize_comment_of_a_real_event() -> None:
    war, commons_upload = load_events("rc_2023-05-25_commons_upload_log.json")
    found = meaning(war)
    assert isinstance(found, Categorized)
    assert (found.member, found.added) == ("Allocosmia sugii", False)
    uploaded = meaning(commons_upload)
    assert isinstance(uploaded, Uploaded)
    assert uploaded.action == "upload" and uploaded.title == commons_upload["title"]
    assert len(uploaded.change.comment) > 1000 and "\n" in uploaded.change.comment
    assert uploaded.change.log_params["img_sha1"] == commons_upload["log_params"]["img_sha1"]


def test_sdc_edit_and_delete_log_capture() -> None:
    sdc, deletion, wikidata = load_events("rc_2024-04-26_commons_sdc_edit_and_delete_log.jsonl")
    found = meaning(sdc)
    assert isinstance(found, Edit) and found.change.bot and found.change.namespace == 6
    gone = meaning(deletion)
    assert isinstance(gone, Deleted)
    assert gone.restored is False and gone.title == deletion["title"]
    assert gone.change.log_params == []
    assert gone.change.wiki == "enwiki"
    assert isinstance(meaning(wikidata), Edit)


def test_non_ascii_title_of_a_codfw_sdc_edit() -> None:
    (event,) = load_events("rc_2024-11-06_commons_sdc_edit_codfw.json")
    found = meaning(event)
    assert isinstance(found, Edit)
    assert found.title == "File:LL-Q150 (fra)-Lepticed7-décroître.wav"
    assert (found.old_revision, found.new_revision) == (754324688, 953382381)
    assert found.change.timestamp == "2024-11-06T08:56:22Z"


# -- MediaWiki's own RC feed: no meta, revision.old null ------------------------------------------


def test_rc_feed_without_meta() -> None:
    events = load_events(RC_FEED)
    changes = [parse_event(e) for e in events]
    assert all(c.key == f"testwiki:rc:{e['id']}" for c, e in zip(changes, events, strict=True))
    assert len({c.key for c in changes}) == len(events)
    assert all(c.dt is None for c in changes)
    kinds: dict[type, int] = {}
    for change in changes:
        found = interpret(change)
        kinds[type(found)] = kinds.get(type(found), 0) + 1
    assert kinds == {type(None): 1, Uploaded: 3, Edit: 6, Categorized: 8, Deleted: 3}


def test_rc_feed_page_creation_has_null_old_revision() -> None:
    event = next(
        e for e in load_events(RC_FEED) if e["type"] == "new" and e["title"] == "File:Red square.png"
    )
    assert event["revision"]["old"] is None
    found = meaning(event)
    assert isinstance(found, Edit)
    assert (found.old_revision, found.new_revision) == (None, 4)
    assert found.change.timestamp.endswith("Z")


def test_rc_feed_edit_categorize_upload_and_delete() -> None:
    events = load_events(RC_FEED)
    bot_edit = next(e for e in events if e["type"] == "edit" and e["bot"])
    found = meaning(bot_edit)
    assert isinstance(found, Edit) and (found.old_revision, found.new_revision) == (2, 5)
    assert found.change.user == "CIBot" and found.change.bot
    members = [meaning(e).member for e in events if e["type"] == "categorize"]
    assert "Sandbox" in members and "File:Yellow square.png" in members
    uploads = [meaning(e) for e in events if e.get("log_type") == "upload"]
    assert {u.title for u in uploads} == {
        "File:Blue square.png",
        "File:Green square.png",
        "File:Yellow square.png",
    }
    deletions = [meaning(e) for e in events if e.get("log_type") == "delete"]
    assert [d.title for d in deletions] == ["Sandbox", "DelTest", "Sandbox2"]


# -- hand-made events in the real shapes ----------------------------------------------------------


def test_move_and_move_redir() -> None:
    for action in ("move", "move_redir"):
        found = meaning(move("File:Old name.jpg", "File:New_name.jpg", action=action))
        assert isinstance(found, Moved)
        assert (found.old_title, found.new_title) == ("File:Old name.jpg", "File:New name.jpg")


def test_move_with_the_rc_feed_prefix_and_without_target() -> None:
    found = meaning(log_event("File:A.jpg", "move", "move", {"4::target": "File:B.jpg", "5::noredir": "1"}))
    assert isinstance(found, Moved) and found.new_title == "File:B.jpg"
    assert meaning(log_event("File:A.jpg", "move", "move", [])) is None
    assert meaning(log_event("File:A.jpg", "move", "move", {"noredir": "0"})) is None


def test_delete_and_restore() -> None:
    gone = meaning(delete("File:A.jpg"))
    assert isinstance(gone, Deleted) and gone.title == "File:A.jpg" and gone.restored is False
    back = meaning(restore("File:A.jpg"))
    assert isinstance(back, Deleted) and back.restored is True


def test_overwrite_and_revert_are_new_file_versions() -> None:
    for action in ("upload", "overwrite", "revert"):
        found = meaning(upload("File:A.jpg", action=action))
        assert isinstance(found, Uploaded) and found.action == action and found.title == "File:A.jpg"


@pytest.mark.parametrize(
    "event",
    [
        log_event("File:A.jpg", "protect", "protect", {"details": []}),
        log_event("File:A.jpg", "delete", "revision", {"type": "oldimage", "ids": ["20260302101500"]}),
        log_event("File:A.jpg", "upload", "something", {}),
        log_event("User:X", "newusers", "create", {}),
        rc("external", "File:A.jpg"),
        rc("edit", "File:A.jpg"),  # no revision
        rc("categorize", "Category:X", comment="Some unrelated summary"),
    ],
    ids=[
        "protect",
        "revision-delete-of-old-file-versions",
        "odd-upload",
        "newuser",
        "external",
        "edit-no-revision",
        "odd-categorize",
    ],
)
def test_events_that_mean_nothing(event: dict[str, Any]) -> None:
    assert meaning(event) is None


def test_edit_and_new_page() -> None:
    found = meaning(edit("File:A.jpg", 10, 11))
    assert isinstance(found, Edit) and (found.old_revision, found.new_revision) == (10, 11)
    created = meaning(new_page("File:A.jpg", 12))
    assert isinstance(created, Edit) and created.old_revision is None
    # A "new" event that carries an old revision (it shouldn't) is still a creation.
    odd = meaning(rc("new", "File:A.jpg", revision={"old": 3, "new": 4}))
    assert isinstance(odd, Edit) and odd.old_revision is None


def test_revision_ids_as_digit_strings_and_junk() -> None:
    found = meaning(rc("edit", "File:A.jpg", revision={"old": "10", "new": "11"}))
    assert isinstance(found, Edit) and (found.old_revision, found.new_revision) == (10, 11)
    assert meaning(rc("edit", "File:A.jpg", revision={"old": 1, "new": True})) is None
    assert meaning(rc("edit", "File:A.jpg", revision={"old": 1, "new": "x"})) is None
    assert meaning(rc("edit", "File:A.jpg", revision=[1, 2])) is None


def test_canary_events_are_marked() -> None:
    event = edit("File:A.jpg", 1, 2)
    event["meta"]["domain"] = "canary"
    assert parse_event(event).is_canary is True


def test_optional_fields() -> None:
    event = edit("File:A.jpg", 1, 2)
    for key in ("user", "comment", "bot", "namespace"):
        del event[key]
    change = parse_event(event)
    assert change.user is None and change.comment == "" and change.bot is False and change.namespace is None
    assert parse_event(rc("edit", "File:A.jpg", namespace="6")).namespace == 6  # type: ignore[arg-type]


# -- timestamps ----------------------------------------------------------------------------------


def test_timestamp_from_unix_seconds() -> None:
    assert parse_event(edit("File:A.jpg", 1, 2, timestamp=0)).timestamp == "1970-01-01T00:00:00Z"
    assert parse_event(edit("File:A.jpg", 1, 2, timestamp=1772359200)).timestamp == "2026-03-01T10:00:00Z"


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        ("2026-06-28T18:01:51.863Z", "2026-06-28T18:01:51Z"),
        ("2023-05-25T13:39:42Z", "2023-05-25T13:39:42Z"),
        ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00Z"),
        ("2026-03-01T10:00:00", "2026-03-01T10:00:00Z"),
    ],
)
def test_timestamp_falls_back_to_meta_dt(dt: str, expected: str) -> None:
    event = edit("File:A.jpg", 1, 2)
    del event["timestamp"]
    event["meta"]["dt"] = dt
    assert parse_event(event).timestamp == expected


def test_no_usable_time_is_malformed() -> None:
    event = edit("File:A.jpg", 1, 2)
    del event["timestamp"]
    event["meta"]["dt"] = "yesterday"
    with pytest.raises(MalformedEvent, match=r"meta\.dt"):
        parse_event(event)
    del event["meta"]
    with pytest.raises(MalformedEvent, match="timestamp"):
        parse_event(event)
    event["timestamp"] = True
    with pytest.raises(MalformedEvent, match="timestamp"):
        parse_event(event)


# -- malformed -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wiki": None}, "wiki"),
        ({"wiki": ""}, "wiki"),
        ({"wiki": 7}, "wiki"),
        ({"type": None}, "type"),
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": ["File:A.jpg"]}, "title"),
    ],
)
def test_malformed_events(change: dict[str, Any], message: str) -> None:
    event = edit("File:A.jpg", 1, 2)
    for key, value in change.items():
        if value is None:
            del event[key]
        else:
            event[key] = value
    with pytest.raises(MalformedEvent, match=message):
        parse_event(event)


@pytest.mark.parametrize("value", [None, [], "edit", 3])
def test_non_objects_are_malformed(value: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(value)


def test_malformed_is_a_value_error() -> None:
    assert issubclass(MalformedEvent, ValueError)


# -- event_key -----------------------------------------------------------------------------------


def test_event_key_prefers_the_rcid_then_meta_id() -> None:
    event = edit("File:A.jpg", 1, 2)
    assert event_key(event) == f"commonswiki:rc:{event['id']}"
    # The same change delivered by the other data centre has another meta.id, and the same key.
    other_dc = copy.deepcopy(event)
    other_dc["meta"]["id"] = "00000000-0000-4000-8000-000000000000"
    other_dc["meta"]["topic"] = "codfw.mediawiki.recentchange"
    assert event_key(other_dc) == event_key(event)
    for rcid in (None, "17", True):
        event["id"] = rcid
        assert event_key(event) == event["meta"]["id"]


def test_event_key_from_rcid_including_zero() -> None:
    assert event_key({"wiki": "testwiki", "id": 0}) == "testwiki:rc:0"
    assert event_key({"wiki": "testwiki", "id": 17, "meta": "junk"}) == "testwiki:rc:17"
    assert event_key({"id": 17, "meta": {"id": "m"}}) == "m"  # an rcid means nothing without its wiki


def test_event_key_falls_back_to_a_stable_hash() -> None:
    event = edit("File:A.jpg", 1, 2)
    del event["meta"]
    event["id"] = None
    key = event_key(event)
    assert key.startswith("sha256:") and len(key) == len("sha256:") + 64
    reordered = dict(reversed(list(copy.deepcopy(event).items())))
    assert event_key(reordered) == key
    event["comment"] = "another summary"
    assert event_key(event) != key


def test_event_key_is_the_recent_change_key() -> None:
    event = edit("File:A.jpg", 1, 2)
    assert isinstance(parse_event(event), RecentChange)
    assert parse_event(event).key == event_key(event)


# -- categorize comments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("[[:File:X.jpg]] added to category", ("File:X.jpg", True)),
        ("[[:File:X.jpg]] removed from category", ("File:X.jpg", False)),
        (
            "[[:File:X_y.jpg]] added to category, [[Special:WhatLinksHere/File:X_y.jpg|this page is included "
            "within other pages]]",
            ("File:X y.jpg", True),
        ),
        (
            "[[:File:Blå tavla.tif]] removed from category, [[Special:WhatLinksHere/File:Blå tavla.tif|this "
            "page is included within other pages]]",
            ("File:Blå tavla.tif", False),
        ),
        ("[[:File:X.jpg|X]] added to category", ("File:X.jpg", True)),
        ("[[:Category:Sub]] added to category", ("Category:Sub", True)),
        ("added to category", (None, True)),
        ("removed from category", (None, False)),
        ("Some unrelated summary", None),
        ("", None),
        ("[[File:X.jpg]] added to category", None),  # a link without the colon is not the RC message
    ],
)
def test_categorize_member(comment: str, expected: tuple[str | None, bool] | None) -> None:
    assert categorize_member(comment) == expected


def test_categorize_events_carry_category_and_member() -> None:
    found = meaning(
        categorize("Category:Media contributed by LSH", "[[:File:A b.jpg]] removed from category")
    )
    assert isinstance(found, Categorized)
    assert (found.category, found.member, found.added) == (
        "Category:Media contributed by LSH",
        "File:A b.jpg",
        False,
    )


# -- move_target ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"target": "File:B_c.jpg", "noredir": "0"}, "File:B c.jpg"),
        ({"4::target": "File:B.jpg", "5::noredir": "0"}, "File:B.jpg"),
        ({"target_title": "File:B.jpg"}, "File:B.jpg"),
        ({"target": ""}, None),
        ({"target": 5}, None),
        ([], None),
        ("File:B.jpg", None),
        (None, None),
    ],
)
def test_move_target(params: Any, expected: str | None) -> None:
    assert move_target(params) == expected


# -- revision deletion ---------------------------------------------------------------------------


def revision_deletions(*, content: bool = True) -> tuple[dict[str, Any], dict[str, Any], int, int]:
    """One revision deletion as the stream and as the catch-up path (``list=recentchanges``) carry it,
    made on the stand-in wiki, whose log entries match MediaWiki 1.39's (tests/mediawiki_real); and
    the two revisions hidden."""
    wiki = ActionApiPeer()
    title = "File:Chair - EXM 1.jpg"
    wiki.add_page(title, "{{Information|description={{en|1=A chair}}}}", user="Example Museum")
    first = wiki.edit(title, "{{Information|description={{en|1=Call 555-0100}}}}", user="Vandal")
    second = wiki.edit(title, "{{Information|description={{en|1=Call 555-0100 now}}}}", user="Vandal")
    wiki.edit(title, "{{Information|description={{en|1=A chair}}}}", user="Patroller")
    revision_delete(wiki, title, [first, second], content=content, comment=not content, reason="RD1")
    (change,) = [c for c in wiki.changes if c.log is not None and c.log.action == "revision"]
    answer = wiki.answer(
        {"action": "query", "list": "recentchanges", "rcprop": "title|ids|user|timestamp|comment|loginfo",
         "rclimit": "50", "format": "json", "formatversion": "2"}
    )  # fmt: skip
    (row,) = [r for r in answer["query"]["recentchanges"] if r.get("logaction") == "revision"]
    return rc_to_event(change), rc_row_to_event(row, "commonswiki"), first, second


def test_a_revision_deletion_names_its_revisions_on_the_stream_and_in_catch_up() -> None:
    streamed, caught_up, first, second = revision_deletions()
    assert streamed["log_params"] == {"type": "revision", "ids": [first, second], "ofield": 0, "nfield": 1}
    for event in (streamed, caught_up):
        found = meaning(event)
        assert isinstance(found, RevisionsHidden)
        assert (found.title, found.revisions, found.content) == (
            "File:Chair - EXM 1.jpg",
            (first, second),
            True,
        )


def test_hiding_only_a_summary_says_the_content_is_not_hidden() -> None:
    streamed, caught_up, first, second = revision_deletions(content=False)
    for event in (streamed, caught_up):
        found = meaning(event)
        assert isinstance(found, RevisionsHidden)
        assert (found.revisions, found.content) == ((first, second), False)


def test_suppression_and_loose_shapes_of_revision_deletion() -> None:
    suppressed = meaning(
        log_event("File:A.jpg", "suppress", "revision", {"type": "revision", "ids": ["17"], "nfield": "9"})
    )
    assert isinstance(suppressed, RevisionsHidden) and (suppressed.revisions, suppressed.content) == (
        (17,),
        True,
    )
    # Parameters nobody can read still ask for a look at the file (every pending change's revision).
    unreadable: list[Any] = [[], "ids=17", {"type": "revision"}, {"ids": [True, None, "x", -3]}]
    for params in unreadable:
        found = meaning(log_event("File:A.jpg", "delete", "revision", params))
        assert isinstance(found, RevisionsHidden) and (found.revisions, found.content) == ((), None)
    assert hidden_revisions({"ids": {"17": 1, "18": 1}, "new": {"bitmask": 0}}) == ((17, 18), False)
    assert hidden_revisions({"ids": [17, 17, 18], "nfield": 3}) == ((17, 18), True)
