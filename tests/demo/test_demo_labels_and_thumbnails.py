"""Issue 15 in the demo: the labels its changes need come from the stand-in (playing Wikidata) and are
cached before the queue is shown; every changed file has a thumbnail the review page may load."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from tests.support.ports import free_port
from watcher.config import load_config
from watcher.demo.run import run_demo
from watcher.demo.session import FILES, wikidata_labels
from watcher.export.links import WikiLinks
from watcher.pipeline.labels import unlabelled_entities
from watcher.store import Database
from watcher.store.labels import cached_labels
from watcher.store.thumbnails import thumbnails
from watcher.web.app import content_security_policy


async def test_the_demo_shows_labels_and_thumbnails(tmp_path: Path) -> None:
    out = io.StringIO()
    assert await run_demo(stop_after_replay=True, web_port=free_port(), out=out, folder=tmp_path) == 0
    config = load_config(tmp_path / "config.toml")
    assert config.labels.languages == ("sv", "en") and config.labels.api_url == config.wiki.api_url
    async with Database.open(config.database) as db:
        statements = await db.fetchall("SELECT property, new, file FROM changes WHERE field = 'statement'")
        assert [tuple(r) for r in statements] == [("P180", "Q5593", next(t for t in FILES if "Picasso" in t))]
        assert await cached_labels(db, ["P180", "Q5593"], config.labels.languages) == {
            "P180": "depicts",
            "Q5593": "Pablo Picasso",
        }
        assert (await unlabelled_entities(db, config.labels.languages))[0] == set()
        changed = {
            r[0] for r in await db.fetchall("SELECT DISTINCT file FROM changes WHERE kind = 'content'")
        }
        stored = await thumbnails(db, changed)
    assert set(wikidata_labels()) == {"P180", "Q5593"}  # the demo ships what its changes name, no more
    assert changed and set(stored) == changed
    links = WikiLinks(config)
    policy = content_security_policy(links)
    for title, url in stored.items():
        assert links.allows_image(url) and links.thumbnail(title, stored=url) == url
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" in policy.split("img-src ", 1)[1].split(";", 1)[0]
    # The stand-in is gone with the demo: nothing of these addresses reaches beyond this machine.
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in stored.values())
    assert "nothing goes to the internet" in out.getvalue()


async def test_the_demo_pictures_load_while_it_serves(tmp_path: Path) -> None:
    """While the demo runs (its wiki up), a stored thumbnail is a PNG the browser can load."""
    out = io.StringIO()
    task = asyncio.create_task(run_demo(web_port=free_port(), out=out, folder=tmp_path))
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while "Review page:" not in out.getvalue():
            assert not task.done(), out.getvalue()[-2000:]
            assert asyncio.get_running_loop().time() < deadline, out.getvalue()[-2000:]
            await asyncio.sleep(0.1)
        config = load_config(tmp_path / "config.toml")
        async with Database.open(config.database) as db:
            stored = await thumbnails(db, FILES)
        # Special:FilePath too (the page's fallback where no thumbnail is stored) redirects to a picture.
        filepaths = [WikiLinks(config).thumbnail(title) for title in FILES]
        assert len(stored) == len(FILES)
        async with aiohttp.ClientSession() as session:
            for url in [*stored.values(), *filepaths]:
                async with session.get(url) as response:
                    assert response.status == 200 and response.headers["Content-Type"] == "image/png"
                    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
