"""The stand-in's mutable wiki: mutations keep pages, logs and recent changes consistent, and the less
common query modes (single-page revision enumeration, cmsort=timestamp, move without redirect)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from watcher.demo.standins.action_api import ActionApiPeer, UsageError
from watcher.demo.standins.action_api_titles import InvalidTitle, base36, normalize_title
from watcher.demo.standins.action_api_wiki import Wiki

BASE = {"format": "json", "formatversion": "2"}


def ask(peer: ActionApiPeer, **params: str) -> dict[str, Any]:
    """The answer without HTTP: these tests are about the content, not the transport."""
    try:
        return peer.answer({**BASE, **params})
    except UsageError as error:
        return {"error": error.body(peer.url)}


def test_title_normalisation() -> None:
    assert normalize_title("file:a_b  c.jpg") == "File:A b c.jpg"
    assert normalize_title("Image:x.png") == "File:X.png"
    assert normalize_title("museum", 14) == "Category:Museum"
    assert normalize_title("Category:Museum", 14) == "Category:Museum"
    assert normalize_title("Unknown prefix:x") == "Unknown prefix:x"
    with pytest.raises(InvalidTitle):
        normalize_title("File:a|b")
    with pytest.raises(InvalidTitle):
        normalize_title("File:")


def test_base36_matches_mediawiki_width() -> None:
    assert base36("0" * 40) == "0" * 31
    assert len(base36("f" * 40)) == 31 and int(base36("f" * 40), 36) == 2**160 - 1
    assert int(base36("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"), 36) == int(
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", 16
    )


def test_edit_keeps_slots_and_logs_categorisation() -> None:
    wiki = Wiki()
    first = wiki.add_page("File:X.jpg", "[[Category:A]]", {"type": "mediainfo"}, user="Museum")
    second = wiki.edit("File:X.jpg", "[[Category:B]]", user="Editor", bot=True)
    third = wiki.edit("File:X.jpg", mediainfo='{"type":"mediainfo","labels":{}}', user="Editor")

    assert wiki.revisions[second].mediainfo == first.mediainfo  # a slot left out is kept
    assert wiki.revisions[third].wikitext == "[[Category:B]]"
    assert wiki.revisions[third].parentid == second
    categorize = [(c.title, c.comment, c.bot) for c in wiki.changes if c.type == "categorize"]
    assert categorize == [
        ("Category:A", "[[:File:X.jpg]] added to category", False),
        ("Category:B", "[[:File:X.jpg]] added to category", True),
        ("Category:A", "[[:File:X.jpg]] removed from category", True),
    ]
    assert [(e.type, e.action, e.user) for e in wiki.logs] == [("upload", "upload", "Museum")]


async def test_move_without_redirect_and_delete(peer: ActionApiPeer) -> None:
    peer.add_page("File:Before.jpg", "[[Category:Museum]]")
    pageid = peer.page("File:Before.jpg").pageid
    peer.move("File:Before.jpg", "File:After.jpg", leave_redirect=False)

    pages = ask(peer, action="query", prop="info", redirects="1", titles="File:Before.jpg|File:After.jpg")
    assert [(p["title"], p.get("missing", False), p.get("pageid")) for p in pages["query"]["pages"]] == [
        ("File:Before.jpg", True, None),
        ("File:After.jpg", False, pageid),
    ]
    log = ask(peer, action="query", list="logevents", letype="move")["query"]["logevents"]
    assert log[0]["params"] == {"target_ns": 6, "target_title": "File:After.jpg", "suppressredirect": True}
    assert log[0]["title"] == "File:Before.jpg" and log[0]["logpage"] == pageid

    peer.delete("File:After.jpg")
    gone = ask(peer, action="query", prop="info", titles="File:After.jpg")["query"]["pages"]
    assert gone == [{"ns": 6, "title": "File:After.jpg", "missing": True}]
    members = ask(peer, action="query", list="categorymembers", cmtitle="Category:Museum")
    assert members["query"]["categorymembers"] == []


async def test_single_page_revision_enumeration(peer: ActionApiPeer) -> None:
    peer.add_page("File:Many.jpg", "r0", timestamp="2026-01-01T00:00:00Z")
    revids = [
        peer.edit("File:Many.jpg", f"r{n}", timestamp=f"2026-01-0{n + 1}T00:00:00Z") for n in range(1, 5)
    ]
    params = {
        "action": "query",
        "prop": "revisions",
        "titles": "File:Many.jpg",
        "rvprop": "ids|content",
        "rvslots": "main",
        "rvdir": "newer",
        "rvstart": "2026-01-02T00:00:00Z",
        "rvlimit": "2",
    }

    first = ask(peer, **params)
    second = ask(peer, **params, **first["continue"])

    assert "batchcomplete" not in first and set(first["continue"]) == {"rvcontinue", "continue"}
    assert [r["revid"] for r in first["query"]["pages"][0]["revisions"]] == revids[:2]
    assert [r["revid"] for r in second["query"]["pages"][0]["revisions"]] == revids[2:]
    assert second["query"]["pages"][0]["revisions"][-1]["slots"]["main"]["content"] == "r4"
    assert second["batchcomplete"] is True and "continue" not in second
    peer.add_page("File:Other.jpg", "x")
    mixed = ask(peer, **{**params, "titles": "File:Many.jpg|File:Other.jpg"})
    assert mixed["error"]["code"] == "invalidparammix"


async def test_categorymembers_by_timestamp_ignores_cmtype(peer: ActionApiPeer) -> None:
    peer.add_page("File:Early.jpg", "[[Category:Museum]]", timestamp="2026-01-01T00:00:00Z")
    peer.add_page("Category:Museum sub", "[[Category:Museum]]", timestamp="2026-02-01T00:00:00Z")
    peer.add_page("File:Late.jpg", "x", timestamp="2026-02-02T00:00:00Z")
    peer.add_to_category("File:Late.jpg", "Museum", timestamp="2026-03-01T00:00:00Z")

    answer = ask(
        peer,
        action="query",
        list="categorymembers",
        cmtitle="Category:Museum",
        cmtype="file",
        cmsort="timestamp",
        cmdir="newer",
        cmstart="2026-01-15T00:00:00Z",
        cmprop="title|timestamp",
    )

    assert answer["query"]["categorymembers"] == [
        {"ns": 14, "title": "Category:Museum sub", "timestamp": "2026-02-01T00:00:00Z"},
        {"ns": 6, "title": "File:Late.jpg", "timestamp": "2026-03-01T00:00:00Z"},
    ]


async def test_upload_overwrite_and_imageinfo_history(peer: ActionApiPeer) -> None:
    peer.add_page("File:Scan.tif", "", user="Museum", sha1="1" * 40)
    peer.upload("File:Scan.tif", "2" * 40, user="Restorer", comment="better scan")
    logid = peer.upload("File:New upload.tif", "3" * 40, user="Museum", wikitext="{{Information}}")

    log = ask(peer, action="query", list="logevents", letype="upload", ledir="newer")["query"]["logevents"]
    assert [(e["title"], e["action"], e["user"]) for e in log] == [
        ("File:Scan.tif", "upload", "Museum"),
        ("File:Scan.tif", "overwrite", "Restorer"),
        ("File:New upload.tif", "upload", "Museum"),
    ]
    assert log[-1]["logid"] == logid and log[1]["params"]["img_sha1"] == base36("2" * 40)
    info = ask(
        peer, action="query", prop="imageinfo", titles="File:Scan.tif", iiprop="sha1|user", iilimit="5"
    )
    assert info["query"]["pages"][0]["imageinfo"] == [
        {"sha1": "2" * 40, "user": "Restorer"},
        {"sha1": "1" * 40, "user": "Museum"},
    ]
    assert peer.page("File:New upload.tif").latest.wikitext == "{{Information}}"


async def test_a_stand_in_bug_answers_as_an_internal_api_error(peer: ActionApiPeer) -> None:
    peer.add_page("File:X.jpg", "x")
    peer.page("File:X.jpg").revisions.clear()  # corrupt the model on purpose
    params = {**BASE, "action": "query", "prop": "info", "titles": "File:X.jpg"}
    async with aiohttp.ClientSession() as session, session.get(peer.url, params=params) as response:
        assert response.status == 200
        assert response.headers["MediaWiki-API-Error"] == "internal_api_error_IndexError"
        body = await response.json()
    assert body["error"]["info"].startswith("[stand-in] IndexError")
