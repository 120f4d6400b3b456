"""Hostile content from Commons, security headers, link building, and the word diff's escaping."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.queue_sample import HOSTILE_STRINGS
from tests.support.web import CONFIG_TEXT, csrf_of, queue, sign_in
from watcher.config import Config, parse_config
from watcher.diff.model import FieldChange
from watcher.export.links import WikiLinks
from watcher.store.db import Database
from watcher.web.app import create_app
from watcher.web.worddiff import MAX_TOKENS, word_diff

CSP = (  # connect-src 'self': app.js posts review forms to the page itself
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https://commons.wikimedia.org https://upload.wikimedia.org; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
WIKI = "https://commons.wikimedia.org/"


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = TagCollector()
    collector.feed(html)
    return collector.tags


def assert_headers(response: Any) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_security_headers_on_every_kind_of_response(client: TestClient[Any, Any], db: Database) -> None:
    (change,) = await queue(db)
    assert_headers(await client.get("/", allow_redirects=False))  # redirect to sign in
    assert_headers(await client.get("/login"))
    assert_headers(await client.get("/no-such-page"))
    assert_headers(await client.post("/changes/bulk", data={"action": "accept"}))  # 403
    await sign_in(client, "anna")
    for path in ("/", f"/changes/{change}", "/static/style.css", "/static/app.js"):
        response = await client.get(path)
        assert response.status == 200, path
        assert_headers(response)
    page = await client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    assert (await client.get("/static/style.css")).headers["Content-Type"].startswith("text/css")
    export = await client.post("/export", data={"csrf": await csrf_of(client), "format": "csv"})
    assert_headers(export)


async def test_hostile_values_are_inert_in_the_html(client: TestClient[Any, Any], db: Database) -> None:
    hostile = HOSTILE_STRINGS
    ids = await queue(
        db, file=f"File:{hostile[1]}.jpg", user=hostile[0], comment=hostile[2] + hostile[3], object_id=hostile[4],
        changes=[
            FieldChange(hostile[3], "changed", hostile[0], hostile[1], template=hostile[5], language=hostile[4]),
            FieldChange("description", "added", None, hostile[6] + hostile[2]),
        ],
    )  # fmt: skip
    await db.write("UPDATE changes SET note = ?, reviewer = ?", (hostile[1], hostile[0]))
    await sign_in(client, "anna")
    views: list[tuple[str, dict[str, str]]] = [
        ("/", {}),
        (f"/changes/{ids[0]}", {}),
        ("/", {"user": hostile[0], "field": hostile[3], "object": hostile[4]}),
        ("/", {"status": "all", "file": f"File:{hostile[1]}.jpg"}),
    ]
    for path, params in views:
        response = await client.get(path, params=params)
        html = await response.text()
        assert response.status == 200
        for tag, attrs in tags_of(html):
            assert tag not in ("iframe", "svg", "style", "img") or (
                tag == "img" and attrs["class"] == "thumb"
            )
            if tag == "script":
                assert attrs["src"] is not None and attrs["src"].startswith("/static/app.js")
            for name, value in attrs.items():
                assert not name.startswith("on"), (tag, name)
                assert name != "style"
                if name in ("href", "src", "action"):
                    assert value is not None
                    if value == "#main":  # the skip link
                        continue
                    assert value.startswith(("/", "?", WIKI)) and not value.startswith("//"), value
        assert "{{7*7}}" in html  # shown as text, never evaluated
        assert "&lt;script&gt;window.__pwned" in html
    thumbs = [a["src"] for t, a in tags_of(await (await client.get("/")).text()) if t == "img"]
    quoted = "%22%3E%3Cimg_src%3Dx_onerror%3D%22window.__pwned%3D2%3Balert(2)%22%3E.jpg"
    assert thumbs == [f"{WIKI}wiki/Special:FilePath/{quoted}?width=120"]


async def test_service_routes_are_public_and_unmarked_routes_are_refused(
    aiohttp_client: Any, db: Database, config: Config
) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    def add_healthz(a: web.Application) -> None:
        a.router.add_get("/healthz", healthz)

    app = create_app(db, config, extra_routes=add_healthz)
    app.router.add_get("/forgotten", healthz)  # added without an access mark, outside extra_routes
    client = await aiohttp_client(app)
    response = await client.get("/healthz")
    assert response.status == 200 and await response.text() == "ok"
    assert_headers(response)
    assert (await client.get("/forgotten")).status == 404


def test_links_come_only_from_the_configured_wiki() -> None:
    links = WikiLinks(parse_config(CONFIG_TEXT, Path("/x/config.toml")))
    for hostile in ("javascript:alert(1)", "//evil.example/x", "a?b#c&d", 'q"uote <tag>', "../../w/api.php"):
        for url in (
            links.file_page(hostile),
            links.user_page(hostile),
            links.thumbnail(hostile),
            links.history(hostile),
        ):
            assert url.startswith(WIKI)
            assert not any(ch in url for ch in '"<> #')
    assert links.file_page("File:A b.jpg") == WIKI + "wiki/File:A_b.jpg"
    assert links.user_page("203.0.113.7") == WIKI + "wiki/Special:Contributions/203.0.113.7"
    assert links.diff(12, 11) == WIKI + "w/index.php?diff=12&oldid=11"
    assert links.diff(12, None) == WIKI + "w/index.php?oldid=12"
    other = parse_config(
        CONFIG_TEXT + '[wiki]\napi_url = "https://wiki.museum.example/mw/api.php"\n', Path("/x/config.toml")
    )
    plain = WikiLinks(other)
    assert plain.file_page("File:X y.png") == "https://wiki.museum.example/mw/index.php?title=File:X_y.png"
    assert plain.thumbnail("File:X.png") == (
        "https://wiki.museum.example/mw/index.php?title=Special:FilePath/X.png&width=120"
    )
    assert plain.image_origins == ("https://wiki.museum.example",)


def test_word_diff_escapes_before_marking() -> None:
    old, new = word_diff("<b>red</b> & blue", "<b>green</b> & blue")
    assert old == "&lt;b&gt;<del>red</del>&lt;/b&gt; &amp; blue"
    assert new == "&lt;b&gt;<ins>green</ins>&lt;/b&gt; &amp; blue"
    assert word_diff(None, "<i>") == ("", "<ins>&lt;i&gt;</ins>")
    assert word_diff("x", None) == ("<del>x</del>", "")
    assert word_diff("same words", "same words") == ("same words", "same words")


def test_word_diff_of_huge_values_is_escaped_without_highlighting() -> None:
    big = "<w> " * MAX_TOKENS
    old, new = word_diff(big, big + "tail")
    assert "<del>" not in old and "<ins>" not in new
    assert new.endswith("&lt;w&gt; tail")


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_word_diff_never_lets_markup_through(value: str) -> None:
    for html in (*word_diff(value, value + " x"), *word_diff("x", value)):
        stripped = (
            str(html).replace("<del>", "").replace("</del>", "").replace("<ins>", "").replace("</ins>", "")
        )
        assert "<" not in stripped and ">" not in stripped and '"' not in stripped
