"""History mode over a 405-file collection with years of museum, community and bot edits: the right
baselines, the right records, and few requests."""

from __future__ import annotations

from pathlib import Path

from tests.support.history import BOT, MUSEUM, Collection, expected_changes, write_config
from tests.support.history import CHANGED_KINDS as CHANGED
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.history.run import HistoryOptions, HistoryRun
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.labels import LabelFetcher
from watcher.store import Database
from watcher.store.labels import cached_labels


def _content_revids(peer: ActionApiPeer, since: int) -> set[int]:
    """Revision ids whose content the stand-in was asked for, from request ``since`` on."""
    asked: set[int] = set()
    for request in peer.requests[since:]:
        if "content" in request.params.get("rvprop", "") and "revids" in request.params:
            asked |= {int(r) for r in request.params["revids"].split("|")}
    return asked


async def _records(db: Database) -> dict[str, list[dict[str, object]]]:
    by_file: dict[str, list[dict[str, object]]] = {}
    for row in await db.fetchall("SELECT * FROM changes ORDER BY id"):
        by_file.setdefault(row["file"], []).append(dict(row))
    return by_file


async def test_records_are_the_diff_from_each_baseline_to_the_current_revision(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    report = await HistoryRun(db, api, config, HistoryOptions()).run()
    assert report.finished and report.files == len(collection.stories)

    records = await _records(db)
    for story in collection.changed():
        expected = expected_changes(peer, story, config)
        got = records.get(story.title, [])
        assert expected, f"{story.kind}: the scenario must change something"
        assert sorted(repr((c.field, c.action, c.old, c.new, c.language)) for c in expected) == sorted(
            repr((r["field"], r["action"], r["old"], r["new"], r["language"])) for r in got
        ), story.kind
        baseline, current = peer.revisions[story.baseline], peer.revisions[story.current]
        for record in got:
            assert record["source"] == "history"
            assert (record["revision"], record["old_revision"]) == (story.current, story.baseline), story.kind
            assert record["timestamp"] == current.timestamp
            assert record["user"] == ", ".join(story.editors), story.kind
            edits = sum(1 for r in peer.page(story.title).revisions if r.revid > baseline.revid)
            assert record["comment"] == (
                f"{edits} edit{'s' if edits > 1 else ''} by {', '.join(story.editors)} "
                f"since {baseline.timestamp[:10]}"
            )
            assert record["object_id"] == f"EXM-{story.number:05d}"
    untouched = {s.title for s in collection.stories.values() if s.kind not in CHANGED}
    assert not untouched & set(records), "files nobody else changed (or only a bot) make no records"
    assert sum(len(v) for v in records.values()) == report.records

    assert report.outcomes["done"] == len(collection.changed())
    assert report.outcomes["skipped:own"] == sum(
        1 for s in collection.stories.values() if s.kind in ("untouched", "museum_last")
    )
    assert report.outcomes["skipped:quiet"] == sum(
        1 for s in collection.stories.values() if s.kind == "bot_only"
    )


async def test_content_is_fetched_only_for_files_changed_by_others(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    first = len(peer.requests)
    await HistoryRun(db, api, config, HistoryOptions()).run()
    asked = _content_revids(peer, first)
    for story in collection.stories.values():
        revisions = {r.revid for r in peer.page(story.title).revisions}
        if story.kind in CHANGED:
            assert {story.baseline, story.current} <= asked
        else:  # the museum's own current revision, or only a bot since: no content at all
            assert not revisions & asked, story.kind


async def test_requests_stay_within_one_per_25_files_and_follow_the_etiquette(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    first = len(peer.requests)
    report = await HistoryRun(db, api, config, HistoryOptions()).run()
    made = peer.requests[first:]
    changed = len(collection.changed()) + sum(1 for s in collection.stories.values() if s.kind == "bot_only")
    assert changed / len(collection.stories) >= 0.2  # a fifth (and more) edited by others
    assert len(made) == report.requests
    assert len(made) <= len(collection.stories) / 25, [r.params for r in made]
    assert peer.max_in_flight == 1
    assert all(r.params.get("maxlag") == "5" and r.user_agent == api.user_agent for r in made)
    # Bulk where the API allows it: 500 files per latest-revision request, 50 revisions per content request.
    latest = [r for r in made if r.params.get("generator") == "categorymembers"]
    assert latest and all(r.params["gcmlimit"] == "max" for r in latest)
    assert all(len(r.params.get("revids", "").split("|")) <= 50 for r in made)


async def test_bots_are_recognised_by_their_group_and_ignore_users_counts_too(
    peer: ActionApiPeer, collection: Collection, tmp_path: Path, db: Database, api: ActionApi
) -> None:
    # With ignore_bots off, a bot's edit is an edit like any other: bot_only files get records.
    config, _ = write_config(
        tmp_path, peer.url, '\n[filters]\nignore_bots = false\nignore_users = ["alice"]\n'
    )
    report = await HistoryRun(db, api, config, HistoryOptions()).run()
    records = await _records(db)
    bot_only = [s for s in collection.stories.values() if s.kind == "bot_only"]
    assert all(records.get(s.title) for s in bot_only)
    assert all(r["user"] == BOT for s in bot_only for r in records[s.title])
    # Alice is ignored: a file whose only community edit is hers makes no records.
    alice_only = [s for s in collection.stories.values() if s.editors == ["Alice"]]
    assert alice_only and not any(s.title in records for s in alice_only)
    assert report.outcomes.get("skipped:quiet", 0) == len(alice_only)
    # No group look-ups for the bot filter; list=users for the records' editor facts asks each name once.
    asked = [n for r in peer.requests_with(list="users") for n in r.params["ususers"].split("|")]
    assert len(asked) == len(set(asked)) and all(
        len(r.params["ususers"].split("|")) <= 50 for r in peer.requests_with(list="users")
    )


async def test_a_second_run_adds_only_what_changed_since_the_first(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    first = await HistoryRun(db, api, config, HistoryOptions()).run()
    story = next(s for s in collection.stories.values() if s.kind == "community_many")
    page = peer.page(story.title)
    newer = peer.edit(story.title, page.latest.wikitext + "\n[[Category:Tables]]\n", user="Zoe")
    second = await HistoryRun(db, api, config, HistoryOptions()).run()
    assert second.run_id != first.run_id and not second.resumed
    assert second.records == 1  # the earlier history record covers (baseline, r_bob]; only Zoe's edit is new
    row = await db.fetchone("SELECT * FROM changes WHERE revision = ?", (newer,))
    assert row is not None and (row["old_revision"], row["user"], row["new"]) == (
        story.current,
        "Zoe",
        "Tables",
    )
    assert await db.scalar("SELECT count(*) FROM changes") == first.records + 1


async def test_only_the_files_named_with_files(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    story = next(s for s in collection.stories.values() if s.kind == "not_museum_upload")
    own = next(s for s in collection.stories.values() if s.kind == "museum_last")
    name = story.title.removeprefix("File:").replace(" ", "_")
    report = await HistoryRun(db, api, config, HistoryOptions(files=(name, own.title, "File:Nope.jpg"))).run()
    assert report.files == 3
    assert report.outcomes == {"done": 1, "skipped:own": 1, "skipped:missing": 1}
    files = {row[0] for row in await db.fetchall("SELECT DISTINCT file FROM changes")}
    assert files == {story.title}
    # No museum revision and no --since: the baseline is the page's first revision (Frank's upload).
    row = await db.fetchone("SELECT old_revision, user FROM changes LIMIT 1")
    assert row is not None and row[0] == peer.page(story.title).revisions[0].revid
    assert row[1] == ", ".join(story.editors) and MUSEUM not in row[1]


async def test_item_values_get_wikidata_labels_as_live_records_do(
    peer: ActionApiPeer, collection: Collection, tmp_path: Path, db: Database
) -> None:
    """History mode never waits for Wikidata (issue 15): its records are queued at once, and the daemon's
    labels task (here one round of it) fetches the labels of what they name, as for live records."""
    from watcher.history.run import run_history

    peer.add_entity("Q42", labels={"sv": "Douglas Adams (sv)", "en": "Douglas Adams"})
    story = next(s for s in collection.stories.values() if s.kind == "sdc_caption")
    depicts = {
        "mainsnak": {
            "snaktype": "value",
            "property": "P180",
            "datavalue": {
                "value": {"entity-type": "item", "numeric-id": 42, "id": "Q42"},
                "type": "wikibase-entityid",
            },
        },
        "type": "statement",
        "id": f"M{peer.page(story.title).pageid}$1",
        "rank": "normal",
    }
    caption = {"language": "en", "value": f"Object {story.number}"}
    peer.edit(
        story.title, mediainfo={"labels": {"en": caption}, "statements": {"P180": [depicts]}}, user="Bob"
    )
    extra = f'\n[labels]\nlanguages = ["sv", "en"]\napi_url = "{peer.url}"\n'
    config, _ = write_config(tmp_path, peer.url, extra)
    report = await run_history(config, HistoryOptions(files=(story.title,)))
    assert report.records == 2
    row = await db.fetchone("SELECT * FROM changes WHERE field = 'statement'")
    assert row is not None and row["new"] == "Q42" and row["user"] == f"{story.editors[0]}, Bob"
    assert not peer.requests_with(action="wbgetentities")
    async with ActionApi(peer.url, config.user_agent) as wikidata:
        assert await LabelFetcher(db, wikidata, config.labels.languages).refresh() == 2
    assert await cached_labels(db, ["Q42"], config.labels.languages) == {"Q42": "Douglas Adams (sv)"}
    assert [r.params["ids"] for r in peer.requests_with(action="wbgetentities")] == ["P180|Q42"]


async def test_an_edit_and_its_revert_leave_nothing_to_report(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    story = next(s for s in collection.stories.values() if s.kind == "untouched")
    original = peer.page(story.title).latest.wikitext
    peer.edit(story.title, original.replace("Object number", "Vandalised object"), user="Vandal")
    peer.edit(story.title, original, user="Patroller", comment="revert")
    report = await HistoryRun(db, api, config, HistoryOptions(files=(story.title,))).run()
    assert report.outcomes == {"skipped:nochange": 1} and report.records == 0
    assert await db.scalar("SELECT count(*) FROM changes") == 0
