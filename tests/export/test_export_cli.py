"""The shell side of the queue: `watcher changes`, `accept`, `reject`, `export` and `status`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.cli import CliShell
from tests.support.config import USER_AGENT
from watcher.cli.main import main
from watcher.diff.model import FieldChange
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.queue import Provenance, insert_changes

CONTRACT_KEYS = {
    "id", "wiki", "file", "object_id", "revision", "old_revision", "timestamp", "user", "comment", "field",
    "template", "property", "language", "action", "kind", "old", "new", "status", "source",
}  # fmt: skip
CSV_COLUMNS = [
    "object_id", "file", "field", "template", "property", "language", "action", "old", "new", "user",
    "timestamp", "revision", "diff_url", "status",
]  # fmt: skip

# A value with everything that breaks naive CSV: commas, quotes, a newline, a CR, non-ASCII, a tab.
TRICKY = 'Armband, "gold"; 1650s\nsecond line\r\nthird — åäö ØÆ 漢字\tend'


def prov(revision: int, file: str, timestamp: str, **kw: Any) -> Provenance:
    values: dict[str, Any] = {
        "wiki": "commonswiki",
        "file": file,
        "revision": revision,
        "old_revision": revision - 1,
        "timestamp": timestamp,
        "user": "Curious Editor",
        "comment": "edit summary, with a comma",
        "object_id": "LRK 123" if "Armband" in file else None,
    }
    values.update(kw)
    return Provenance(**values)


RECORDS: list[tuple[Provenance, FieldChange]] = [
    (
        prov(101, "File:Armband.jpg", "2026-03-01T10:00:00Z"),
        FieldChange("description", "changed", "Armband", TRICKY, template="Information", language="en"),
    ),
    (
        prov(201, "File:Stol.jpg", "2026-03-02T09:00:00Z"),
        FieldChange("category", "added", None, "Media contributed by LSH: batch 2", kind="maintenance"),
    ),
    (
        prov(202, "File:Stol.jpg", "2026-03-03T00:00:00Z", user=None, comment=None),
        FieldChange("date", "changed", "1650", "c. 1650", template="Artwork"),
    ),
    (
        prov(102, "File:Armband.jpg", "2026-03-04T23:59:59Z", source="history", old_revision=None),
        FieldChange("statement", "added", None, "Q42", property="P180"),
    ),
]


async def fill(path: Path) -> list[int]:
    async with Database.open(path) as db:
        for provenance, change in RECORDS:
            async with db.transaction() as conn:
                await insert_changes(conn, provenance, [change])
        return [int(row[0]) for row in await db.fetchall("SELECT id FROM changes ORDER BY id")]


class Shell(CliShell):
    """A config and a filled database in a temporary folder, and `watcher` run against them."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.ids = asyncio.run(fill(self.database))

    def jsonl(self, *args: str) -> list[dict[str, Any]]:
        result = self.run(*args)
        return [json.loads(line) for line in result.stdout.splitlines() if line]

    def revisions(self, *args: str) -> list[int]:
        return [record["revision"] for record in self.jsonl("changes", "--format", "jsonl", *args)]

    def db_rows(self) -> dict[int, sqlite3.Row]:
        with sqlite3.connect(self.database) as conn:
            conn.row_factory = sqlite3.Row
            return {row["id"]: row for row in conn.execute("SELECT * FROM changes")}


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


# -- changes -------------------------------------------------------------------------------------


def test_changes_as_a_table(shell: Shell) -> None:
    lines = shell.run("changes").stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "time", "file"]
    assert len(lines) == 4  # header + the three pending content records
    armband_line = lines[1]
    assert armband_line.startswith(str(shell.ids[0]))
    assert "Armband.jpg" in armband_line and "File:Armband.jpg" not in armband_line
    assert "2026-03-01 10:00" in armband_line and "LRK 123" in armband_line
    assert all(str(shell.ids[1]) != line.split()[0] for line in lines[1:])  # maintenance is hidden


def test_changes_when_nothing_matches(shell: Shell) -> None:
    assert shell.run("changes", "--status", "rejected").stdout == "no changes\n"


def test_changes_as_jsonl_have_the_contract_keys(shell: Shell) -> None:
    records = shell.jsonl("changes", "--format", "jsonl")
    assert [r["revision"] for r in records] == [101, 202, 102]
    for record in records:
        assert set(record) >= CONTRACT_KEYS, CONTRACT_KEYS - set(record)
        assert (
            record["status"] == "pending" and record["kind"] == "content" and record["wiki"] == "commonswiki"
        )
    first = records[0]
    assert first["id"] == shell.ids[0]
    assert (first["file"], first["object_id"], first["old_revision"]) == ("File:Armband.jpg", "LRK 123", 100)
    assert (first["field"], first["template"], first["language"], first["action"]) == (
        "description",
        "Information",
        "en",
        "changed",
    )
    assert (first["old"], first["new"]) == ("Armband", TRICKY)
    assert first["timestamp"] == "2026-03-01T10:00:00Z"
    assert first["user"] == "Curious Editor" and first["comment"] == "edit summary, with a comma"
    statement = records[2]
    assert (statement["property"], statement["new"], statement["old"]) == ("P180", "Q42", None)
    assert statement["source"] == "history" and statement["old_revision"] is None
    assert records[1]["user"] is None and records[1]["object_id"] is None


def test_changes_filters(shell: Shell) -> None:
    assert shell.revisions("--kind", "maintenance") == [201]
    assert shell.revisions("--kind", "all") == [101, 201, 202, 102]
    assert shell.revisions("--status", "all", "--kind", "all") == [101, 201, 202, 102]
    assert shell.revisions("--status", "accepted") == []
    assert shell.revisions("--file", "File:Stol.jpg", "--kind", "all") == [201, 202]
    assert shell.revisions("--file", "Stol.jpg") == [202]
    assert shell.revisions("--since", "2026-03-03") == [202, 102]
    assert shell.revisions("--since", "2026-03-04T23:59:59Z") == [102]
    assert shell.revisions("--since", "2026-03-05") == []
    assert shell.revisions("--since", "2026-03-02T12:00", "--kind", "all", "--file", "Stol.jpg") == [202]


def test_changes_with_a_bad_since(shell: Shell) -> None:
    result = shell.run("changes", "--since", "last tuesday", code=2)
    assert "--since" in result.stderr and "not a date" in result.stderr


def test_changes_file_filter_takes_a_title_as_in_urls(shell: Shell) -> None:
    assert shell.revisions("--file", "File:Stol.jpg") == shell.revisions("--file", "stol.jpg") == [202]
    assert shell.revisions("--file", "File:Armband.jpg") == shell.revisions("--file", "File:armband.jpg")


def test_changes_as_csv_round_trip(shell: Shell) -> None:
    result = shell.run("changes", "--format", "csv", "--kind", "all")
    rows = csv_rows(result.stdout_bytes.decode("utf-8"))
    assert [int(r["id"]) for r in rows] == [shell.ids[0], shell.ids[1], shell.ids[2], shell.ids[3]]
    assert rows[0]["new"] == TRICKY


def test_changes_while_the_daemon_holds_the_write_lock(shell: Shell) -> None:
    writer = sqlite3.connect(shell.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE changes SET status = 'rejected'")  # not committed: invisible to readers
        assert shell.revisions() == [101, 202, 102]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# -- accept and reject ---------------------------------------------------------------------------


def test_accept_and_reject(shell: Shell) -> None:
    first, second, third, _ = shell.ids
    result = shell.run("accept", str(first), str(third), "--reviewer", "anna", "--note", "into the CMS")
    assert f"accepted 2 change(s): {first}, {third}" in result.stdout
    result = shell.run("reject", str(second))
    assert f"rejected 1 change(s): {second}" in result.stdout
    rows = shell.db_rows()
    assert (rows[first]["status"], rows[first]["reviewer"], rows[first]["note"]) == (
        "accepted",
        "anna",
        "into the CMS",
    )
    assert rows[first]["reviewed_at"].endswith("Z")
    assert rows[second]["status"] == "rejected" and rows[second]["reviewer"]  # the shell user
    assert shell.revisions("--status", "accepted") == [101, 202]
    assert shell.revisions() == [102]


def test_accept_of_an_unknown_id_fails_and_says_so(shell: Shell) -> None:
    result = shell.run("accept", "999999", code=1)
    assert "no such change: 999999" in result.stderr
    assert all(row["status"] == "pending" for row in shell.db_rows().values())


def test_reject_of_known_and_unknown_ids(shell: Shell) -> None:
    result = shell.run("reject", str(shell.ids[0]), "424242", code=1)
    assert f"rejected 1 change(s): {shell.ids[0]}" in result.stdout
    assert "no such change: 424242" in result.stderr
    assert shell.db_rows()[shell.ids[0]]["status"] == "rejected"


def test_accept_needs_ids(shell: Shell) -> None:
    assert shell.run("accept", code=2).exit_code == 2
    assert "abc" in shell.run("accept", "abc", code=2).stderr


# -- export --------------------------------------------------------------------------------------


def test_export_marks_what_it_wrote(shell: Shell) -> None:
    first, second, third, _ = shell.ids
    shell.run("accept", str(first), str(second), str(third))
    result = shell.run("export", "--format", "jsonl")
    exported = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in exported] == [first, second, third]  # maintenance too: kind all
    assert all(set(r) >= CONTRACT_KEYS for r in exported)
    assert "exported 3 change(s)" in result.stderr
    rows = shell.db_rows()
    assert all(rows[i]["exported_at"] for i in (first, second, third))
    assert rows[shell.ids[3]]["exported_at"] is None
    again = shell.run("export", "--format", "jsonl")
    stamp = rows[first]["exported_at"]
    assert again.stdout == "" and f"nothing new since {stamp}" in again.stderr
    everything = shell.run("export", "--format", "jsonl", "--all")
    assert [json.loads(line)["id"] for line in everything.stdout.splitlines()] == [first, second, third]
    assert "nothing marked exported" in everything.stderr


def test_export_only_new_acceptances_next_time(shell: Shell) -> None:
    shell.run("accept", str(shell.ids[0]))
    shell.run("export", "--format", "jsonl")
    shell.run("accept", str(shell.ids[3]))
    result = shell.run("export", "--format", "jsonl")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [shell.ids[3]]


def test_export_by_status(shell: Shell) -> None:
    shell.run("reject", str(shell.ids[2]))
    rejected = shell.run("export", "--format", "jsonl", "--status", "rejected")
    assert [json.loads(line)["id"] for line in rejected.stdout.splitlines()] == [shell.ids[2]]
    everything = shell.run("export", "--format", "jsonl", "--status", "all", "--all")
    assert len(everything.stdout.splitlines()) == 4


def test_export_writes_csv_without_a_format(shell: Shell) -> None:
    shell.run("accept", str(shell.ids[0]))
    result = shell.run("export")
    (row,) = csv_rows(result.stdout_bytes.decode("utf-8"))
    assert int(row["id"]) == shell.ids[0] and row["new"] == TRICKY
    assert "exported 1 change(s)" in result.stderr


def test_export_refuses_an_unknown_format(shell: Shell) -> None:
    result = shell.run("export", "--format", "xml", code=2)
    assert "--format" in result.stderr


def test_export_csv_round_trips_through_the_csv_module(shell: Shell) -> None:
    shell.run("accept", *map(str, shell.ids))
    target = shell.folder / "out" / "export.csv"
    target.parent.mkdir()
    result = shell.run("export", "--format", "csv", "-o", str(target))
    assert f"exported 4 change(s) to {target}" in result.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"object_id,") and b"\r\n" in raw
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    assert header[: len(CSV_COLUMNS)] == CSV_COLUMNS and "id" in header
    db_rows = shell.db_rows()
    assert [int(r["id"]) for r in rows] == shell.ids
    for row in rows:
        stored = db_rows[int(row["id"])]
        for column in ("object_id", "file", "field", "template", "property", "language", "action", "old", "new",
                       "user", "timestamp", "status"):  # fmt: skip
            assert row[column] == ("" if stored[column] is None else str(stored[column])), column
        assert row["revision"] == str(stored["revision"])
    assert rows[0]["new"] == TRICKY
    assert rows[0]["diff_url"] == "https://commons.wikimedia.org/w/index.php?diff=101&oldid=100"
    assert rows[3]["diff_url"] == "https://commons.wikimedia.org/w/index.php?oldid=102"
    assert rows[0]["object_id"] == "LRK 123" and rows[2]["object_id"] == ""


def test_export_csv_to_stdout_with_bom(shell: Shell) -> None:
    shell.run("accept", str(shell.ids[0]))
    result = shell.run("export", "--format", "csv", "--bom")
    text = result.stdout_bytes.decode("utf-8")
    assert text.startswith("\ufeffobject_id,")
    (row,) = csv_rows(text.removeprefix("\ufeff"))
    assert row["new"] == TRICKY and row["user"] == "Curious Editor"


def test_export_jsonl_to_a_file(shell: Shell) -> None:
    shell.run("accept", str(shell.ids[0]))
    target = shell.folder / "export.jsonl"
    shell.run("export", "--format", "jsonl", "--output", str(target))
    (record,) = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert record["new"] == TRICKY and record["status"] == "accepted"


# -- status --------------------------------------------------------------------------------------


async def set_daemon_state(path: Path) -> None:
    async with Database.open(path) as db, db.transaction() as conn:
        await store_state.add_counters(conn, {"events_seen": 12345, "events_matched": 17})
        await store_state.set_cursor(
            conn, '[{"topic":"eqiad.mediawiki.recentchange","offset":5}]', "2026-03-04T12:00:00Z"
        )
        await store_tracked.add_file(conn, "File:Armband.jpg", "category", "Category:X")
        await store_tracked.add_file(conn, "File:Stol.jpg", "category", "Category:X")
        await store_tracked.add_file(conn, "File:Gone.jpg", "category", "Category:X")
        await store_tracked.set_deleted(conn, "File:Gone.jpg", True)


def test_status_as_json(shell: Shell) -> None:
    asyncio.run(set_daemon_state(shell.database))
    shell.run("accept", str(shell.ids[0]))
    report = json.loads(shell.run("status", "--format", "json").stdout)
    assert report["events_seen"] == 12345 and report["events_matched"] == 17
    assert report["last_event_id"] == '[{"topic":"eqiad.mediawiki.recentchange","offset":5}]'
    assert report["last_event_time"] == "2026-03-04T12:00:00Z"
    assert report["tracked_files"] == 2
    assert report["queue"] == {"pending": 3, "accepted": 1, "rejected": 0, "withdrawn": 0}


def test_status_of_a_fresh_database(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\n[tracking]\nfiles = ["File:A.jpg"]\n', encoding="utf-8"
    )
    missing = CliRunner().invoke(main, ["status", "-c", str(config), "--format", "json"])
    assert missing.exit_code == 66 and "no database at" in missing.output  # status never creates one
    assert not (tmp_path / "watcher.sqlite3").exists()

    async def create() -> None:  # what the first `watcher run` does
        async with Database.open(tmp_path / "watcher.sqlite3"):
            pass

    asyncio.run(create())
    result = CliRunner().invoke(main, ["status", "-c", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["events_seen"] == 0 and report["last_event_id"] is None and report["tracked_files"] == 0
    assert report["queue"] == {"pending": 0, "accepted": 0, "rejected": 0, "withdrawn": 0}


def test_status_as_text(shell: Shell) -> None:
    asyncio.run(set_daemon_state(shell.database))
    text = shell.run("status").stdout
    assert "12 345 seen, 17 matched" in text
    assert "4 pending, 0 accepted, 0 rejected" in text
    assert "2 files (1 deleted)" in text


def test_commands_refuse_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[watcher]\n", encoding="utf-8")
    for command in ("changes", "status", "export"):
        result = CliRunner().invoke(main, [command, "-c", str(config)])
        assert result.exit_code == 78, command
        assert "nothing was started" in result.stderr


def test_commands_on_a_database_from_a_newer_watcher(shell: Shell) -> None:
    with sqlite3.connect(shell.database) as conn:
        conn.execute("PRAGMA user_version = 999")
    result = shell.run("changes", code=1)
    assert "error:" in result.stderr and "newer than this watcher" in result.stderr


def test_export_to_an_unwritable_place_marks_nothing(shell: Shell) -> None:
    shell.run("accept", str(shell.ids[0]))
    result = CliRunner().invoke(
        main, ["export", "-c", str(shell.config), "--format", "csv", "-o", str(shell.folder / "no" / "x.csv")]
    )
    assert result.exit_code != 0
    assert shell.db_rows()[shell.ids[0]]["exported_at"] is None
    assert len(shell.jsonl("export", "--format", "jsonl")) == 1  # still there for the next export


def test_export_to_an_unwritable_place_says_why(shell: Shell) -> None:
    shell.run("accept", str(shell.ids[0]))
    target = shell.folder / "no" / "x.csv"
    result = CliRunner().invoke(
        main, ["export", "-c", str(shell.config), "--format", "csv", "-o", str(target)]
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    assert str(target) in result.stderr
