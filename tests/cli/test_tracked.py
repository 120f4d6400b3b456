"""Issue 17, item 4: `watcher tracked` on the stand-in wiki — why each file is tracked, its object id
and which rule found it, the summary, one Action API request per 50 files, and `status` showing the
same summary and the last API error."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.support.config import USER_AGENT
from watcher.cli.main import main
from watcher.config import Config, load_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.service.status import LiveStatePersister
from watcher.store import Database
from watcher.tracking.resolver import TrackedSet, TrackingResolver

CATEGORY = "Category:Media contributed by Example Museum"
SUBCATEGORY = "Category:Example Museum: 2020"
UPLOADER = "Example Museum"
TEMPLATE = "Template:Example Museum"
OTHERS = "Volunteer Uploader"
FILLERS = 52  # with the named files below, more than 50 files need their page: two requests

# (title, wikitext, how it is tracked) — the facts each assertion below is checked against.
VASE = "File:Vase - EM 101.jpg"  # subcategory; template rule first: its accession number wins
BOWL = "File:Bowl - EM 102.jpg"  # category; no template: the file-name pattern
PLATE = "File:Plate.jpg"  # uploaded by the museum's account; no rule matches
CUP = "File:Cup.jpg"  # uses the museum's template; an accession number a spreadsheet would run
LISTED = "File:Listed - EM 105.jpg"  # named in the config's list


def config_text(api_url: str, rules: str) -> str:
    return f"""[watcher]
user_agent = "{USER_AGENT}"
database = "w.sqlite3"

[wiki]
api_url = "{api_url}"

[tracking]
categories = ["{CATEGORY}"]
category_depth = 1
uploaders = ["{UPLOADER}"]
templates = ["{TEMPLATE}"]
files = ["{LISTED}"]
{rules}"""


TEMPLATE_FIRST = """
[[tracking.object_id]]
template = "Artwork"
param = "accession number"

[[tracking.object_id]]
pattern = ' - EM (\\d+)\\.\\w+$'
"""
PATTERN_ONLY = """
[[tracking.object_id]]
pattern = ' - EM (\\d+)\\.\\w+$'
"""


def build_wiki(wiki: ActionApiPeer) -> None:
    wiki.add_page(CATEGORY, "The museum's uploads.")
    wiki.add_page(SUBCATEGORY, f"[[{CATEGORY}]]")
    wiki.add_page(VASE, "{{Artwork|accession number=EM-101-A}}", user=OTHERS, categories=[SUBCATEGORY])
    wiki.add_page(BOWL, "{{Information|description=A bowl}}", user=OTHERS, categories=[CATEGORY])
    wiki.add_page(PLATE, "{{Information|description=A plate}}", user=UPLOADER)
    wiki.add_page(CUP, '{{Artwork|accession number==HYPERLINK("http://x")}}', user=OTHERS)
    wiki.add_template(CUP, TEMPLATE)
    wiki.add_page(LISTED, "{{Information|description=Listed}}", user=OTHERS)
    for n in range(FILLERS):
        wiki.add_page(
            f"File:Filler {n:03}.jpg",
            f"{{{{Artwork|accession number=F-{n}}}}}",
            user=OTHERS,
            categories=[CATEGORY],
        )


@pytest.fixture
async def peer() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as started:
        build_wiki(started)
        yield started


async def resolved(tmp_path: Path, peer: ActionApiPeer, rules: str = TEMPLATE_FIRST) -> Config:
    """The config, and its tracked set resolved into the database as the daemon resolves it."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(peer.url, rules), encoding="utf-8")
    config = load_config(path)
    async with ActionApi(peer.url, USER_AGENT) as api, Database.open(config.database, create=True) as db:
        await TrackingResolver(config.tracking, api, db, TrackedSet()).resolve_all()
    return config


async def invoke(config: Config, *args: str) -> Result:
    """The command runs its own event loop: in a thread, while the stand-in serves on this one."""
    result = await asyncio.to_thread(CliRunner().invoke, main, [args[0], "-c", str(config.path), *args[1:]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def rows(result: Result) -> dict[str, dict[str, Any]]:
    return {row["file"]: row for row in map(json.loads, result.stdout.splitlines())}


def content_requests(peer: ActionApiPeer) -> int:
    return sum(
        1
        for r in peer.requests
        if r.params.get("prop") == "revisions" and "content" in r.params.get("rvprop", "")
    )


async def test_each_file_with_its_reasons_its_object_id_and_the_rule_that_found_it(
    tmp_path: Path, peer: ActionApiPeer
) -> None:
    config = await resolved(tmp_path, peer)
    before = content_requests(peer)
    result = await invoke(config, "tracked", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    found = rows(result)
    assert len(found) == 5 + FILLERS
    assert found[VASE]["reasons"] == [{"reason": "category", "detail": SUBCATEGORY}]
    assert (found[VASE]["object_id"], found[VASE]["object_id_rule"]) == ("EM-101-A", 1)  # rule 1 before 2
    assert found[VASE]["object_id_rule_text"] == "template Artwork, param accession number"
    assert found[VASE]["object_id_revision"] == peer.page(VASE).latest.revid
    assert found[BOWL]["reasons"] == [{"reason": "category", "detail": CATEGORY}]
    assert (found[BOWL]["object_id"], found[BOWL]["object_id_rule"]) == ("102", 2)
    assert found[PLATE]["reasons"] == [{"reason": "uploader", "detail": UPLOADER}]
    assert (found[PLATE]["object_id"], found[PLATE]["object_id_rule"]) == (None, None)
    assert found[CUP]["reasons"] == [{"reason": "template", "detail": TEMPLATE}]
    assert found[CUP]["object_id"] == '=HYPERLINK("http://x")'
    assert found[LISTED]["reasons"] == [{"reason": "list", "detail": "config"}]
    assert (found[LISTED]["object_id"], found[LISTED]["object_id_rule"]) == ("105", 2)
    assert all(row["collection"] == "default" and row["object_id_checked_at"] for row in found.values())
    # Every file needs its page (a template rule comes first): one request per 50 files, said up front.
    assert content_requests(peer) - before == math.ceil(len(found) / 50) == 2
    assert "about 2 Action API requests, one per 50 files" in result.stderr
    # jsonl keeps stdout to the rows; the summary goes to stderr.
    assert (
        f"{len(found)} files tracked: {FILLERS + 2} by category, 1 by uploader, 1 by template, 1 by list"
        in (result.stderr)
    )


async def test_the_table_ends_with_counts_per_reason_and_per_rule(
    tmp_path: Path, peer: ActionApiPeer
) -> None:
    config = await resolved(tmp_path, peer)
    result = await invoke(config, "tracked")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "object", "id", "rule", "tracked", "because"]
    vase = next(line for line in lines if line.startswith("Vase - EM 101.jpg"))
    assert (
        vase.split()[4:7] == ["EM-101-A", "1", "category"] and SUBCATEGORY.removeprefix("Category:") in vase
    )
    plate = next(line for line in lines if line.startswith("Plate.jpg"))
    assert "none matched" in plate and "uploader" in plate
    files = 5 + FILLERS
    summary = lines[lines.index("") + 1 :]
    assert (
        summary[0]
        == f"{files} files tracked: {FILLERS + 2} by category, 1 by uploader, 1 by template, 1 by list"
    )
    assert f"  category {CATEGORY}: {FILLERS + 1} files" in summary
    assert f"  category {SUBCATEGORY}: 1 file" in summary  # one: singular
    assert "  list config: 1 file" in summary
    assert f"  uploader {UPLOADER}: 1 file" in summary and f"  template {TEMPLATE}: 1 file" in summary
    ids = next(line for line in summary if line.startswith("object ids: "))
    assert ids.startswith(f"object ids: {files - 1} of {files} files, looked up ")
    assert f"  rule 1 (template Artwork, param accession number): {FILLERS + 2} files" in summary
    assert "  rule 2 (file name pattern ' - EM (\\d+)\\.\\w+$'): 2 files" in summary
    assert "  no rule matched: 1 file" in summary


async def test_files_decided_by_their_name_cost_no_request(tmp_path: Path, peer: ActionApiPeer) -> None:
    config = await resolved(tmp_path, peer, PATTERN_ONLY)
    before = content_requests(peer)
    result = await invoke(config, "tracked", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    found = rows(result)
    assert content_requests(peer) == before and "Action API request" not in result.stderr
    assert {title: row["object_id"] for title, row in found.items() if row["object_id"]} == {
        VASE: "101",
        BOWL: "102",
        LISTED: "105",
    }
    assert all(row["object_id_revision"] is None for row in found.values())  # the name alone decided


async def test_stored_lists_the_last_answers_without_a_request_and_csv_is_guarded(
    tmp_path: Path, peer: ActionApiPeer
) -> None:
    config = await resolved(tmp_path, peer)
    never = await invoke(config, "tracked", "--stored", "--format", "jsonl")
    assert never.exit_code == 0 and all(row["object_id_checked_at"] is None for row in rows(never).values())
    assert f"not looked up yet: {5 + FILLERS} files" in never.stderr
    assert (await invoke(config, "tracked", "--format", "jsonl")).exit_code == 0
    before = len(peer.requests)
    stored = await invoke(config, "tracked", "--stored", "--format", "csv")
    assert stored.exit_code == 0 and len(peer.requests) == before
    table = {row["file"]: row for row in csv.DictReader(io.StringIO(stored.stdout))}
    assert table[CUP]["object_id"] == "'" + '=HYPERLINK("http://x")'  # a formula shown as text
    assert table[VASE]["reasons"] == f"category: {SUBCATEGORY}" and table[VASE]["object_id_rule"] == "1"
    raw = await invoke(config, "tracked", "--stored", "--format", "csv", "--raw")
    assert {row["file"]: row for row in csv.DictReader(io.StringIO(raw.stdout))}[CUP]["object_id"] == (
        '=HYPERLINK("http://x")'
    )


async def test_an_api_failure_says_so_and_still_lists_what_is_known(
    tmp_path: Path, peer: ActionApiPeer
) -> None:
    config = await resolved(tmp_path, peer)
    assert (await invoke(config, "tracked", "--format", "jsonl")).exit_code == 0
    peer.edit(VASE, "{{Artwork|accession number=EM-101-B}}")
    peer.fail_http(403, times=1)
    result = await invoke(config, "tracked", "--format", "jsonl")
    assert result.exit_code == 1
    assert "error: the Action API failed while looking up object ids (http-403" in result.stderr
    assert rows(result)[VASE]["object_id"] == "EM-101-A"  # the last answer stored, not lost
    again = await invoke(config, "tracked", "--format", "jsonl")
    assert again.exit_code == 0 and rows(again)[VASE]["object_id"] == "EM-101-B"  # today's page


async def test_status_shows_the_tracked_summary_and_the_last_api_error(
    tmp_path: Path, peer: ActionApiPeer
) -> None:
    config = await resolved(tmp_path, peer)
    assert (await invoke(config, "tracked", "--format", "jsonl")).exit_code == 0
    # The daemon's API client meets an error; its live-state saver records the text, not only a count.
    peer.fail_http(403, times=1)
    async with ActionApi(peer.url, USER_AGENT) as api, Database.open(config.database) as db:
        with pytest.raises(ApiError):
            await api.page_info([VASE])
        await LiveStatePersister(db, None, [api.stats]).save()
    text = await invoke(config, "status")
    assert text.exit_code == 0, text.output
    files = 5 + FILLERS
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in text.stdout.splitlines()}
    assert lines["tracked"] == f"{files} files (0 deleted), 2 categories"
    assert lines["tracked because"] == f"{FILLERS + 2} by category, 1 by uploader, 1 by template, 1 by list"
    assert lines["object ids"].startswith(f"{files - 1} of {files} files, looked up ")
    assert lines["object ids"].endswith(f"(rule 1: {FILLERS + 2}; rule 2: 2; no rule matched: 1)")
    assert lines["last API error"].split(": ", 1)[1].startswith("http-403: ")
    report = json.loads((await invoke(config, "status", "--format", "json")).stdout)
    assert report["api_errors"] == 1 and report["api_last_error"].startswith("http-403: ")
    assert report["api_last_error_at"]
    summary = report["tracked_summary"]
    assert summary["files"] == files and summary["by_reason"] == {
        "category": FILLERS + 2, "uploader": 1, "template": 1, "list": 1,
    }  # fmt: skip
    assert {"reason": "category", "detail": SUBCATEGORY, "files": 1} in summary["by_source"]
    assert summary["object_ids"]["with"] == files - 1 and summary["object_ids"]["without"] == 1
    assert [(r["rule"], r["files"]) for r in summary["object_ids"]["by_rule"]] == [(1, FILLERS + 2), (2, 2)]


def test_tracked_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text("http://127.0.0.1:9/w/api.php", TEMPLATE_FIRST), encoding="utf-8")
    result = CliRunner().invoke(main, ["tracked", "-c", str(path)])
    assert result.exit_code == 66, result.output
    assert "no database at" in result.stderr and not (tmp_path / "w.sqlite3").exists()
