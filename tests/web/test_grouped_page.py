"""The queue page read by walking the newest changes gives the page the window statement gives, on
both engines (issue 20): every page of several sizes, grouped by file and by edit, with files in two
collections, timestamps shared by several files, and the filters the page offers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import postgres as pg
from tests.support.queue_sample import fill_queue
from watcher.store import reviews
from watcher.store.engine import Store
from watcher.store.queue import ChangeFilter
from watcher.web import grouped
from watcher.web.grouped import FileGroup, grouped_page, window_page
from watcher.web.queries import GROUPINGS, Grouping

COLLECTIONS = ("hallwyl", "armoury", "skokloster")
Page = list[tuple[str, str, int | None, int, list[int]]]


@pytest.fixture(params=("sqlite", "postgresql"))
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with pg.store_on(request.param, request, tmp_path / "w.sqlite3") as database:
        await fill_queue(database, 700, files=90, seed=11, collections=COLLECTIONS, ties=4)
        pending = [int(r[0]) for r in await database.fetchall("SELECT id FROM changes ORDER BY id")]
        await reviews.review(database, pending[::4], "accept", actor="anna")
        yield database


def shape(groups: list[FileGroup]) -> Page:
    return [(g.collection, g.file, g.revision, g.total, [c.id for c in g.changes]) for g in groups]


async def by_window(db: Store, selection: ChangeFilter, limit: int, offset: int, by: Grouping) -> Page:
    records, totals = await window_page(db, selection, limit, offset, by)
    return shape(grouped._groups(records, totals, by))


SELECTIONS = (
    ChangeFilter(),
    ChangeFilter(status="all", kind="all"),
    ChangeFilter(status="accepted"),
    ChangeFilter(collections=("armoury",)),
    ChangeFilter(collections=("hallwyl", "skokloster"), field="description"),
    ChangeFilter(language="sv"),
    ChangeFilter(user="Editor 3", status="all"),
    ChangeFilter(collections=()),
)


@pytest.mark.parametrize("by", GROUPINGS)
async def test_every_page_is_the_window_statements_page(db: Store, by: Grouping) -> None:
    shown = 0
    for selection in SELECTIONS:
        where, params = selection.where()
        total = int(await db.scalar(f"SELECT count(*) FROM changes{where}", params))
        for limit in (3, 50):
            for offset in range(0, total + limit, limit):
                walked = shape(await grouped_page(db, selection, limit=limit, offset=offset, by=by))
                assert walked == await by_window(db, selection, limit, offset, by), (selection, limit, offset)
                assert sum(len(ids) for *_, ids in walked) == max(0, min(limit, total - offset))
                shown += len(walked)
    assert shown > 1000  # the pages were not all empty


async def test_a_walk_one_change_at_a_time_ends_at_the_same_page(
    db: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step of the walk ending on a timestamp several files share: the ties at the walk's
    position are placed only once the walk has passed them."""
    monkeypatch.setattr(grouped, "_FIRST_BATCH", 1)
    for by in GROUPINGS:
        for offset in (0, 3, 10, 25):
            walked = shape(await grouped_page(db, ChangeFilter(), limit=5, offset=offset, by=by))
            assert walked == await by_window(db, ChangeFilter(), 5, offset, by)


async def test_deep_pages_are_read_by_the_window_statement(
    db: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grouped, "WALK_ROWS", 20)
    calls: list[int] = []
    real = grouped.window_page

    async def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(grouped, "window_page", counted)
    await grouped_page(db, ChangeFilter(), limit=10, offset=10, by="file")
    assert not calls
    page = shape(await grouped_page(db, ChangeFilter(), limit=10, offset=20, by="file"))
    assert calls and page == await by_window(db, ChangeFilter(), 10, 20, "file")


@pytest.mark.parametrize("engine", ("sqlite", "postgresql"))
async def test_many_files_at_one_time_are_ordered_by_name(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty changes at a time, of files in no order by id: the walk (found newest id first) must
    not place a file before it has passed every change of that time."""
    monkeypatch.setattr(grouped, "_FIRST_BATCH", 4)
    async with pg.store_on(engine, request, tmp_path / "w.sqlite3") as db:
        await fill_queue(db, 240, files=60, seed=12, collections=COLLECTIONS, ties=30)
        for by in GROUPINGS:
            for limit in (5, 12):
                for offset in range(0, 240, limit):
                    walked = shape(
                        await grouped_page(db, ChangeFilter(status="all"), limit=limit, offset=offset, by=by)
                    )
                    assert walked == await by_window(db, ChangeFilter(status="all"), limit, offset, by), (
                        by,
                        offset,
                    )
