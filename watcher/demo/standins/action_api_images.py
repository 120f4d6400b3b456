"""Files' pictures on the Action API stand-in: imageinfo's ``url``/``thumburl``, and the images behind them.

As on Commons (``includes/filerepo/file/File.php``, ``FileRepo::getHashPath``), a file's original is at
``<upload>/wikipedia/commons/<a>/<ab>/<Name>`` and a thumbnail at
``<upload>/wikipedia/commons/thumb/<a>/<ab>/<Name>/<W>px-<Name>``, ``<a>``/``<ab>`` being the first hex
digits of the MD5 of the name (underscores for spaces). The stand-in is its own upload host: it serves
those paths from the same loopback origin as its ``api.php``, with the picture the wiki holds for the
file (:attr:`~watcher.demo.standins.action_api_wiki.Wiki.pictures`, or a placeholder), as the PNG it is
(a thumbnail path gets the picture as it is, not scaled). ``/wiki/Special:FilePath/<Name>?width=N``
redirects to the thumbnail, as the real page does. As the real API does, a width at least the
picture's own gives the original's URL and size.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from watcher.demo.standins.action_api_wiki import FakePage, Wiki
from watcher.demo.standins.pictures import content_type, png_size

__all__ = ["UPLOAD_PATH", "add_picture_routes", "picture_of", "url_fields"]

UPLOAD_PATH = "/wikipedia/commons/"
FILEPATH_PATH = "/wiki/Special:FilePath/"


@cache
def placeholder() -> bytes:
    return resources.files("watcher.demo").joinpath("data", "thumbs", "placeholder.png").read_bytes()


def picture_of(wiki: Wiki, page: FakePage) -> bytes:
    """The picture the wiki shows for a file page: its own, or the placeholder."""
    return wiki.pictures.get(page.title) or placeholder()


def _hash_path(name: str) -> str:
    digest = hashlib.md5(name.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{digest[0]}/{digest[:2]}/"


def url_fields(wiki: Wiki, page: FakePage, width: int | None) -> dict[str, Any]:
    """``url``, ``descriptionurl`` and, with ``iiurlwidth``, ``thumburl``/``thumbwidth``/``thumbheight``."""
    name = page.title.split(":", 1)[1].replace(" ", "_")
    quoted = quote(name, safe="(),!*-._~")
    base = f"{wiki.upload_origin}{UPLOAD_PATH}"
    original = f"{base}{_hash_path(name)}{quoted}"
    out: dict[str, Any] = {"url": original, "descriptionurl": f"{wiki.upload_origin}/wiki/File:{quoted}"}
    if width is None:
        return out
    size = png_size(picture_of(wiki, page)) or (width, width)
    if width >= size[0]:  # MediaWiki does not scale up: the original is the thumbnail
        out.update(thumburl=original, thumbwidth=size[0], thumbheight=size[1])
    else:
        out.update(
            thumburl=f"{base}thumb/{_hash_path(name)}{quoted}/{width}px-{quoted}",
            thumbwidth=width,
            thumbheight=max(1, round(size[1] * width / size[0])),
        )
    return out


def _file_page(wiki: Wiki, name: str) -> FakePage | None:
    page = wiki.pages.get(f"File:{name.replace('_', ' ')}")  # aiohttp has decoded the path
    return page if page is not None and page.files else None


def add_picture_routes(app: web.Application, wiki: Wiki) -> None:
    """The upload paths and Special:FilePath, answered from ``wiki``."""

    async def upload(request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].split("/")
        # <a>/<ab>/<Name>, or thumb/<a>/<ab>/<Name>/<W>px-<Name>
        name = parts[3] if parts[:1] == ["thumb"] and len(parts) == 5 else parts[2] if len(parts) == 3 else ""
        page = _file_page(wiki, name) if name else None
        if page is None:
            return web.Response(status=404, text="404 Not Found", content_type="text/plain")
        data = picture_of(wiki, page)
        headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
        return web.Response(body=data, content_type=content_type(data), headers=headers)

    async def filepath(request: web.Request) -> web.StreamResponse:
        page = _file_page(wiki, request.match_info["name"])
        if page is None:
            return web.Response(status=404, text="No such file", content_type="text/plain")
        try:
            width = int(request.query.get("width", "")) if request.query.get("width") else None
        except ValueError:
            width = None
        fields = url_fields(wiki, page, width)
        raise web.HTTPFound(fields.get("thumburl", fields["url"]))

    app.router.add_route("GET", UPLOAD_PATH + "{tail:.+}", upload)
    app.router.add_route("GET", FILEPATH_PATH + "{name:.+}", filepath)
