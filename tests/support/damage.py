"""Damaging real SQLite files the way a failing disk or a bad copy does, for the start-up checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from watcher.store import Database


async def make_database(path: Path) -> None:
    """A real, migrated watcher database with a little state in it, checkpointed into the main file."""
    async with Database.open(path) as db:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO state(key, value) VALUES (?, ?)",
                [(f"filler-{n}", "x" * 200) for n in range(200)],
            )
        await db.scalar("PRAGMA wal_checkpoint(TRUNCATE)")


def scribble_over(path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` (all but the first bytes) with garbage; page 1 stays intact,
    so SQLite still opens the file and only reading that table (or an integrity check) fails."""
    plain = sqlite3.connect(path)
    try:
        page_size = int(plain.execute("PRAGMA page_size").fetchone()[0])
        root = int(plain.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0])
    finally:
        plain.close()
    assert root > 1, f"{table} lives on page 1"
    raw = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    raw[start + 8 : start + page_size] = b"\xa5" * (page_size - 8)
    path.write_bytes(bytes(raw))


def not_a_database(path: Path) -> None:
    """A file at the database's path that never was one (a config copied over it, say)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"[watcher]\ndatabase = 'oops'\n" * 300)
