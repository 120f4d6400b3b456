"""Thumbnails in the revisions request (prop=imageinfo) and labels in every language (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.mediawiki import USER_AGENT
from watcher.demo.session import picture
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.answers import labels_by_language, thumbnail_of
from watcher.mediawiki.client import ActionApi, Thumbnail


async def test_the_revisions_request_brings_the_thumbnails_too(
    peer: ActionApiPeer, api: ActionApi, caplog: pytest.LogCaptureFixture
) -> None:
    revids = [peer.add_page(f"File:Batch {n}.jpg", f"text {n}").revid for n in range(30)]
    revids += [peer.edit(f"File:Batch {n}.jpg", f"second {n}") for n in range(30)]
    peer.pictures["File:Batch 0.jpg"] = picture("chair.png")  # 240×180
    revisions = await api.revisions(revids, thumb_width=120)

    requests = peer.requests_with(action="query")
    assert len(requests) == 2 and set(revisions) == set(revids)  # no request of their own
    assert all(
        r.params["prop"] == "revisions|imageinfo"
        and r.params["iiprop"] == "url"
        and r.params["iiurlwidth"] == "120"
        for r in requests
    )
    assert set(revisions.thumbnails) == {f"File:Batch {n}.jpg" for n in range(30)}
    thumb = revisions.thumbnails["File:Batch 0.jpg"]
    assert thumb.width == 120 and thumb.height == 90
    assert thumb.url.startswith(peer.upload_origin + "/wikipedia/commons/thumb/")
    assert thumb.url.endswith("/Batch_0.jpg/120px-Batch_0.jpg")
    assert "API warning" not in caplog.text  # every parameter is one the API knows


async def test_without_a_width_the_request_is_the_plain_revisions_one(
    peer: ActionApiPeer, api: ActionApi
) -> None:
    revid = peer.add_page("File:Plain.jpg", "text").revid
    revisions = await api.revisions([revid])
    assert revisions.thumbnails == {}
    (request,) = peer.requests_with(action="query")
    assert request.params["prop"] == "revisions" and "iiprop" not in request.params


async def test_a_width_at_least_the_pictures_gives_the_original(peer: ActionApiPeer, api: ActionApi) -> None:
    revid = peer.add_page("File:Small picture.png", "text").revid
    peer.pictures["File:Small picture.png"] = picture("crassula.png")
    thumb = (await api.revisions([revid], thumb_width=240)).thumbnails["File:Small picture.png"]
    assert (thumb.width, thumb.height) == (240, 180) and "/thumb/" not in thumb.url


def commons_page(info: Any) -> dict[str, Any]:
    """A page of a real ``prop=revisions|imageinfo&iiprop=url&iiurlwidth=240`` answer, imageinfo replaced."""
    return {"pageid": 1, "ns": 6, "title": "File:Example.jpg", "imagerepository": "shared", "imageinfo": info}


def test_thumbnails_are_taken_only_as_http_addresses() -> None:
    real: dict[str, Any] = {
        "thumburl": "https://upload.wikimedia.org/wikipedia/commons/thumb/a/a9/Example.jpg/240px-Example.jpg",
        "thumbwidth": 240,
        "thumbheight": 180,
        "url": "https://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg",
        "descriptionurl": "https://commons.wikimedia.org/wiki/File:Example.jpg",
    }
    assert thumbnail_of(commons_page([real])) == Thumbnail("File:Example.jpg", real["thumburl"], 240, 180)
    for bad in ("javascript:alert(1)", "//evil.example/x.png", "https://x.example/a b.png", 17):
        assert thumbnail_of(commons_page([{**real, "thumburl": bad}])) is None
    assert thumbnail_of(commons_page([{**real, "thumbwidth": "240", "thumbheight": True}])) == Thumbnail(
        "File:Example.jpg", real["thumburl"], None, None
    )
    assert thumbnail_of(commons_page([])) is None  # no file (a file page whose upload was deleted)
    assert thumbnail_of(commons_page(None)) is None
    assert thumbnail_of({"title": "File:Missing.jpg", "missing": True}) is None


async def test_labels_come_in_every_language_asked_for(peer: ActionApiPeer) -> None:
    peer.add_entity("Q1", {"en": "painting", "sv": "målning", "de": "Gemälde"})
    peer.add_entity("P180", {"en": "depicts"})
    for n in range(100, 160):
        peer.add_entity(f"Q{n}", {"sv": f"sak {n}"})
    ids = ["Q1", "P180", "Q999", *(f"Q{n}" for n in range(100, 160))]
    async with ActionApi(peer.url, USER_AGENT) as api:
        labels = await api.entity_labels_by_language(ids, ["sv", "en"])
    assert labels["Q1"] == {"sv": "målning", "en": "painting"}  # de was not asked for
    assert labels["P180"] == {"en": "depicts"} and labels["Q999"] == {}  # Q999: missing on the wiki
    assert len(labels) == 63 and labels["Q159"] == {"sv": "sak 159"}
    assert [len(r.params["ids"].split("|")) for r in peer.requests_with(action="wbgetentities")] == [50, 13]


def test_labels_in_an_entity_as_wikibase_sends_them() -> None:
    entity = {"labels": {"en": {"language": "en", "value": "book"}, "sv": {"language": "sv", "value": "bok"}}}
    assert labels_by_language(entity, ["sv", "fi", "en"]) == {"sv": "bok", "en": "book"}
    assert labels_by_language({"labels": []}, ["en"]) == {}  # an empty map as a list (T222159)
    assert labels_by_language({"id": "Q9", "missing": ""}, ["en"]) == {}
    assert labels_by_language({"labels": {"en": {"value": "  "}}}, ["en"]) == {}
