"""The daemon as a subprocess against the loopback EventStreams and Action API stand-ins, on either
engine (the store a SQLite file or a PostgreSQL database: issue 20)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support.fixtures import load_events, wikitext
from tests.support.harness import (
    CATEGORY,
    DaemonProcess,
    Peers,
    acounters,
    aquery,
    arecords,
    astate,
    config_text,
    peers_on,
    wait_for,
)
from watcher.demo.standins.action_api import ActionApiPeer

ARTWORK = """== {{int:filedesc}} ==
{{Artwork
 |artist = {{Creator:Anders Zorn}}
 |title = {{sv|Midsommardans}}
 |description = {{sv|1=Dans vid midsommar i Mora.}}
 |date = 1897
 |medium = {{Technique|oil|canvas}}
 |institution = {{Institution:Example Museum}}
 |accession number = EXM 4711
 |source = Example Museum
}}

== {{int:license-header}} ==
{{PD-old-70}}

[[Category:Anders Zorn]]
[[Category:Media contributed by Example Museum]]
"""


def other_wiki_events() -> list[dict[str, object]]:
    """Real captures of other wikis and a canary, republished as noise."""
    events: list[dict[str, object]] = []
    for event in load_events("rc_2024-04-26_commons_sdc_edit_and_delete_log.jsonl"):
        if event.get("wiki") != "commonswiki":
            events.append(event)
    canary = dict(events[0])
    canary["meta"] = {**cast("dict[str, Any]", canary["meta"]), "domain": "canary"}
    canary["wiki"] = "commonswiki"
    canary["title"] = "File:Midsommardans - EXM 4711.jpg"
    events.append(canary)
    return events


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    api = ActionApiPeer(max_limit=7)  # small pages: category continuation is exercised
    await api.start()
    api.add_page(CATEGORY, "Files shared by the Example Museum.")
    api.add_page("Category:Example Museum: paintings", f"[[{CATEGORY}]]")
    api.add_page("File:Midsommardans - EXM 4711.jpg", ARTWORK)
    api.add_page(
        "File:Church - EXM 12.jpg", wikitext("croptool_ru_church_1905.old.wikitext"), categories=[CATEGORY]
    )
    api.add_page(
        "File:Crassula - EXM 13.jpg", wikitext("dreykh_crassula_information.wikitext"), categories=[CATEGORY]
    )
    api.add_page(
        "File:Dalian - EXM 14.jpg", wikitext("memucho_dalian_old_men.wikitext"), categories=[CATEGORY]
    )
    api.add_page(
        "File:Painting - EXM 15.jpg", wikitext("dreykh_modigliani_artwork.wikitext"),
        categories=["Category:Example Museum: paintings"],
    )  # fmt: skip
    for n in range(16, 30):
        api.add_page(
            f"File:Object - EXM {n}.jpg",
            f"{{{{Information|description={{{{en|1=Object {n}}}}}}}}}",
            categories=[CATEGORY],
        )
    api.add_page("File:Somebody else's photo.jpg", wikitext("memucho_duelmen_sunrise.wikitext"))
    async with peers_on(api) as started:
        yield started


async def test_daemon_follows_edits_of_tracked_files_once(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    database = store_location  # on SQLite in a folder the daemon makes
    config = tmp_path / "config.toml"
    config.write_text(config_text(peers.api.url, peers.stream.url, database))
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 1, 20, "the stream connection", daemon)

    async def tracked() -> set[str]:
        return {row[0] for row in await aquery(database, "SELECT title FROM tracked_files")}

    async def nineteen_tracked() -> bool:
        return len(await tracked()) == 19

    await wait_for(nineteen_tracked, 20, "19 tracked files (category depth 1)", daemon)
    assert "File:Somebody else's photo.jpg" not in await tracked()

    api = peers.api
    # A human adds a French description to an artwork.
    artwork = "File:Midsommardans - EXM 4711.jpg"
    api.edit(
        artwork,
        ARTWORK.replace(
            "{{sv|1=Dans vid midsommar i Mora.}}",
            "{{sv|1=Dans vid midsommar i Mora.}}\n{{fr|1=Danse de la Saint-Jean à Mora.}}",
        ),
        user="Translator",
        comment="fr",
    )
    # CropTool fills other versions.
    api.edit(
        "File:Church - EXM 12.jpg",
        wikitext("croptool_ru_church_1905.new.wikitext"),
        user="Cropper",
        comment="crop",
    )
    # A bot edit and a whitespace-only edit: no records.
    api.edit(
        "File:Object - EXM 16.jpg",
        "{{Information|description={{en|1=Object 16 (bot)}}}}",
        user="SomeBot",
        bot=True,
    )
    api.edit("File:Object - EXM 17.jpg", "{{Information\n| description = {{en|1=Object 17}}\n}}", user="Tidy")
    # An untracked file: nothing.
    api.edit(
        "File:Somebody else's photo.jpg",
        wikitext("memucho_duelmen_sunrise.wikitext") + "\n[[Category:Sunrises]]",
        user="X",
    )
    # A new file joins the tracked category, then is edited.
    api.add_page(
        "File:Newcomer - EXM 99.jpg", "{{Information|description={{en|1=A chair}}}}", user="Example Museum"
    )
    api.add_to_category("File:Newcomer - EXM 99.jpg", CATEGORY, user="Categoriser")
    # A tracked file is moved, then edited under its new name.
    api.move("File:Object - EXM 18.jpg", "File:Silver cup - EXM 18.jpg", user="Mover")
    api.edit(
        "File:Silver cup - EXM 18.jpg",
        "{{Information|description={{en|1=Object 18}}\n{{de|1=Silberbecher}}}}",
        user="Übersetzer",
    )
    # A tracked file is deleted.
    api.delete("File:Object - EXM 19.jpg")
    peers.stream.publish(*other_wiki_events())
    peers.publish()

    async def newcomer_tracked() -> bool:
        return "File:Newcomer - EXM 99.jpg" in await tracked()

    await wait_for(newcomer_tracked, 20, "the newcomer to join", daemon)
    api.edit(
        "File:Newcomer - EXM 99.jpg",
        "{{Information|description={{en|1=A chair}}\n{{sv|1=En stol}}}}",
        user="Svensk",
    )
    peers.publish()

    expected = {
        (artwork, "description", "fr", "added", "EXM 4711"),  # the Artwork rule comes first
        ("File:Church - EXM 12.jpg", "other versions", None, "added", "12"),
        ("File:Silver cup - EXM 18.jpg", "description", "de", "added", "18"),
        ("File:Newcomer - EXM 99.jpg", "description", "sv", "added", "99"),
    }

    async def got() -> set[tuple[object, ...]]:
        return {
            (r["file"], r["field"], r["language"], r["action"], r["object_id"])
            for r in await arecords(database)
            if r["kind"] == "content"
        }

    async def all_expected() -> bool:
        return await got() >= expected

    async def inbox_empty() -> bool:
        return not await aquery(database, "SELECT 1 FROM inbox WHERE state = 'pending'")

    await wait_for(all_expected, 30, "the expected records", daemon)
    # Give stragglers a moment: nothing else may arrive (bot, whitespace, untracked, canary, other wikis).
    await wait_for(inbox_empty, 10, "an empty inbox", daemon)
    assert await got() == expected
    rows = [r for r in await arecords(database) if r["file"] == artwork]
    assert rows[0]["user"] == "Translator" and rows[0]["new"] == "Danse de la Saint-Jean à Mora."
    assert rows[0]["old_revision"] and rows[0]["revision"] > rows[0]["old_revision"]
    deleted = await aquery(
        database, "SELECT state FROM tracked_files WHERE title = 'File:Object - EXM 19.jpg'"
    )
    assert deleted[0][0] == "deleted"
    assert not await aquery(database, "SELECT 1 FROM tracked_files WHERE title = 'File:Object - EXM 18.jpg'")

    # Every request carried the User-Agent, and the API never saw two requests at once.
    assert all(ua and ua.startswith("WatcherTests/1.0") for ua in peers.stream.user_agents)
    assert all((r.user_agent or "").startswith("WatcherTests/1.0") for r in api.requests)
    assert api.max_in_flight == 1
    assert all(r.params.get("maxlag") == "5" for r in api.requests)

    code, took = await daemon.terminate()
    assert code == 0 and took < 10
    assert await astate(database, "last_event_id")
    assert (await acounters(database))["events_seen"] >= 10

    # Restarted, it resumes from the stored id and repeats nothing.
    before = len(await arecords(database))
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 2, 20, "a reconnection", daemon)
    resumed = peers.stream.requests[-1]
    assert resumed.last_event_id == await astate(database, "last_event_id")
    api.edit(
        artwork,
        api.page(artwork).latest.wikitext.replace("|date = 1897", "|date = {{circa|1897}}"),
        user="Dater",
    )
    peers.publish()

    async def date_changed() -> bool:
        return len(await arecords(database)) == before + 1

    await wait_for(date_changed, 20, "the date change", daemon)
    code, _ = await daemon.terminate()
    assert code == 0
    date = (await arecords(database))[-1]
    assert (date["field"], date["action"], date["old"], date["new"]) == (
        "date",
        "changed",
        "1897",
        "{{circa|1897}}",
    )
