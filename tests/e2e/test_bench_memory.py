"""`python -m bench memory` measures what it says: its 50-collection config is one the watcher accepts,
and the databases it fills hold one row per file and a reason per collection that holds it (the full
benchmark, three daemons, is `make bench`, not a test)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from bench import memory_daemon
from watcher.config import load_config


def test_the_memory_benchmark_prepares_one_and_fifty_collections_of_the_same_files(tmp_path: Path) -> None:
    n = 300
    prepared = memory_daemon.prepare(
        tmp_path, n, "http://127.0.0.1:9/v2/stream/recentchange", "http://127.0.0.1:9/w/api.php"
    )

    fifty = load_config(prepared.fifty)
    assert len(fifty.collections) == memory_daemon.COLLECTIONS
    assert {c.name for c in fifty.collections} == {memory_daemon.collection_name(i) for i in range(50)}
    assert [c.name for c in load_config(prepared.one).collections] == ["default"]

    def rows(config: Path, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(config.with_name("watcher.sqlite3")) as conn:
            found = conn.execute(sql).fetchall()
        conn.close()
        return found

    files = "SELECT count(*), count(DISTINCT title) FROM tracked_files WHERE state = 'active'"
    assert rows(prepared.empty, files) == [(0, 0)]
    assert rows(prepared.one, files) == rows(prepared.fifty, files) == [(n, n)]
    per_file = rows(prepared.fifty, "SELECT count(*) FROM tracked_reasons GROUP BY title")
    assert len(per_file) == n and {count for (count,) in per_file} == {1, 2, 3}
    assert sum(count for (count,) in per_file) == prepared.reasons
    assert 1.7 < prepared.reasons / n < 2.3
    # Each collection's list names exactly the files the database gives it, so a refresh changes nothing.
    for collection in fifty.collections:
        assert collection.files_from is not None
        listed = set(collection.files_from.read_text(encoding="utf-8").split("\n")) - {""}
        stored = rows(
            prepared.fifty,
            f"SELECT title FROM tracked_reasons WHERE collection = '{collection.name}' AND source = 'file'",
        )
        assert listed == {title for (title,) in stored}
