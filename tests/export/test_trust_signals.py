"""trust_signals: one wording of how far an editor can be trusted, for the page, alerts and digests."""

from __future__ import annotations

import pytest

from tests.pipeline.test_revert_queueing import ROLLBACK, edits
from tests.support.trust import EDIT_TIME, NEWBIE, VETERAN, facts, record
from watcher.base.tags import describe, tag_word, tool_words
from watcher.export.trust import trust_signals
from watcher.pipeline.queueing import queue_changes
from watcher.store import Database, reviews
from watcher.store.editors import is_new_account
from watcher.store.queue import ChangeFilter, ChangeRecord, list_changes, record_columns


def test_a_new_account_says_how_new_and_how_many_edits() -> None:
    assert trust_signals(record(editor=NEWBIE)) == ["new account (3 days, 12 edits)"]
    same_day = facts("2026-03-02T08:00:00Z", 1)
    assert trust_signals(record(editor=same_day)) == ["new account (less than a day, 1 edit)"]
    assert is_new_account(NEWBIE, EDIT_TIME) and not is_new_account(VETERAN, EDIT_TIME)


def test_a_long_standing_editor_says_since_when() -> None:
    assert trust_signals(record(editor=VETERAN)) == ["long-standing editor (since 2011, 45,000 edits)"]
    # Accounts older than MediaWiki's registration field have none.
    assert trust_signals(record(editor=facts(None, 3_000))) == ["long-standing editor (3,000 edits)"]


def test_an_old_account_with_few_edits_and_an_ordinary_editor() -> None:
    assert trust_signals(record(editor=facts("2019-06-01T00:00:00Z", 20))) == [
        "few edits (since 2019, 20 edits)"
    ]
    assert trust_signals(record(editor=facts("2025-01-01T00:00:00Z", 450))) == [
        "editor since 2025, 450 edits"
    ]
    assert is_new_account(facts("2019-06-01T00:00:00Z", 20), EDIT_TIME)  # few edits count as new


def test_blocked_and_bot_accounts() -> None:
    blocked = facts("2026-01-01T00:00:00Z", 300, blocked_since="2026-03-02T11:00:00Z")
    assert trust_signals(record(editor=blocked)) == [
        "blocked since 2026-03-02",
        "editor since 2026, 300 edits",
    ]
    partial = facts("2015-01-01T00:00:00Z", 5_000, blocked_since="2026-02-01T00:00:00Z", partial=True)
    assert trust_signals(record(editor=partial))[0] == "partially blocked since 2026-02-01"
    bot = facts("2014-01-01T00:00:00Z", 2_000_000, ("bot", "user"))
    assert trust_signals(record(editor=bot)) == ["bot", "long-standing editor (since 2014, 2,000,000 edits)"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("192.0.2.7", ["IP address (no account)"]),
        ("2001:db8::7", ["IP address (no account)"]),
        ("~2026-12345", ["temporary account"]),
        ("Alice", []),  # a record queued before editor facts were kept: nothing is claimed
        (None, []),
    ],
)
def test_unregistered_editors_and_unknown_facts(user: str | None, expected: list[str]) -> None:
    assert trust_signals(record(user=user, editor=None)) == expected


def test_tags_in_words() -> None:
    tags = (
        "mobile edit",
        "mobile web edit",
        "contenttranslation",
        "mw-undo",
        "visualeditor",
        "OAuth CID: 77",
    )
    assert tool_words(tags) == ["mobile edit", "Content Translation", "undo"]
    assert trust_signals(record(editor=VETERAN, tags=tags, tools=None))[1:] == [
        "mobile edit", "made with Content Translation", "undo",
    ]  # fmt: skip
    assert tag_word("cat-a-lot") == "Cat-a-lot" and tag_word("HotCat") == "HotCat"
    descriptions = {
        "OAuth CID: 1352": "CropTool\nEdits made with CropTool",
        "OAuth CID: 2000": "ISA Tool\nIdentify, describe and tag images",
        "OAuth CID: 9": "QuickStatements [2.0]",
        "OAuth CID: 5": "Some machine translation helper",
    }
    words = tool_words(["OAuth CID: 1352", "OAuth CID: 2000", "OAuth CID: 9", "OAuth CID: 5"], descriptions)
    assert words == ["CropTool", "ISA", "QuickStatements", "machine translation"]
    assert [describe(w) for w in words] == [
        "made with CropTool", "made with ISA", "made with QuickStatements", "machine translation",
    ]  # fmt: skip


def test_the_words_kept_with_the_record_win_over_the_built_in_table() -> None:
    """The worker keeps the words it found (OAuth names from the wiki's descriptions) in ``tools``."""
    signals = trust_signals(record(editor=VETERAN, tags=("OAuth CID: 1352",), tools=("CropTool",)))
    assert signals == ["long-standing editor (since 2011, 45,000 edits)", "made with CropTool"]


def test_a_reverted_change_says_by_whom_when_and_which_edit() -> None:
    undone = record(
        editor=NEWBIE, reverted_by=2002, reverted_by_user="Jane Doe", reverted_at="2026-03-02T11:30:00Z"
    )
    assert trust_signals(undone) == [
        "new account (3 days, 12 edits)", "reverted on Commons by Jane Doe on 2026-03-02 (r2002)",
    ]  # fmt: skip
    # A hidden user name (revision deletion) leaves the time; a record loaded without them, the revision.
    hidden = record(reverted_by=2002, reverted_at="2026-03-02T11:30:00Z")
    assert trust_signals(hidden) == ["reverted on Commons on 2026-03-02 (r2002)"]
    assert trust_signals(record(editor=NEWBIE, reverted_by=2002)) == [
        "new account (3 days, 12 edits)", "reverted on Commons by r2002",
    ]  # fmt: skip
    assert trust_signals(record(reverted_by_user="Jane Doe")) == []  # not reverted: nothing said


@pytest.mark.parametrize(
    ("never_queue", "decided_first"),
    [(None, False), ("bot", False), (None, True)],
    ids=["kept-undoing-change", "a-bots-revert", "undoing-change-decided-on-stays-queued"],
)
async def test_the_queue_loads_who_undid_a_change_and_when(
    db: Database, never_queue: str | None, decided_first: bool
) -> None:
    """``reverted_by_user`` and ``reverted_at`` come with the records, from the undoing edit's
    provenance wherever it is kept (``reverting_changes``, or the queue where a curator decided on it)."""
    batch = edits(ROLLBACK, "File:Chair.jpg")  # revisions 101..104; 104 is Patroller's rollback
    order = batch[3:] + batch[:3] if decided_first else batch
    for n, (provenance, changes) in enumerate(order):
        async with db.transaction() as conn:
            await queue_changes(
                conn, provenance, changes, never_queue=never_queue if provenance.revision == 104 else None
            )
        if decided_first and n == 0:  # the rollback met first looks like changes of its own: accepted
            ids = [int(r[0]) for r in await db.fetchall("SELECT id FROM changes WHERE revision = 104")]
            await reviews.review(db, ids, "accept", actor="curator")
    withdrawn = await list_changes(db, ChangeFilter(status="withdrawn", kind="all"))
    assert [(r.revision, r.reverted_by, r.reverted_by_user, r.reverted_at) for r in withdrawn] == [
        (102, 104, "Patroller", "2026-03-01T10:04:00Z"),
        (103, 104, "Patroller", "2026-03-01T10:04:00Z"),
    ]
    assert trust_signals(withdrawn[0]) == ["reverted on Commons by Patroller on 2026-03-01 (r104)"]
    # The same columns under an alias, for queries that join the queue (the review page's).
    aliased = await db.fetchall(
        f"SELECT {record_columns('c')} FROM changes c WHERE c.status = 'withdrawn' ORDER BY c.id"
    )
    assert [ChangeRecord.from_row(r).reverted_by_user for r in aliased] == ["Patroller", "Patroller"]
    standing = await list_changes(db, ChangeFilter(status="pending", kind="all"))
    assert [(r.revision, r.reverted_by_user, r.reverted_at) for r in standing] == [(101, None, None)]
