"""Export for collection systems: RFC 4180 CSV and JSONL round trips, and the page's download."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.web import CONFIG_TEXT, csrf_of, queue, sign_in
from watcher.config import Config, parse_config
from watcher.diff.model import FieldChange
from watcher.export.csvfile import cell
from watcher.export.words import TEXT_COLUMNS, text_columns
from watcher.export.writers import CSV_HEADER, EXPORT_COLUMNS, LABEL_COLUMNS, index_url, write_records
from watcher.store.db import Database
from watcher.store.queue import ChangeFilter, ChangeRecord, list_changes

AWKWARD = (
    'Portrait, "the elder"; oil',
    "line one\nline two\r\nline three\rend",
    "Målning av Anders Zorn — 油画 — لوحة — 🎨",
    '=HYPERLINK("http://evil.example","click")',
    "  leading and trailing spaces  ",
    '"',
    ",",
)


def record(n: int, old: str | None, new: str | None, **extra: Any) -> ChangeRecord:
    values: dict[str, Any] = {
        "id": n, "wiki": "commonswiki", "file": f"File:Thing, {n}.jpg", "object_id": f"EXM-{n}",
        "revision": 1000 + n, "old_revision": 999 + n, "timestamp": "2026-03-01T10:00:00Z",
        "user": "Ünïcode user", "comment": "c", "field": "description", "template": "Information",
        "property": None, "language": "sv", "action": "changed", "kind": "content", "old": old, "new": new,
        "status": "accepted", "source": "live", "queued_at": "2026-03-01T10:00:01Z", "reviewer": "anna",
        "reviewed_at": "2026-03-02T09:00:00Z", "note": 'ok, "checked"', "exported_at": None, "detail": None,
    }  # fmt: skip
    values.update(extra)
    return ChangeRecord(**values)


ID = CSV_HEADER.index("id")


def expected_row(r: ChangeRecord, config: Config) -> list[str]:
    """The contract's columns, the id, the words beside the raw values (field_text, old_text, new_text),
    then the collection."""
    contract = r.as_contract(index_url(config))
    columns = (*EXPORT_COLUMNS, *LABEL_COLUMNS)
    words = text_columns(r)
    return [
        *(str(cell(contract[c])) for c in columns),
        str(r.id),
        *(str(cell(words[c])) for c in TEXT_COLUMNS),
        contract["collection"],
    ]


def without_id(row: list[str]) -> list[str]:
    return row[:ID] + row[ID + 1 :]


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_round_trip_keeps_commas_quotes_newlines_and_non_ascii(config: Config) -> None:
    records = [
        record(n, value, AWKWARD[-n], language=None if n % 2 else "sv") for n, value in enumerate(AWKWARD, 1)
    ]
    records.append(record(99, None, "added only", action="added", note=None, reviewer=None, reviewed_at=None))
    out = io.StringIO(newline="")
    write_records(records, "csv", out, config, formula_guard=False)
    text = out.getvalue()
    rows = parse_csv(text)
    assert rows[0] == list(CSV_HEADER)
    assert rows[0][:4] == ["object_id", "file", "field", "template"]
    assert rows[1:] == [expected_row(r, config) for r in records]
    assert (
        rows[1][CSV_HEADER.index("diff_url")]
        == "https://commons.wikimedia.org/w/index.php?diff=1001&oldid=1000"
    )
    # RFC 4180: CRLF between records; a field with a quote is quoted and the quote doubled.
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    assert '"Portrait, ""the elder""; oil"' in text
    assert not text.startswith("\ufeff")


def test_csv_bom_and_formula_guard_for_spreadsheets(config: Config) -> None:
    records = [record(1, "=1+1", "@SUM(A1)", note="-3"), record(2, "+cmd", "plain")]
    out = io.StringIO(newline="")
    write_records(records, "csv", out, config, bom=True, formula_guard=True)
    data = out.getvalue().encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = parse_csv(data.decode("utf-8-sig"))
    assert rows[0] == list(CSV_HEADER)
    column = {name: i for i, name in enumerate(CSV_HEADER)}
    assert (rows[1][column["old"]], rows[1][column["new"]], rows[1][column["note"]]) == (
        "'=1+1",
        "'@SUM(A1)",
        "'-3",
    )
    assert (rows[2][column["old"]], rows[2][column["new"]]) == ("'+cmd", "plain")


# A module-level config: hypothesis runs many examples per test, so no function-scoped fixture.
CONFIG = parse_config(CONFIG_TEXT, Path("/nonexistent/config.toml"))
_text = st.one_of(st.none(), st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))


@settings(max_examples=150, deadline=None)
@given(old=_text, new=_text, note=_text)
def test_csv_round_trip_of_any_text(old: str | None, new: str | None, note: str | None) -> None:
    r = record(7, old, new, note=note)
    out = io.StringIO(newline="")
    write_records([r], "csv", out, CONFIG, formula_guard=False)
    assert parse_csv(out.getvalue()) == [list(CSV_HEADER), expected_row(r, CONFIG)]


def test_jsonl_round_trip(config: Config) -> None:
    records = [record(n, value, None, detail={"k": value}) for n, value in enumerate(AWKWARD, 1)]
    out = io.StringIO()
    write_records(records, "jsonl", out, config)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(records)  # embedded newlines stay escaped inside each line
    for line, r in zip(lines, records, strict=True):
        obj = json.loads(line)
        assert obj == {**r.as_contract(index_url(config)), **text_columns(r)}
        assert set(EXPORT_COLUMNS) <= set(obj)


async def accepted(db: Database, count: int, offset: int = 0) -> list[int]:
    ids: list[int] = []
    for n in range(count):
        ids += await queue(db, revision=5000 + offset + n, file=f"File:Obj {n}.jpg")
    await db.write(
        f"UPDATE changes SET status = 'accepted', reviewer = 'anna' WHERE id IN ({','.join('?' * len(ids))})",
        ids,
    )
    return ids


async def download(client: TestClient[Any, Any], **form: str) -> tuple[Any, bytes]:
    response = await client.post("/export", data={"csrf": await csrf_of(client), "format": "csv", **form})
    return response, await response.read()


async def test_download_holds_the_whole_selection_and_marks_it_exported(
    client: TestClient[Any, Any], db: Database, config: Config
) -> None:
    ids = await accepted(db, 130)  # more than any page
    pending = await queue(db, revision=9999, file="File:Pending.jpg")
    await sign_in(client, "anna")
    response, body = await download(client)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="watcher-export-')
    assert body.startswith(b"\xef\xbb\xbf")  # a UTF-8 mark, for spreadsheet programs
    rows = parse_csv(body.decode("utf-8-sig"))
    assert rows[0] == list(CSV_HEADER)
    assert sorted(int(row[ID]) for row in rows[1:]) == ids  # accepted only, every page of them
    assert pending[0] not in {int(row[ID]) for row in rows[1:]}
    expected = [expected_row(r, config) for r in await list_changes(db, ChangeFilter(status="accepted"))]
    assert [without_id(row) for row in rows[1:]] == [without_id(row) for row in expected]
    assert await db.scalar("SELECT count(*) FROM changes WHERE exported_at IS NOT NULL") == 130
    # The next download holds only what is new; then nothing (no header-only file); "all" repeats everything.
    new = await accepted(db, 2, offset=900)
    _, again = await download(client)
    assert sorted(int(row[ID]) for row in parse_csv(again.decode("utf-8-sig"))[1:]) == new
    last = await db.scalar("SELECT max(exported_at) FROM changes")
    response, empty = await download(client)
    assert response.content_type == "text/html" and "Content-Disposition" not in response.headers
    assert f"Nothing new since {last}: nothing to download." in empty.decode()
    _, everything = await download(client, all="1")
    assert len(parse_csv(everything.decode("utf-8-sig"))) == 1 + 132


async def test_download_follows_the_filters(client: TestClient[Any, Any], db: Database) -> None:
    sv = await queue(
        db, revision=1, changes=[FieldChange("description", "changed", "a", "b", "Information", None, "sv")]
    )
    en = await queue(
        db, revision=2, changes=[FieldChange("description", "changed", "a", "c", "Information", None, "en")]
    )
    await db.write("UPDATE changes SET status = 'accepted'")
    await sign_in(client, "anna")
    page = await (await client.get("/?status=accepted&language=sv")).text()
    assert '<input type="hidden" name="language" value="sv">' in page  # the export form carries the filters
    _, body = await download(client, language="sv")
    assert [int(row[ID]) for row in parse_csv(body.decode("utf-8-sig"))[1:]] == sv
    response, pending_only = await download(client, status="pending", all="1")
    assert "Content-Disposition" not in response.headers
    assert "No change matches this selection: nothing to download." in pending_only.decode()
    _, both = await download(client, status="all", all="1")
    assert sorted(int(row[ID]) for row in parse_csv(both.decode("utf-8-sig"))[1:]) == sorted(sv + en)


async def test_download_jsonl_guarded_and_raw_csv(client: TestClient[Any, Any], db: Database) -> None:
    await queue(db, changes=[FieldChange("title", "added", None, "=cmd|' /C calc'!A0", "Artwork")])
    await db.write("UPDATE changes SET status = 'accepted'")
    await sign_in(client, "anna")
    response, body = await download(client, format="jsonl", all="1")
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert not body.startswith(b"\xef\xbb\xbf")  # no BOM in JSON lines
    assert json.loads(body.decode().splitlines()[0])["new"] == "=cmd|' /C calc'!A0"
    _, sheet = await download(client, all="1")
    assert sheet.startswith(b"\xef\xbb\xbf")
    assert parse_csv(sheet.decode("utf-8-sig"))[1][CSV_HEADER.index("new")] == "'=cmd|' /C calc'!A0"
    _, raw = await download(client, raw="1", all="1")
    assert parse_csv(raw.decode("utf-8-sig"))[1][CSV_HEADER.index("new")] == "=cmd|' /C calc'!A0"
    response, _ = await download(client, format="xml")
    assert response.status == 400


async def test_read_only_download_marks_nothing(client: TestClient[Any, Any], db: Database) -> None:
    ids = await accepted(db, 3)
    await sign_in(client, "otto")
    response, body = await download(client)
    assert response.status == 200
    assert sorted(int(row[ID]) for row in parse_csv(body.decode("utf-8-sig"))[1:]) == ids
    assert await db.scalar("SELECT count(*) FROM changes WHERE exported_at IS NOT NULL") == 0
