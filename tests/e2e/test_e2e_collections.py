"""Issue 19 through `watcher run`: three collections in one deployment, one by category, one by
uploader, one by template, with one file in two of them.

The daemon is a subprocess against the stand-in wiki and stream. It must hold one stream connection,
fetch each edit's revisions once whichever collections hold the file, and queue the records once per
collection with that collection's object id. A file that joins a collection from the stream (an upload
by the tracked uploader) makes records for that collection only, and `watcher tracked` lists each file
under each of its collections with its own object id. On either engine (issue 20: the commands read the
store the config names).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import DaemonProcess, Peers, aquery, peers_on, wait_for
from watcher.demo.standins.action_api import ActionApiPeer

HALLWYL_CATEGORY = "Category:Media contributed by the Hallwyl Museum"
UPLOADER = "LSH upload"
TEMPLATE = "Template:Skokloster Castle"
SHARED = "File:Helmet - LSH 101.jpg"  # uploaded by the Armoury's account, in the Hallwyl category
ARMOURY_ONLY = "File:Chair - LSH 102.jpg"
SKOKLOSTER = "File:Portrait of a lady.jpg"
NEW_UPLOAD = "File:Sword - LSH 103.jpg"


def helmet(description: str = "A helmet") -> str:
    return (
        f"{{{{Information\n|description={{{{en|1={description}}}}}\n|date=1600\n}}}}\n"
        f"{{{{Hallwyl-link|HWY 77}}}}\n[[{HALLWYL_CATEGORY}]]\n"
    )


def chair(description: str = "A chair") -> str:
    return f"{{{{Information\n|description={{{{en|1={description}}}}}\n|date=1700\n}}}}\n"


def portrait(description: str = "A lady") -> str:
    return (
        f"{{{{Artwork\n|description={{{{en|1={description}}}}}\n|accession number=SKO 5\n}}}}\n"
        "{{Skokloster Castle}}\n"
    )


def config_text(api_url: str, stream_url: str, database: Path | str) -> str:
    return f"""
[watcher]
database = "{database}"
user_agent = "WatcherTests/1.0 (https://museum.example; tests@museum.example)"

[stream]
url = "{stream_url}"
read_timeout = 5
backoff_initial = 0.2
backoff_max = 1

[wiki]
name = "commonswiki"
api_url = "{api_url}"

[[collection]]
name = "hallwyl"
title = "The Hallwyl Museum"
categories = ["{HALLWYL_CATEGORY}"]
category_depth = 0
[[collection.object_id]]
template = "Hallwyl-link"
param = "1"

[[collection]]
name = "armoury"
title = "The Royal Armoury"
uploaders = ["{UPLOADER}"]
[[collection.object_id]]
pattern = ' - LSH (\\d+)\\.\\w+$'

[[collection]]
name = "skokloster"
title = "Skokloster Castle"
templates = ["{TEMPLATE}"]
[[collection.object_id]]
template = "Artwork"
param = "accession number"

[filters]
ignore_bots = true

[labels]
languages = []
"""


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    api = ActionApiPeer()
    await api.start()
    api.add_page(HALLWYL_CATEGORY, "Files shared by the Hallwyl Museum.")
    api.add_page("Template:Hallwyl-link", "<includeonly>Hallwyl Museum: {{{1}}}</includeonly>")
    api.add_page(TEMPLATE, "<includeonly>Skokloster Castle</includeonly>")
    api.add_page(
        SHARED, helmet(), user=UPLOADER, categories=[HALLWYL_CATEGORY], templates=["Template:Hallwyl-link"]
    )
    api.add_page(ARMOURY_ONLY, chair(), user=UPLOADER)
    api.add_page(SKOKLOSTER, portrait(), user="Skokloster uploads", templates=[TEMPLATE])
    async with peers_on(api) as started:
        yield started


async def records(database: Path | str) -> list[dict[str, Any]]:
    rows = await aquery(
        database, "SELECT file, collection, object_id, revision, field FROM changes ORDER BY file, collection"
    )
    return [dict(r) for r in rows]


def queued(database: Path | str, count: int) -> Callable[[], Awaitable[bool]]:
    """True once exactly ``count`` records are queued."""

    async def check() -> bool:
        return len(await records(database)) == count

    return check


async def watcher_jsonl(*args: str) -> list[dict[str, Any]]:
    """A `watcher` command's JSON lines, run without blocking the loop the stand-ins answer on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


def revision_requests(peer: ActionApiPeer, revid: int) -> int:
    """The requests that fetched this revision's content (``revids=`` naming it)."""
    return sum(1 for r in peer.requests if str(revid) in r.params.get("revids", "").split("|"))


async def test_three_collections_share_one_stream_and_one_fetch_per_edit(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    database = store_location
    config = tmp_path / "config.toml"
    config.write_text(config_text(peers.api.url, peers.stream.url, database), encoding="utf-8")
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 1, 30, "the stream connection", daemon)

    async def members() -> set[tuple[str, str]]:
        rows = await aquery(database, "SELECT DISTINCT title, collection FROM tracked_reasons")
        return {(r[0], r[1]) for r in rows}

    expected = {
        (SHARED, "hallwyl"), (SHARED, "armoury"), (ARMOURY_ONLY, "armoury"), (SKOKLOSTER, "skokloster"),
    }  # fmt: skip

    async def all_members() -> bool:
        return await members() == expected

    await wait_for(all_members, 30, "each collection's files", daemon)
    api = peers.api

    shared_edit = api.edit(SHARED, helmet("A helmet with a plume"), user="Alice")
    chair_edit = api.edit(ARMOURY_ONLY, chair("A carved chair"), user="Alice")
    portrait_edit = api.edit(SKOKLOSTER, portrait("A lady in blue"), user="Bob")
    peers.publish()
    await wait_for(queued(database, 4), 60, "the records of three edits", daemon)
    assert await records(database) == [
        {"file": ARMOURY_ONLY, "collection": "armoury", "object_id": "102", "revision": chair_edit,
         "field": "description"},
        {"file": SHARED, "collection": "armoury", "object_id": "101", "revision": shared_edit,
         "field": "description"},
        {"file": SHARED, "collection": "hallwyl", "object_id": "HWY 77", "revision": shared_edit,
         "field": "description"},
        {"file": SKOKLOSTER, "collection": "skokloster", "object_id": "SKO 5", "revision": portrait_edit,
         "field": "description"},
    ]  # fmt: skip
    # One fetch of the shared file's edit served both collections.
    assert revision_requests(api, shared_edit) == 1

    # A new upload by the Armoury's account joins the Armoury's collection only.
    api.add_page(NEW_UPLOAD, chair("A sword"), user=UPLOADER)
    peers.publish()

    async def new_upload_tracked() -> bool:
        return (NEW_UPLOAD, "armoury") in await members()

    await wait_for(new_upload_tracked, 60, "the new upload tracked", daemon)
    sword_edit = api.edit(NEW_UPLOAD, chair("A sword with a gilded hilt"), user="Alice")
    peers.publish()
    await wait_for(queued(database, 5), 60, "the new file's record", daemon)
    new = [r for r in await records(database) if r["file"] == NEW_UPLOAD]
    assert new == [{"file": NEW_UPLOAD, "collection": "armoury", "object_id": "103", "revision": sword_edit,
                    "field": "description"}]  # fmt: skip

    assert peers.stream.connections == 1, "one stream connection for the whole deployment"
    contract = await watcher_jsonl("changes", "-c", str(config), "--format", "jsonl", "--status", "all")
    assert sorted((r["file"], r["collection"], r["object_id"]) for r in contract) == sorted(
        (r["file"], r["collection"], r["object_id"]) for r in await records(database)
    )
    await daemon.stop()

    rows = await watcher_jsonl("tracked", "-c", str(config), "--format", "jsonl")
    assert sorted((r["collection"], r["file"], r["object_id"]) for r in rows) == [
        ("armoury", ARMOURY_ONLY, "102"),
        ("armoury", SHARED, "101"),
        ("armoury", NEW_UPLOAD, "103"),
        ("hallwyl", SHARED, "HWY 77"),
        ("skokloster", SKOKLOSTER, "SKO 5"),
    ]
    only = await watcher_jsonl(
        "tracked", "-c", str(config), "--format", "jsonl", "--stored", "--collection", "hallwyl"
    )
    assert [(r["file"], r["collection"]) for r in only] == [(SHARED, "hallwyl")]

    # `watcher status` counts each collection's queue; --collection narrows it.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", "status", "-c", str(config), "--format", "json",
        "--collection", "armoury", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    status = json.loads(out)
    assert list(status["queue_by_collection"]) == ["armoury"]
    assert status["queue_by_collection"]["armoury"]["pending"] == 3
    assert [(c["name"], c["files"]) for c in status["tracked_summary"]["collections"]] == [
        ("hallwyl", 1), ("armoury", 3), ("skokloster", 1),
    ]  # fmt: skip
