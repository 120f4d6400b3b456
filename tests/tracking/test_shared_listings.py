"""A source two collections track (the same category, its subcategories, the same uploader) is listed
from the API once a resolution, and each collection still gets every file of it as its own reason."""

from __future__ import annotations

from pathlib import Path

from tests.support.config import USER_AGENT
from tests.support.core import QuietProgress
from watcher.config import parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.tracking.collections import CollectionsResolver
from watcher.tracking.resolver import TrackedSet

CONFIG = f"""[watcher]
user_agent = "{USER_AGENT}"
[[collection]]
name = "prints"
title = "Prints"
categories = ["Category:Nordic prints"]
category_depth = 1
uploaders = ["Museum bot"]
[[collection]]
name = "photos"
title = "Photographs"
categories = ["Category:Nordic prints"]
category_depth = 1
uploaders = ["Museum bot"]
[[collection]]
name = "archive"
title = "Archive"
categories = ["Category:Nordic prints"]
"""


async def reasons(db: Database) -> dict[str, set[tuple[str, str, str]]]:
    rows = await db.fetchall("SELECT collection, title, source, detail FROM tracked_reasons")
    found: dict[str, set[tuple[str, str, str]]] = {}
    for row in rows:
        found.setdefault(str(row[0]), set()).add((str(row[1]), str(row[2]), str(row[3])))
    return found


async def test_a_shared_source_is_listed_once_and_held_by_each_collection(
    db: Database, tmp_path: Path
) -> None:
    config = parse_config(CONFIG, tmp_path / "config.toml")
    async with ActionApiPeer() as peer:
        peer.add_page("Category:Woodcuts", "", categories=["Category:Nordic prints"])
        for n in range(120):
            peer.add_page(
                f"File:Print {n}.jpg", "A print.", categories=["Category:Nordic prints"], user="Someone"
            )
        peer.add_page("File:Woodcut.jpg", "A woodcut.", categories=["Category:Woodcuts"], user="Someone")
        for n in range(3):
            peer.add_page(f"File:Upload {n}.jpg", "An upload.", user="Museum bot")
        async with ActionApi(peer.url, USER_AGENT, maxlag=None) as api:
            resolver = CollectionsResolver(config.collections, api, db, TrackedSet(), progress=QuietProgress)
            peer.requests.clear()
            report = await resolver.resolve_all()
            members = peer.requests_with(list="categorymembers")
            asked = {(r.params.get("cmtitle"), r.params.get("cmtype")) for r in members}
            uploads = peer.requests_with(list="logevents")
            # The root's files and its subcategory's files, once each; the subcategories of the root
            # (depth 1) asked once for the two collections with that depth.
            file_listings = [r for r in members if "file" in (r.params.get("cmtype") or "")]
            subcat_listings = [r for r in members if r.params.get("cmtype") == "subcat"]
            single = await reasons(db)
            # A second resolution lists again (a new resolution asks the API afresh), once.
            peer.requests.clear()
            await resolver.resolve_all()
            again = peer.requests_with(list="categorymembers")
    # One request per category's files (121 fit one answer): the root, which three collections track,
    # once, not three times; its subcategory once for the two collections of depth 1.
    assert sorted(str(r.params.get("cmtitle")) for r in file_listings) == [
        "Category:Nordic prints",
        "Category:Woodcuts",
    ], asked
    assert len(subcat_listings) == 1
    assert len(uploads) == 1  # the uploader two collections track
    # A later resolution asks the API afresh (what it lists may have changed), again once a source.
    assert len([r for r in again if "file" in (r.params.get("cmtype") or "")]) == 2
    prints = {(f"File:Print {n}.jpg", "category", "Category:Nordic prints") for n in range(120)}
    woodcut = ("File:Woodcut.jpg", "category", "Category:Woodcuts")
    uploaded = {(f"File:Upload {n}.jpg", "uploader", "Museum bot") for n in range(3)}
    assert single["prints"] == single["photos"] == prints | {woodcut} | uploaded
    assert single["archive"] == prints  # depth 0: not the woodcut
    assert report.files == 124
