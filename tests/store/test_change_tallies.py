"""The change tallies agree with the changes after every kind of write, on both engines (issue 20).

The review page's status tabs, page count and filter choices are read from ``change_tallies``; these
tests recount ``changes`` after each write and compare, and compare every answer the tallies give
with the same question asked of ``changes``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.support.queue_sample import fill_queue
from watcher.base.values import STATUSES
from watcher.store import reviews
from watcher.store.db import Database
from watcher.store.engine import Store
from watcher.store.pg import PgDatabase
from watcher.store.queue import ChangeFilter
from watcher.store.tallies import answerable, tallied_count, tallied_statuses, tallied_values
from watcher.store.tally_tables import TALLY_TABLE, TALLY_TRIGGERS

COLLECTIONS = ("hallwyl", "armoury", "skokloster")
Tallies = dict[tuple[str, ...], int]


async def recounted(db: Store) -> Tallies:
    rows = await db.fetchall(
        "SELECT collection, kind, status, field, coalesce(language, ''), count(*) FROM changes "
        "GROUP BY collection, kind, status, field, coalesce(language, '')"
    )
    return {tuple(str(v) for v in row[:5]): int(row[5]) for row in rows}


async def tallied(db: Store) -> Tallies:
    rows = await db.fetchall(f"SELECT collection, kind, status, field, language, total FROM {TALLY_TABLE}")
    return {tuple(str(v) for v in row[:5]): int(row[5]) for row in rows}


async def ids_where(db: Store, sql: str, params: list[Any]) -> list[int]:
    return [
        int(row[0]) for row in await db.fetchall(f"SELECT id FROM changes WHERE {sql} ORDER BY id", params)
    ]


async def test_the_tallies_follow_inserts_reviews_and_deletes(db: Store) -> None:
    await fill_queue(db, 400, seed=5, collections=COLLECTIONS)
    assert await tallied(db) == await recounted(db) != {}

    pending = await ids_where(db, "status = ?", ["pending"])
    await reviews.review(db, pending[:120], "accept", actor="anna")
    await reviews.review(db, pending[100:200], "reject", actor="bo")  # some accepted ones again
    await reviews.review(db, pending[150:170], "reopen", actor="anna")
    await reviews.review(db, pending[:10], "note", actor="anna", note="checked")  # no status moves
    await reviews.review(db, pending[180:190], "undo", actor="bo")
    async with db.transaction() as conn:
        for change_id in pending[200:230]:
            assert await reviews.withdraw_in(conn, change_id, revision=999_999)
    after_reviews = await tallied(db)
    assert after_reviews == await recounted(db)
    assert {key[2] for key in after_reviews} == set(STATUSES)

    async with db.transaction() as conn:
        await conn.execute(
            "DELETE FROM changes WHERE id IN (SELECT id FROM changes WHERE status = 'rejected')"
        )
        await conn.execute("DELETE FROM changes WHERE collection = ?", ("skokloster",))
    left = await tallied(db)
    assert left == await recounted(db)
    assert not any(key[2] == "rejected" or key[0] == "skokloster" for key in left)  # no rows of 0 kept


async def test_a_write_rolled_back_leaves_the_tallies_as_they_were(db: Store) -> None:
    await fill_queue(db, 100, seed=6, collections=COLLECTIONS)
    before = await tallied(db)
    pending = await ids_where(db, "status = ?", ["pending"])

    class Stop(Exception):
        pass

    try:
        async with db.transaction() as conn:
            await conn.execute(
                f"UPDATE changes SET status = 'accepted' WHERE id IN ({','.join('?' * 20)})", pending[:20]
            )
            raise Stop
    except Stop:
        pass
    assert await tallied(db) == before == await recounted(db)


async def test_the_migration_counts_what_the_store_already_holds(db: Store) -> None:
    """A store of schema 12 with changes in it gets true tallies when step 13 runs."""
    await fill_queue(db, 300, seed=7, collections=COLLECTIONS)
    expected = await recounted(db)
    await _back_to_schema_12(db)
    assert isinstance(db, Database | PgDatabase)
    await db.migrate()
    assert await tallied(db) == expected
    await fill_queue(db, 50, seed=8, collections=COLLECTIONS)  # and the triggers are there again
    assert await tallied(db) == await recounted(db)


async def _back_to_schema_12(db: Store) -> None:
    async with db.transaction() as conn:
        if isinstance(db, PgDatabase):
            await conn.execute("DROP FUNCTION change_tallies_keep() CASCADE")
            await conn.execute(f"DROP TABLE {TALLY_TABLE}")
            await conn.execute("UPDATE watcher_schema SET version = 12")
        else:
            for trigger in TALLY_TRIGGERS:
                await conn.execute(f"DROP TRIGGER {trigger}")
            await conn.execute(f"DROP TABLE {TALLY_TABLE}")
    if isinstance(db, Database):
        await db.scalar("PRAGMA user_version = 12")


def _filters() -> list[ChangeFilter]:
    some = [
        ChangeFilter(),
        ChangeFilter(status="all", kind="all"),
        ChangeFilter(status="accepted", kind="maintenance"),
        ChangeFilter(field="caption"),
        ChangeFilter(field="no such field"),
        ChangeFilter(status="all", language="sv"),
        ChangeFilter(language="none"),
        ChangeFilter(collections=("armoury",)),
        ChangeFilter(status="all", collections=("hallwyl", "skokloster"), field="description", language="en"),
        ChangeFilter(collections=()),
        ChangeFilter(collections=("no such collection",)),
    ]
    return some + [replace(f, status=status) for f in some[:3] for status in STATUSES]


async def test_every_answer_of_the_tallies_is_the_count_of_the_changes(db: Store) -> None:
    await fill_queue(db, 500, seed=9, collections=COLLECTIONS)
    pending = await ids_where(db, "status = ?", ["pending"])
    await reviews.review(db, pending[::3], "accept", actor="anna")
    await reviews.review(db, pending[1::5], "reject", actor="anna")
    for selection in _filters():
        assert answerable(selection)
        where, params = selection.where()
        assert await tallied_count(db, selection) == int(
            await db.scalar(f"SELECT count(*) FROM changes{where}", params)
        )
        where, params = replace(selection, status="all").where()
        counted = {status: 0 for status in STATUSES}
        for status, n in await db.fetchall(
            f"SELECT status, count(*) FROM changes{where} GROUP BY status", params
        ):
            counted[status] = int(n)
        assert await tallied_statuses(db, selection) == counted, selection
    for collections in (None, ("armoury",), ("hallwyl", "skokloster"), ()):
        where, params = ChangeFilter(status="all", kind="all", collections=collections).where()
        also = " AND" if where else " WHERE"
        fields = [
            r[0]
            for r in await db.fetchall(f"SELECT DISTINCT field FROM changes{where} ORDER BY field", params)
        ]
        languages = [
            r[0]
            for r in await db.fetchall(
                f"SELECT DISTINCT language FROM changes{where}{also} language IS NOT NULL ORDER BY language",
                params,
            )
        ]
        assert await tallied_values(db, "field", collections) == fields
        assert await tallied_values(db, "language", collections) == languages
        assert fields or collections == ()


async def test_a_filter_beyond_the_tallies_is_left_to_the_changes(db: Store) -> None:
    for selection in (
        ChangeFilter(user="Editor 3"),
        ChangeFilter(file="File:X.jpg"),
        ChangeFilter(since="2026-01-01T00:00:00Z"),
        ChangeFilter(source="history"),
        ChangeFilter(editor="new"),
        ChangeFilter(not_exported=True),
        ChangeFilter(ids=[1, 2]),
    ):
        assert not answerable(selection)
        assert await tallied_count(db, selection) is None
        assert await tallied_statuses(db, selection) is None
