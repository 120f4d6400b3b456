"""The Action API stand-in itself, spoken to with plain aiohttp: formatversion=2 shapes as
documented in notes/action-api.md, MediaWiki's errors and warnings, fault modes, the process mode."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.fixtures import wikitext
from tests.support.mediawiki import mediainfo_slot
from tests.support.processes import stop_process
from watcher.demo.standins.action_api import ActionApiPeer

BASE = {"format": "json", "formatversion": "2"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def call(
    session: aiohttp.ClientSession, peer: ActionApiPeer, **params: str
) -> tuple[int, dict[str, str], Any]:
    async with session.get(peer.url, params={**BASE, **params}) as response:
        text = await response.text()
        return response.status, dict(response.headers), json.loads(text)


async def test_revisions_by_revids_have_both_slots_and_badrevids(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    text = wikitext("memucho_artwork_school_of_athens.wikitext")
    revid = peer.add_page("File:School of Athens.jpg", text, mediainfo_slot(), user="Museum").revid

    _, _, body = await call(
        session,
        peer,
        action="query",
        prop="revisions",
        revids=f"{revid}|424242",
        rvslots="*",
        rvprop="ids|timestamp|user|comment|tags|flags|size|slotsha1|content|contentmodel|roles",
    )

    assert body["batchcomplete"] is True
    assert body["query"]["badrevids"] == {"424242": {"revid": 424242, "missing": True}}
    [page] = body["query"]["pages"]
    assert (page["ns"], page["title"]) == (6, "File:School of Athens.jpg")
    [revision] = page["revisions"]
    assert revision["revid"] == revid and revision["parentid"] == 0 and revision["user"] == "Museum"
    assert (
        revision["roles"] == ["main", "mediainfo"] and revision["tags"] == [] and revision["minor"] is False
    )
    main, mediainfo = revision["slots"]["main"], revision["slots"]["mediainfo"]
    assert (main["contentmodel"], main["contentformat"], main["content"]) == ("wikitext", "text/x-wiki", text)
    assert mediainfo["contentmodel"] == "wikibase-mediainfo" and isinstance(mediainfo["content"], str)
    assert json.loads(mediainfo["content"]) == json.loads(mediainfo_slot())
    assert len(main["sha1"]) == 40 and main["sha1"] != mediainfo["sha1"]


async def test_without_rvslots_the_legacy_shape_and_a_warning(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    peer.add_page("File:Legacy.jpg", "text", {"type": "mediainfo"})

    _, _, body = await call(
        session, peer, action="query", prop="revisions", titles="File:Legacy.jpg", rvprop="content"
    )

    [revision] = body["query"]["pages"][0]["revisions"]
    assert revision == {"contentformat": "text/x-wiki", "contentmodel": "wikitext", "content": "text"}
    assert "legacy format" in body["warnings"]["main"]["warnings"]


async def test_more_than_50_values_is_toomanyvalues(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    status, headers, body = await call(
        session, peer, action="query", prop="revisions", revids="|".join(str(n) for n in range(1, 52))
    )
    assert status == 200 and headers["MediaWiki-API-Error"] == "toomanyvalues"
    assert body["error"]["code"] == "toomanyvalues" and body["error"]["limit"] == 50
    assert body["error"]["info"] == 'Too many values supplied for parameter "revids". The limit is 50.'
    assert "docref" in body["error"]


async def test_titles_normalised_missing_and_redirected(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    peer.add_page("File:Old.jpg", "x")
    peer.move("File:Old.jpg", "File:New.jpg")

    _, _, body = await call(
        session,
        peer,
        action="query",
        prop="info",
        redirects="1",
        titles="file:old.jpg|Image:Nothing_here.jpg",
    )

    query = body["query"]
    assert query["normalized"] == [
        {"fromencoded": False, "from": "file:old.jpg", "to": "File:Old.jpg"},
        {"fromencoded": False, "from": "Image:Nothing_here.jpg", "to": "File:Nothing here.jpg"},
    ]
    assert query["redirects"] == [{"from": "File:Old.jpg", "to": "File:New.jpg"}]
    missing, found = query["pages"]
    assert missing == {"ns": 6, "title": "File:Nothing here.jpg", "missing": True}
    assert found["title"] == "File:New.jpg" and found["lastrevid"] == peer.page("File:New.jpg").latest.revid
    assert "redirect" not in found


async def test_categorymembers_continue_tokens_are_opaque_and_checked(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    peer.max_limit = 3
    for n in range(5):
        peer.add_page(f"File:Item {n}.jpg", "[[Category:Museum]]")
    peer.add_page("Category:Museum sub", "[[Category:Museum]]")

    _, _, first = await call(
        session,
        peer,
        action="query",
        list="categorymembers",
        cmtitle="Category:Museum",
        cmtype="file",
        cmlimit="max",
    )
    assert [m["title"] for m in first["query"]["categorymembers"]] == [f"File:Item {n}.jpg" for n in range(3)]
    cont = first["continue"]
    assert set(cont) == {"cmcontinue", "continue"} and first["batchcomplete"] is True
    _, _, second = await call(
        session,
        peer,
        action="query",
        list="categorymembers",
        cmtitle="Category:Museum",
        cmtype="file",
        cmlimit="max",
        **cont,
    )
    assert [m["title"] for m in second["query"]["categorymembers"]] == ["File:Item 3.jpg", "File:Item 4.jpg"]
    assert "continue" not in second

    _, headers, tampered = await call(
        session,
        peer,
        action="query",
        list="categorymembers",
        cmtitle="Category:Museum",
        cmcontinue="file|zz",
        **{"continue": "-||"},
    )
    assert tampered["error"]["code"] == "badcontinue" and headers["MediaWiki-API-Error"] == "badcontinue"
    _, _, subcats = await call(session, peer, action="query", list="categorymembers", cmtitle="Museum")
    assert subcats["error"]["code"] == "invalidcategory"


async def test_unknown_things_are_refused_or_warned_about(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    _, _, action = await call(session, peer, action="frobnicate")
    assert action["error"]["code"] == "badvalue" and '"action": frobnicate' in action["error"]["info"]
    _, _, listing = await call(session, peer, action="query", list="allthethings")
    assert listing["error"]["code"] == "badvalue"
    _, _, limit = await call(session, peer, action="query", list="recentchanges", rclimit="lots")
    assert limit["error"]["code"] == "badinteger"
    _, _, stray = await call(
        session, peer, action="query", list="recentchanges", rcprop="title|bogus", foo="1"
    )
    assert stray["warnings"]["main"]["warnings"] == "Unrecognized parameter: foo."
    assert (
        'Unrecognized value for parameter "rcprop": bogus' in stray["warnings"]["recentchanges"]["warnings"]
    )
    async with session.get(peer.url, params={"action": "query", "format": "json"}) as response:
        assert (await response.json())["error"]["code"] == "badvalue"  # formatversion=2 is required here


async def test_maxlag_fault_looks_like_mediawiki(peer: ActionApiPeer, session: aiohttp.ClientSession) -> None:
    peer.fail_maxlag(times=1, lag=7)

    _, _, served = await call(session, peer, action="query", list="recentchanges")  # no maxlag: not affected
    status, headers, body = await call(session, peer, action="query", list="recentchanges", maxlag="5")
    _, _, after = await call(session, peer, action="query", list="recentchanges", maxlag="5")

    assert "error" not in served and "error" not in after
    assert status == 200
    assert headers["Retry-After"] == "7" and headers["X-Database-Lag"] == "7"
    assert headers["MediaWiki-API-Error"] == "maxlag"
    assert body["error"]["code"] == "maxlag" and body["error"]["lag"] == 7
    assert body["error"]["info"].endswith(": 7 seconds lagged.")


async def test_http_faults_and_recording(peer: ActionApiPeer, session: aiohttp.ClientSession) -> None:
    peer.fail_http(429, retry_after="3")
    peer.fail_http(503)
    statuses = []
    for _ in range(3):
        async with session.get(
            peer.url, params={**BASE, "action": "query"}, headers={"User-Agent": "probe/1"}
        ) as r:
            statuses.append((r.status, r.headers.get("Retry-After")))
    assert statuses == [(429, "3"), (503, None), (200, None)]
    assert [r.user_agent for r in peer.requests] == ["probe/1"] * 3
    assert all(r.params["action"] == "query" and r.method == "GET" for r in peer.requests)


async def test_post_requests_and_gzip(peer: ActionApiPeer, session: aiohttp.ClientSession) -> None:
    peer.add_page("File:Posted.jpg", "x")
    form = {**BASE, "action": "query", "prop": "info", "titles": "File:Posted.jpg"}
    async with session.post(peer.url, data=form, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers.get("Content-Encoding") == "gzip"
        body = await response.json()
    assert body["query"]["pages"][0]["pageid"] == peer.page("File:Posted.jpg").pageid
    assert peer.requests[-1].method == "POST" and peer.requests[-1].params["titles"] == "File:Posted.jpg"


async def test_wbgetentities_labels_and_mediainfo(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    peer.add_entity("Q42", {"en": "Douglas Adams", "sv": "Douglas Adams (sv)", "de": "D. A."})
    page = peer.add_page(
        "File:With SDC.jpg", "x", {"type": "mediainfo", "id": "M0", "labels": {}, "statements": []}
    )

    _, _, body = await call(
        session, peer, action="wbgetentities", ids=f"Q42|Q7|M{page.pageid}", props="labels", languages="sv|en"
    )

    assert body["success"] == 1
    entities = body["entities"]
    assert entities["Q42"]["labels"] == {
        "en": {"language": "en", "value": "Douglas Adams"},
        "sv": {"language": "sv", "value": "Douglas Adams (sv)"},
    }
    assert entities["Q7"] == {"id": "Q7", "missing": ""}
    assert entities[f"M{page.pageid}"]["type"] == "mediainfo"
    _, _, bad = await call(session, peer, action="wbgetentities", ids="nonsense")
    assert bad["error"]["code"] == "no-such-entity"


async def test_runs_as_a_process_with_a_data_file(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    data = {
        "pages": [
            {
                "title": "File:From file.jpg",
                "wikitext": "[[Category:Loaded]]",
                "user": "Museum",
                "edits": [{"wikitext": "[[Category:Loaded]] edited", "user": "Someone", "comment": "c"}],
            },
        ],
        "entities": {"Q1": {"labels": {"en": "one"}}},
    }
    scenario = tmp_path / "wiki.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watcher.demo.standins.action_api",
        "--data",
        str(scenario),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/w/api.php")
        params = {**BASE, "action": "query", "list": "categorymembers", "cmtitle": "Category:Loaded"}
        async with session.get(url, params=params) as response:
            members = (await response.json())["query"]["categorymembers"]
        assert [m["title"] for m in members] == ["File:From file.jpg"]
        params = {
            **BASE,
            "action": "query",
            "prop": "revisions",
            "titles": "File:From file.jpg",
            "rvprop": "user",
        }
        async with session.get(url, params=params) as response:
            assert (await response.json())["query"]["pages"][0]["revisions"] == [{"user": "Someone"}]
    finally:
        assert await stop_process(process, 30) == 0


async def test_props_of_titles_that_do_not_exist_are_answered_not_failed(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    """The demo's template-redirect look-up names templates its wiki lacks: a page list, no stand-in error."""
    status, headers, body = await call(
        session,
        peer,
        action="query",
        prop="redirects",
        titles="Template:Nowhere",
        rdnamespace="10",
        rdlimit="max",
    )
    assert status == 200 and "MediaWiki-API-Error" not in headers and "warnings" not in body, body
    assert body["query"]["pages"] == [{"ns": 10, "title": "Template:Nowhere", "missing": True}]
