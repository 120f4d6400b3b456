"""What `watcher history` keeps in the database so that a run interrupted anywhere continues where it was.

One ``history_runs`` row per run (its options, the phase reached, the API requests spent) and one
``history_progress`` row per file (how far that file got: its walked revision chain, its plan, its
outcome). Every change of a file's state is committed in a short write transaction of its own, and a
file's change records are committed together with its ``done`` state, so a crash repeats at most the
requests of the step in flight and never a record.

The tables are migration step 4 (:mod:`watcher.store.history_tables`). A run's options and their
identity (:func:`run_identity`: what makes a run the one an interrupted run resumes) are here too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from watcher.mediawiki.types import RevisionMeta
from watcher.store import utcnow
from watcher.store.engine import Connection, Row, Store
from watcher.store.history_tables import HISTORY_TABLES
from watcher.tracking.resolver import canonical_title


class HistoryConflict(Exception):
    """An unfinished run with other options exists; the message says how to go on."""


@dataclass
class FileProgress:
    """One file's row of ``history_progress``, loaded, changed in memory and saved back."""

    title: str
    pageid: int | None
    state: str = "new"
    chain: list[RevisionMeta] = field(default_factory=list)
    museum: RevisionMeta | None = None
    plan: tuple[int, int] | None = None
    note: str | None = None
    records: int = 0

    def values(self, run_id: int) -> tuple[Any, ...]:
        return (
            self.state,
            json.dumps([m.as_json() for m in self.chain], ensure_ascii=False) if self.chain else None,
            json.dumps(self.museum.as_json(), ensure_ascii=False) if self.museum else None,
            json.dumps({"baseline": self.plan[0], "new": self.plan[1]}) if self.plan else None,
            self.note,
            self.records,
            self.pageid,
            run_id,
            self.title,
        )

    @classmethod
    def from_row(cls, row: Row) -> FileProgress:
        plan = json.loads(row["plan"]) if row["plan"] else None
        return cls(
            title=row["title"],
            pageid=row["pageid"],
            state=row["state"],
            chain=[RevisionMeta.from_json(v) for v in json.loads(row["walk"])] if row["walk"] else [],
            museum=RevisionMeta.from_json(json.loads(row["museum"])) if row["museum"] else None,
            plan=(int(plan["baseline"]), int(plan["new"])) if plan else None,
            note=row["note"],
            records=int(row["records"]),
        )


_SAVE = (
    "UPDATE history_progress SET state = ?, walk = ?, museum = ?, plan = ?, note = ?, records = ?, "
    "pageid = coalesce(?, pageid) WHERE run_id = ? AND title = ?"
)


async def ensure_tables(db: Store) -> None:
    async with db.transaction() as conn:
        for statement in HISTORY_TABLES:
            await conn.execute(statement)


async def open_run(db: Store, options: str, *, restart: bool = False) -> tuple[int, str, bool]:
    """The run to work on: the unfinished one with these options (resumed), else a new one.

    Returns (run id, phase reached, resumed). An unfinished run with other options is an error unless
    ``restart`` abandons it: two half-done runs would each skip what the other one claimed.
    """
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT id, options, phase FROM history_runs WHERE state = 'running' ORDER BY id"
        )
        running = list(await cursor.fetchall())
        for row in running:
            if row["options"] == options and not restart:
                await conn.execute(
                    "UPDATE history_runs SET updated_at = ? WHERE id = ?", (utcnow(), row["id"])
                )
                return int(row["id"]), str(row["phase"]), True
        if running and not restart:
            other = json.loads(running[0]["options"])
            raise HistoryConflict(
                f"an unfinished history run (#{running[0]['id']}, started with {_describe(other)}) would be "
                "left half done: run it again with the same options to finish it, or pass --restart to "
                "abandon it"
            )
        now = utcnow()
        await conn.execute(
            "UPDATE history_runs SET state = 'abandoned', updated_at = ? WHERE state = 'running'", (now,)
        )
        cursor = await conn.execute(
            "INSERT INTO history_runs (options, started_at, updated_at) VALUES (?, ?, ?) RETURNING id",
            (options, now, now),
        )
        made = await cursor.fetchone()  # RETURNING: a PostgreSQL cursor knows no lastrowid
        assert made is not None
        return int(made[0]), "start", False


def _describe(options: dict[str, Any]) -> str:
    parts = [f"--since {options['since']}" if options.get("since") else "no --since"]
    if options.get("files"):
        parts.append(f"--files ({len(options['files'])} titles)")
    if options.get("collections"):
        parts.append(" ".join(f"--collection {name}" for name in options["collections"]))
    return ", ".join(parts)


async def set_phase(db: Store, run_id: int, phase: str, requests: int = 0) -> None:
    async with db.transaction() as conn:
        await add_requests(conn, run_id, requests)
        await conn.execute("UPDATE history_runs SET phase = ? WHERE id = ?", (phase, run_id))


async def add_requests(conn: Connection, run_id: int, requests: int) -> None:
    await conn.execute(
        "UPDATE history_runs SET requests = requests + ?, updated_at = ? WHERE id = ?",
        (requests, utcnow(), run_id),
    )


async def finish_run(db: Store, run_id: int, requests: int) -> None:
    async with db.transaction() as conn:
        await add_requests(conn, run_id, requests)
        await conn.execute(
            "UPDATE history_runs SET state = 'done', phase = 'done', finished_at = ? WHERE id = ?",
            (utcnow(), run_id),
        )
        # The latest finished run's file rows stay for inspection; older runs keep only their summary row.
        await conn.execute("DELETE FROM history_progress WHERE run_id < ?", (run_id,))


async def add_files(db: Store, run_id: int, files: Sequence[tuple[str, int | None]]) -> None:
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO history_progress (run_id, title, pageid) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(run_id, title, pageid) for title, pageid in files],
        )


async def load_files(db: Store, run_id: int, states: Iterable[str] | None = None) -> list[FileProgress]:
    sql = "SELECT * FROM history_progress WHERE run_id = ?"
    params: list[Any] = [run_id]
    if states is not None:
        wanted = list(states)
        sql += f" AND state IN ({','.join('?' * len(wanted))})"
        params += wanted
    rows = await db.fetchall(sql + " ORDER BY title", params)
    return [FileProgress.from_row(row) for row in rows]


async def save_files(conn: Connection, run_id: int, files: Iterable[FileProgress]) -> None:
    await conn.executemany(_SAVE, [f.values(run_id) for f in files])


async def save_in_batches(
    db: Store, run_id: int, files: Sequence[FileProgress], requests: int = 0, size: int = 500
) -> None:
    """Save rows in short transactions of ``size`` (the daemon writes to the same database)."""
    for start in range(0, max(len(files), 1), size):
        async with db.transaction() as conn:
            await save_files(conn, run_id, files[start : start + size])
            if start == 0 and requests:
                await add_requests(conn, run_id, requests)


async def run_summary(db: Store, run_id: int) -> dict[str, int]:
    """Files by outcome (``done``, ``skipped:<note>``, or an unfinished state), records and requests."""
    summary: dict[str, int] = {}
    rows = await db.fetchall(
        "SELECT state, note, count(*) AS n, sum(records) AS r FROM history_progress WHERE run_id = ? "
        "GROUP BY state, note",
        (run_id,),
    )
    for row in rows:
        key = f"skipped:{row['note']}" if row["state"] == "skipped" else str(row["state"])
        summary[key] = summary.get(key, 0) + int(row["n"])
        summary["records"] = summary.get("records", 0) + int(row["r"] or 0)
    summary["requests"] = int(
        await db.scalar("SELECT requests FROM history_runs WHERE id = ?", (run_id,)) or 0
    )
    return summary


@dataclass(frozen=True)
class HistoryOptions:
    since: str | None = None  # ISO 8601 UTC with Z (store.queue.parse_since)
    files: tuple[str, ...] = ()
    restart: bool = False
    collections: tuple[str, ...] = ()  # --collection: only these collections' files and records; () every one


def run_identity(options: HistoryOptions, accounts: frozenset[str], wiki: str) -> str:
    """The identity of a run: a run with the same identity is resumed rather than started again.

    ``--collection`` is part of it, so an unfinished `--collection a` run is never resumed as the run of
    every collection (nor of ``b``): its progress rows hold only ``a``'s files, and files it settled
    got records for ``a`` alone. A run of every collection has no ``collections`` key, so its identity
    is the one runs had before collections could be chosen and such an unfinished run still resumes.
    """
    files = sorted({canonical_title(t, "File") for t in options.files}) or None
    identity: dict[str, object] = {
        "since": options.since, "files": files, "accounts": sorted(accounts), "wiki": wiki
    }  # fmt: skip
    if options.collections:
        identity["collections"] = sorted(set(options.collections))
    return json.dumps(identity, sort_keys=True)
