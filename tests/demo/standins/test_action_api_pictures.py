"""The stand-in as its own upload host: imageinfo's url/thumburl, the PNG pictures behind them, and
the pictures shipped for the demo (real PNG files, made by watcher.demo.standins.pictures)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import aiohttp
import pytest

from watcher.demo.session import FILES, PICTURES, picture
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_images import placeholder
from watcher.demo.standins.pictures import DRAWINGS, content_type, encode_png, png_size

BASE = {"format": "json", "formatversion": "2", "action": "query", "prop": "imageinfo"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def imageinfo(session: aiohttp.ClientSession, peer: ActionApiPeer, **params: str) -> dict[str, Any]:
    async with session.get(peer.url, params={**BASE, **params}) as response:
        body: dict[str, Any] = json.loads(await response.text())
    assert "warnings" not in body, body
    info: dict[str, Any] = body["query"]["pages"][0]["imageinfo"][0]
    return info


async def test_imageinfo_urls_point_at_pictures_the_stand_in_serves(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    peer.add_page("File:Example.jpg", "text")
    peer.pictures["File:Example.jpg"] = picture("crassula.png")
    info = await imageinfo(session, peer, titles="File:Example.jpg", iiprop="url|sha1", iiurlwidth="120")
    origin = peer.upload_origin
    assert origin and peer.url.startswith(origin)
    # Commons' hash path (the first hex digits of the MD5 of the name), as for the real file at
    # https://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg
    assert info["url"] == f"{origin}/wikipedia/commons/a/a9/Example.jpg"
    assert info["thumburl"] == f"{origin}/wikipedia/commons/thumb/a/a9/Example.jpg/120px-Example.jpg"
    assert (info["thumbwidth"], info["thumbheight"]) == (120, 90) and len(info["sha1"]) == 40
    assert info["descriptionurl"] == f"{origin}/wiki/File:Example.jpg"
    for url in (info["thumburl"], info["url"]):
        async with session.get(url) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "image/png"
            assert await response.read() == picture("crassula.png")
    plain = await imageinfo(session, peer, titles="File:Example.jpg", iiprop="url")
    assert set(plain) == {"url", "descriptionurl"}  # no width asked: no thumbnail


async def test_files_without_a_picture_show_the_placeholder_and_filepath_redirects(
    peer: ActionApiPeer, session: aiohttp.ClientSession
) -> None:
    peer.add_page("File:Plain (1).jpg", "text")
    peer.add_page("Category:Not a file", "")
    info = await imageinfo(session, peer, titles="File:Plain (1).jpg", iiprop="url", iiurlwidth="240")
    assert info["thumburl"] == info["url"]  # 240 is the placeholder's own width: not scaled up
    async with session.get(info["url"]) as response:
        assert response.status == 200 and await response.read() == placeholder()
    async with session.get(
        f"{peer.upload_origin}/wiki/Special:FilePath/Plain_(1).jpg?width=120", allow_redirects=False
    ) as response:
        assert response.status == 302 and response.headers["Location"].endswith("/120px-Plain_(1).jpg")
    for missing in (
        "/wikipedia/commons/0/0a/Nothing.jpg",
        "/wikipedia/commons/x",
        "/wiki/Special:FilePath/Nothing.jpg",
    ):
        async with session.get(peer.upload_origin + missing) as response:
            assert response.status == 404, missing


def chunks_of(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, each CRC checked."""
    found, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        found.append((kind, body))
        at += 12 + length
    return found


def test_the_shipped_pictures_are_real_pngs_of_what_each_file_shows() -> None:
    folder = resources.files("watcher.demo").joinpath("data", "thumbs")
    assert sorted(p.name for p in folder.iterdir()) == sorted(DRAWINGS)
    assert len(PICTURES) == len(FILES) and set(PICTURES) < set(DRAWINGS)
    for name in DRAWINGS:
        data = folder.joinpath(name).read_bytes()
        assert content_type(data) == "image/png" and png_size(data) == (240, 180), name
        kinds = [kind for kind, _ in chunks_of(data)]
        assert kinds == [b"IHDR", b"IDAT", b"IEND"], name
        pixels = zlib.decompress(dict(chunks_of(data))[b"IDAT"])
        assert len(pixels) == 180 * (1 + 3 * 240) and len(set(pixels[1::721])) > 1, name  # not one colour
        assert len(data) < 20_000, name
    assert DRAWINGS["crassula.png"]() == folder.joinpath("crassula.png").read_bytes()  # made by the script


def test_the_encoder_refuses_a_wrong_pixel_count_and_reads_back_its_size() -> None:
    data = encode_png(2, 1, [(255, 0, 0), (0, 0, 255)])
    assert (
        png_size(data) == (2, 1)
        and zlib.decompress(dict(chunks_of(data))[b"IDAT"]) == b"\x00\xff\x00\x00\x00\x00\xff"
    )
    with pytest.raises(ValueError):
        encode_png(2, 2, [(0, 0, 0)])
    assert png_size(b"GIF89a....") is None and content_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
