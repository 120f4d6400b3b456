"""The real daemon (a subprocess) against a real MediaWiki 1.39: Action API and RC feed through the bridge.

The wiki holds several hundred tracked File pages (more than the API's 500 per request, so category
continuation is exercised) and the test makes the changes a curator cares about and the noise they do not,
through the wiki's own maintenance scripts, then reads the queue the daemon wrote.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mediawiki_real.peer import RealWiki
from tests.support.harness import DaemonProcess, config_text, query, records, state, wait_for

CATEGORY = "Category:Media contributed by Example Museum"
BULK = 520  # > 500: an anonymous client gets at most 500 category members per request
ARTWORK_TITLE = "File:Midsommardans - EXM 4711.jpg"
ARTWORK = """== {{int:filedesc}} ==
{{Artwork
 |artist = {{Creator:Anders Zorn}}
 |title = {{sv|Midsommardans}}
 |description = {{sv|1=Dans vid midsommar i Mora.}}
 |date = 1897
 |institution = {{Institution:Example Museum}}
 |accession number = EXM 4711
 |source = Example Museum
}}

== {{int:license-header}} ==
{{PD-old-70}}

[[Category:Anders Zorn]]
[[Category:Media contributed by Example Museum]]
"""


def information(n: str, *, description: str | None = None, date: str = "1900", extra: str = "") -> str:
    desc = description or f"{{{{en|1=Museum object {n}}}}}"
    return (
        "== {{int:filedesc}} ==\n{{Information\n"
        f"|description={desc}\n|date={date}\n|source=Example Museum\n|author=Unknown\n}}}}\n\n"
        f"[[{CATEGORY}]]\n{extra}"
    )


def title(n: int) -> str:
    return f"File:Object - EXM {n:03d}.jpg"


def png(width: int, height: int, rgb: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + rgb * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def real_config(wiki: RealWiki, database: Path) -> str:
    """The harness config pointed at the real wiki (its own database name) and the RC feed bridge."""
    return config_text(
        wiki.api_url, wiki.bridge.url, database,
        wiki_name=wiki.name, tracking=f'categories = ["{CATEGORY}"]', read_timeout=30,
    )  # fmt: skip


@pytest.fixture(scope="module")
def museum(real_wiki: RealWiki, tmp_path_factory: pytest.TempPathFactory) -> RealWiki:
    """Several hundred tracked File pages, an artwork, and pages outside the category."""
    folder = tmp_path_factory.mktemp("pages")
    for n in range(1, BULK + 1):
        # importTextFiles takes the title from the file name without its last extension.
        (folder / f"Object - EXM {n:03d}.jpg.txt").write_text(information(f"{n:03d}"), encoding="utf-8")
    (folder / "Midsommardans - EXM 4711.jpg.txt").write_text(ARTWORK, encoding="utf-8")
    (folder / "Somebody else's photo.jpg.txt").write_text(
        "{{Information|description={{en|1=Sunrise}}}}\n[[Category:Sunrises]]\n", encoding="utf-8"
    )
    (folder / "Newcomer - EXM 900.jpg.txt").write_text(
        "{{Information|description={{en|1=A chair}}|date=1950}}\n", encoding="utf-8"
    )
    real_wiki.maint(
        "importTextFiles.php", "--prefix", "File:", "-u", "Admin", "-s", "Import museum pages",
        *sorted(str(p) for p in folder.iterdir()),
    )  # fmt: skip
    real_wiki.run_jobs()
    members = real_wiki.api(
        action="query", list="categorymembers", cmtitle=CATEGORY, cmlimit="max", cmtype="file"
    )
    assert len(members["query"]["categorymembers"]) == 500 and "continue" in members  # continuation needed
    return real_wiki


async def test_daemon_follows_a_real_mediawiki(
    museum: RealWiki, tmp_path: Path, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    wiki = museum
    stream = wiki.bridge.stream
    database = tmp_path / "state" / "watcher.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(real_config(wiki, database), encoding="utf-8")
    daemon = daemons(config, tmp_path / "daemon.log")
    connections_before = stream.connections
    await daemon.start()
    await wait_for(lambda: stream.connections > connections_before, 30, "the stream connection", daemon)

    def tracked(active_only: bool = True) -> set[str]:
        sql = "SELECT title FROM tracked_files" + (" WHERE state = 'active'" if active_only else "")
        return {row[0] for row in query(database, sql)}

    await wait_for(lambda: len(tracked()) == BULK + 1, 60, f"{BULK + 1} tracked files", daemon)
    assert "File:Somebody else's photo.jpg" not in tracked()
    resolved = [r for r in wiki.requests() if "list=categorymembers" in r and "maxlag=5" in r]
    assert any("cmcontinue=" in r for r in resolved), resolved  # the daemon followed the continuation

    # Curator-relevant changes, by people.
    wiki.edit(
        ARTWORK_TITLE,
        ARTWORK.replace(
            "{{sv|1=Dans vid midsommar i Mora.}}",
            "{{sv|1=Dans vid midsommar i Mora.}}\n{{fr|1=Danse de la Saint-Jean à Mora.}}",
        ),
        user="Admin",
        summary="fr",
    )
    wiki.edit(title(1), information("001", date="1901"), summary="date")
    wiki.edit(title(2), information("002", description="{{en|1=Museum object 002}}\n{{de|1=Museumsobjekt}}"))
    wiki.edit(title(9), information("009", description="{{en|1=Museum object nine}}"))
    wiki.edit(title(5), information("005", extra="[[Category:Chairs]]\n"), summary="add category")
    # Noise: a bot edit, a whitespace-only edit, an untracked file.
    wiki.edit(
        title(3), information("003", description="{{en|1=Museum object 003 (bot)}}"), user="CIBot", bot=True
    )
    wiki.edit(title(4), information("004").replace("|date=1900", "| date = 1900"), summary="tidy")
    wiki.edit(
        "File:Somebody else's photo.jpg",
        "{{Information|description={{en|1=Sunrise}}{{de|1=Sonnenaufgang}}}}\n[[Category:Sunrises]]\n",
    )
    wiki.edit(title(5), information("005"), summary="remove category")
    # A move, followed by an edit under the new name; a deletion.
    wiki.maint(
        "moveBatch.php", "-u", "Admin", "-r", "rename", stdin=f"{title(6)}|File:Silver cup - EXM 006.jpg\n"
    )
    wiki.edit(
        "File:Silver cup - EXM 006.jpg",
        information("006", description="{{en|1=Museum object 006}}\n{{sv|1=Silverbägare}}"),
    )
    wiki.maint("deleteBatch.php", "-u", "Admin", "-r", "duplicate", stdin=f"{title(7)}\n")
    # A file joins the tracked category (the categorize event needs the job queue), then is edited.
    wiki.edit(
        "File:Newcomer - EXM 900.jpg",
        f"{{{{Information|description={{{{en|1=A chair}}}}|date=1950}}}}\n[[{CATEGORY}]]\n",
        summary="categorise",
    )
    # An upload straight into the tracked category.
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "Museum chair - EXM 950.png").write_bytes(png(3, 3, b"\x00\x80\xff"))
    (uploads / "desc.txt").write_text(
        f"{{{{Information|description={{{{en|1=A blue chair}}}}|date=1960}}}}\n[[{CATEGORY}]]\n",
        encoding="utf-8",
    )
    wiki.maint(
        "importImages.php", "--user", "Admin", "--comment-file", str(uploads / "desc.txt"),
        "--summary", "upload", "--extensions", "png", str(uploads),
    )  # fmt: skip
    wiki.run_jobs()
    await wait_for(
        lambda: {"File:Newcomer - EXM 900.jpg", "File:Museum chair - EXM 950.png"} <= tracked(),
        30,
        "the newcomer and the upload to join",
        daemon,
    )
    wiki.edit(
        "File:Newcomer - EXM 900.jpg",
        f"{{{{Information|description={{{{en|1=A chair}}}}{{{{sv|1=En stol}}}}|date=1950}}}}\n[[{CATEGORY}]]\n",
    )
    wiki.edit(
        "File:Museum chair - EXM 950.png",
        f"{{{{Information|description={{{{en|1=A blue chair}}}}|date=1961}}}}\n[[{CATEGORY}]]\n",
    )

    expected = {
        (ARTWORK_TITLE, "description", "fr", "added", "EXM 4711"),
        (title(1), "date", None, "changed", "001"),
        (title(2), "description", "de", "added", "002"),
        (title(9), "description", "en", "changed", "009"),
        # Added, then removed again: the removal undoes the addition, which is withdrawn (issue 14).
        (title(5), "category", None, "added", "005"),
        ("File:Silver cup - EXM 006.jpg", "description", "sv", "added", "006"),
        ("File:Newcomer - EXM 900.jpg", "description", "sv", "added", "900"),
        ("File:Museum chair - EXM 950.png", "date", None, "changed", "950"),
    }

    def got() -> list[tuple[object, ...]]:
        return [
            (r["file"], r["field"], r["language"], r["action"], r["object_id"])
            for r in records(database)
            if r["kind"] == "content"
        ]

    await wait_for(lambda: set(got()) >= expected, 60, "the expected records", daemon)
    await wait_for(
        lambda: not query(database, "SELECT 1 FROM inbox WHERE state = 'pending'"),
        20,
        "an empty inbox",
        daemon,
    )
    # The noise did reach the daemon as real revisions: it made no records because of what it is.
    edits = {d["title"]: d for d in list(wiki.bridge.received) if d.get("type") == "edit"}
    assert edits[title(3)]["bot"] is True and edits[title(3)]["user"] == "CIBot"
    assert edits[title(4)]["revision"]["new"] > edits[title(4)]["revision"]["old"]
    assert "File:Somebody else's photo.jpg" in edits
    assert sorted(got(), key=str) == sorted(expected, key=str)  # each once, nothing for the noise
    assert query(database, "SELECT state FROM tracked_files WHERE title = ?", (title(7),))[0][0] == "deleted"
    assert "File:Silver cup - EXM 006.jpg" in tracked() and title(6) not in tracked()
    (undone,) = [r for r in records(database) if r["file"] == title(5) and r["field"] == "category"]
    assert undone["status"] == "withdrawn" and undone["reverted_by"] > undone["revision"]
    first = next(r for r in records(database) if r["file"] == ARTWORK_TITLE)
    assert first["user"] == "Admin" and first["new"] == "Danse de la Saint-Jean à Mora."
    assert first["old_revision"] and first["revision"] > first["old_revision"]

    # Stopped in the middle: edits made while it is down arrive after the restart, once.
    code, _ = await daemon.terminate()
    assert code == 0
    stored_id = state(database, "last_event_id")
    assert stored_id and stored_id.startswith("[")
    wiki.edit(title(10), information("010", date="{{circa|1900}}"), summary="date while down")
    wiki.edit(title(11), information("011", description="{{en|1=Museum object 011}}\n{{nl|1=Museumobject}}"))
    wiki.edit(
        title(12), information("012", description="{{en|1=Museum object 012 (bot)}}"), user="CIBot", bot=True
    )
    wiki.wait_feed(lambda d: d.get("title") == title(12), "the last edit made while the daemon was down")
    before = stream.connections
    await daemon.start()
    await wait_for(lambda: stream.connections > before, 30, "a reconnection", daemon)
    assert stream.requests[-1].last_event_id == stored_id
    after_restart = expected | {
        (title(10), "date", None, "changed", "010"),
        (title(11), "description", "nl", "added", "011"),
    }
    await wait_for(lambda: set(got()) >= after_restart, 60, "the edits made while down", daemon)
    await wait_for(
        lambda: not query(database, "SELECT 1 FROM inbox WHERE state = 'pending'"),
        20,
        "an empty inbox",
        daemon,
    )
    code, _ = await daemon.terminate()
    assert code == 0
    assert sorted(got(), key=str) == sorted(after_restart, key=str)
    dates = [r for r in records(database) if r["file"] == title(10)]
    assert (dates[0]["old"], dates[0]["new"]) == ("1900", "{{circa|1900}}")
