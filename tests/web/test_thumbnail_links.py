"""Stored thumbnail URLs on the review page (issue 15): used only where the page's Content-Security-Policy
lets them load, that is on an origin the config names; anything else falls back to Special:FilePath."""

from __future__ import annotations

from pathlib import Path

from tests.support.config import MINIMAL_CONFIG
from watcher.config import parse_config
from watcher.export.links import WikiLinks
from watcher.web.app import content_security_policy

THUMB = "https://upload.wikimedia.org/wikipedia/commons/thumb/a/a9/Example.jpg/240px-Example.jpg"


def links_for(api_url: str | None = None) -> WikiLinks:
    extra = f'\n[wiki]\napi_url = "{api_url}"\n' if api_url else ""
    return WikiLinks(parse_config(MINIMAL_CONFIG + extra, Path("/x/config.toml")))


def image_sources(links: WikiLinks) -> list[str]:
    return content_security_policy(links).split("img-src ", 1)[1].split(";", 1)[0].split()


def test_commons_thumbnails_come_from_the_upload_host_the_policy_allows() -> None:
    links = links_for()
    assert "https://upload.wikimedia.org" in image_sources(links)
    assert links.thumbnail("File:Example.jpg", stored=THUMB) == THUMB
    assert links.allows_image("https://UPLOAD.wikimedia.org:443/wikipedia/commons/a/a9/Example.jpg")
    fallback = "https://commons.wikimedia.org/wiki/Special:FilePath/Example.jpg?width=120"
    assert links.thumbnail("File:Example.jpg") == fallback
    for hostile in (
        "https://evil.example/wikipedia/commons/a/a9/Example.jpg",  # a host the config does not name
        "http://upload.wikimedia.org/x.jpg",  # another scheme is another origin
        "javascript:alert(1)",
        "//upload.wikimedia.org/x.jpg",
        "https://user@upload.wikimedia.org/x.jpg",
        'https://upload.wikimedia.org/x.jpg" onerror="alert(1)',
        "https://upload.wikimedia.org/a b.jpg",
        "https://upload.wikimedia.org:99999/x.jpg",
        "https://upload.wikimedia.org.evil.example/x.jpg",
    ):
        assert not links.allows_image(hostile), hostile
        assert links.thumbnail("File:Example.jpg", stored=hostile) == fallback


def test_a_wiki_that_serves_its_own_uploads_like_the_demo_stand_in() -> None:
    links = links_for("http://127.0.0.1:8751/w/api.php")
    assert image_sources(links) == ["'self'", "http://127.0.0.1:8751"]
    own = "http://127.0.0.1:8751/wikipedia/commons/thumb/a/a9/Example.jpg/240px-Example.jpg"
    assert links.thumbnail("File:Example.jpg", stored=own) == own
    assert not links.allows_image("http://127.0.0.1:8752/wikipedia/commons/a/a9/Example.jpg")
    assert not links.allows_image(THUMB)  # not a Wikimedia wiki: its policy does not name that host
