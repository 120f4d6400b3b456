"""`--since DATE`: nothing before DATE is reported; the baseline is the revision current at DATE where the
museum's own last revision is older (or missing), and the museum's revision where it is newer."""

from __future__ import annotations

from tests.support.history import Collection, Story, record_keys
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_wiki import FakeRevision
from watcher.diff import diff_revisions
from watcher.diff.model import DiffSettings, RevisionContent
from watcher.history.run import HistoryOptions, HistoryRun
from watcher.mediawiki.client import ActionApi
from watcher.store import Database

SINCE = "2022-01-01T00:00:00Z"


def _last_before(peer: ActionApiPeer, story: Story, moment: str) -> FakeRevision:
    return [r for r in peer.page(story.title).revisions if r.timestamp < moment][-1]


async def _by_file(db: Database) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for row in await db.fetchall("SELECT * FROM changes"):
        out.setdefault(row["file"], []).append(dict(row))
    return out


async def test_since_moves_old_baselines_up_to_the_date(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    report = await HistoryRun(db, api, config, HistoryOptions(since=SINCE)).run()
    records = await _by_file(db)
    stories = collection.stories.values()

    def check(story: Story, baseline: FakeRevision, editors: list[str]) -> None:
        current = peer.page(story.title).latest
        expected = diff_revisions(
            RevisionContent(baseline.wikitext, baseline.mediainfo),
            RevisionContent(current.wikitext, current.mediainfo),
            DiffSettings.from_section(config.diff),
        )
        got = records.get(story.title, [])
        assert sorted(repr((c.field, c.old, c.new)) for c in expected) == sorted(
            repr((r["field"], r["old"], r["new"])) for r in got
        )
        assert {(r["old_revision"], r["revision"], r["user"]) for r in got} == {
            (baseline.revid, current.revid, ", ".join(editors))
        }, story.kind

    for story in stories:
        if story.kind == "community_many":  # museum 2020, community 2021 and 2023: from the 2021 state on
            check(story, _last_before(peer, story, SINCE), [story.editors[1]])
        elif story.kind == "long_history":  # twelve edits 2020–2023: the last 2021 one is the baseline
            baseline = _last_before(peer, story, SINCE)
            later = [r.user for r in peer.page(story.title).revisions if r.timestamp >= SINCE]
            check(story, baseline, list(dict.fromkeys(later)))
            assert baseline.timestamp.startswith("2021")
        elif story.kind == "not_museum_upload":  # never the museum's: the 2020 state, one 2024 edit
            check(story, _last_before(peer, story, SINCE), [story.editors[1]])
        elif story.kind in ("bot_then_community", "sdc_caption"):  # one edit after DATE, baseline before it
            check(story, peer.revisions[story.baseline], story.editors)
        else:  # nothing since DATE (community_once: 2021), only a bot since DATE, or the museum's own
            assert story.title not in records, story.kind
    # Nothing at all since DATE: community_once (2021) and bot_only (2021); only a bot since: community_then_bot.
    assert report.outcomes["skipped:unchanged"] == sum(
        1 for s in stories if s.kind in ("community_once", "bot_only")
    )
    assert report.outcomes["skipped:quiet"] == sum(1 for s in stories if s.kind == "community_then_bot")


async def test_a_date_before_everything_changes_nothing_and_one_after_everything_reports_nothing(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    early = await HistoryRun(db, api, config, HistoryOptions(since="2000-01-01T00:00:00Z")).run()
    with_early = record_keys(await db.fetchall("SELECT * FROM changes"))
    await db.write("DELETE FROM changes")
    plain = await HistoryRun(db, api, config, HistoryOptions()).run()
    assert record_keys(await db.fetchall("SELECT * FROM changes")) == with_early
    assert early.records == plain.records > 0
    await db.write("DELETE FROM changes")
    late = await HistoryRun(db, api, config, HistoryOptions(since="2030-01-01T00:00:00Z")).run()
    assert late.records == 0 and "done" not in late.outcomes
    assert set(late.outcomes) == {"skipped:unchanged", "skipped:own"}
