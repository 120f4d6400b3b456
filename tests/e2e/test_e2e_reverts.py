"""Issue 14, items 1 and 2, through `watcher run` (and `watcher history`): what Commons undid leaves the
queue, what was changed again says so.

The stand-in wiki makes reverts the way MediaWiki does (watcher.demo.standins.action_api_reverts:
rollback, undo, manual reverts, revision deletion, their tags); the daemon only ever sees the stream
and the Action API. Expected values come from the scenario (which revision undid which), never from
the code under test. On either engine (issue 20: the commands read the store the config names).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.harness import CATEGORY, DaemonProcess, Peers, aquery, config_text, peers_on, wait_for
from tests.support.ports import free_port
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import manual_revert, revision_delete, rollback, undo

VANDALISED = "File:Chair - EXM 101.jpg"
UNDONE = "File:Table - EXM 102.jpg"
MANUAL = "File:Lamp - EXM 103.jpg"
FRENCH = "File:Vase - EXM 104.jpg"
DATED = "File:Clock - EXM 105.jpg"
HIDDEN = "File:Mirror - EXM 106.jpg"
DECIDED = "File:Stool - EXM 107.jpg"
BACKLOG = "File:Bench - EXM 108.jpg"
SEAM = "File:Sofa - EXM 109.jpg"
FILES = (VANDALISED, UNDONE, MANUAL, FRENCH, DATED, HIDDEN, DECIDED, BACKLOG, SEAM)


def info(
    description: str = "{{en|1=A chair}}", *, date: str = "1900", author: str = "Unknown", more: str = ""
) -> str:
    return (
        f"{{{{Information\n|description={description}\n|date={date}\n|author={author}\n}}}}\n"
        f"[[{CATEGORY}]]\n{more}"
    )


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    api = ActionApiPeer()
    await api.start()
    api.add_page(CATEGORY, "Files shared by the Example Museum.")
    for title in FILES:
        api.add_page(title, info(), user="Example Museum")
    async with peers_on(api) as started:
        yield started


async def rows(database: Path | str, file: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in await aquery(
            database,
            """SELECT id, revision, field, language, action, old, new, status, reverted_by, superseded_by,
                      source, reviewer FROM changes WHERE file = ? ORDER BY revision, field, language""",
            (file,),
        )
    ]


async def kept(database: Path | str, file: str) -> list[tuple[Any, ...]]:
    found = await aquery(
        database,
        "SELECT revision, field, language FROM reverting_changes WHERE file = ? ORDER BY revision, field",
        (file,),
    )
    return [tuple(r) for r in found]


def summary(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["revision"], r["field"], r["language"], r["status"], r["reverted_by"], r["superseded_by"])
        for r in found
    ]


async def settled(database: Path | str, edits: int, daemon: DaemonProcess) -> None:
    """Every published edit was fetched and queued (or made no record): the inbox holds them all, done."""

    async def done() -> bool:
        found = await aquery(database, "SELECT state, count(*) FROM inbox WHERE kind = 'edit' GROUP BY state")
        states = {r[0]: r[1] for r in found}
        return states.get("done", 0) >= edits and not states.get("pending")

    await wait_for(done, 60, f"{edits} edits processed", daemon)


async def started(
    peers: Peers,
    tmp_path: Path,
    database: Path | str,
    daemons: Callable[[Path, Path], DaemonProcess],
    more: str = "",
) -> tuple[DaemonProcess, Path | str, Path]:
    config = tmp_path / "config.toml"
    config.write_text(config_text(peers.api.url, peers.stream.url, database, more=more), encoding="utf-8")
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 1, 20, "the stream connection", daemon)

    async def tracked_set() -> bool:
        return len(await aquery(database, "SELECT 1 FROM tracked_files WHERE state = 'active'")) == len(FILES)

    await wait_for(tracked_set, 20, "the tracked set", daemon)
    return daemon, database, config


async def watcher_async(config: Path, *args: str) -> tuple[int, str]:
    """A command that talks to the stand-ins, which answer on this test's event loop: never block it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", *args, "-c", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return await proc.wait(), output.decode(errors="replace")


def watcher(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A command that needs only the database."""
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args, "-c", str(config)],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_reverts_on_commons_withdraw_exactly_what_they_undid(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    daemon, database, _ = await started(peers, tmp_path, store_location, daemons)
    api = peers.api
    edits = 0

    def edit(title: str, text: str, user: str, **kw: Any) -> int:
        nonlocal edits
        edits += 1
        return api.edit(title, text, user=user, **kw)

    # A vandal's run of five edits, rolled back five edits later; other files are edited meanwhile.
    alice = edit(VANDALISED, info(date="1901"), "Alice")
    v = [edit(VANDALISED, info("{{en|1=A CHAIR LOL}}", date="1901"), "Vandal")]
    edit(DATED, info(date="1901"), "Alice")
    v.append(edit(VANDALISED, info("{{en|1=A CHAIR LOL}}", date="1999"), "Vandal"))
    v.append(edit(VANDALISED, info("{{en|1=A CHAIR LOL}}", date="1999", author="me"), "Vandal"))
    edit(DATED, info(date="c. 1901"), "Bob")
    v.append(
        edit(
            VANDALISED,
            info("{{en|1=A CHAIR LOL}}", date="1999", author="me", more="[[Category:Junk]]\n"),
            "Vandal",
        )
    )
    v.append(
        edit(
            VANDALISED,
            info("{{en|1=LOL LOL}}", date="1999", author="me", more="[[Category:Junk]]\n"),
            "Vandal",
        )
    )
    edit(DATED, info(date="circa 1901"), "Carol")  # superseded twice
    rolled = rollback(api, VANDALISED, user="Patroller")
    edits += 1
    # An undo of the middle one of three edits.
    edit(UNDONE, info(author="Bob"), "Bob")
    carol = edit(UNDONE, info(author="Bob", date="1901"), "Carol")
    dave = edit(UNDONE, info("{{en|1=A wooden table}}", author="Bob", date="1901"), "Dave")
    undid = undo(api, UNDONE, carol, user="Patroller")
    edits += 1
    # A manual revert by a third user, of one field (no tag: whoever, whatever its tags).
    lamp = edit(MANUAL, info("{{en|1=A brass lamp}}"), "Alice")
    bob = edit(MANUAL, info("{{en|1=A brass lamp}}", date="1920"), "Bob")
    erin = edit(MANUAL, info(date="1920"), "Erin")
    # Only the French description of two languages added is taken back.
    added = edit(FRENCH, info("{{en|1=A chair}}\n{{fr|1=Une chaise}}\n{{de|1=Ein Stuhl}}"), "Translator")
    removed = edit(FRENCH, info("{{en|1=A chair}}\n{{de|1=Ein Stuhl}}"), "Erin")
    peers.publish()
    await settled(database, edits, daemon)

    vandalised = await rows(database, VANDALISED)
    assert summary(vandalised) == [
        (alice, "date", None, "pending", None, None),  # superseded by the vandal, current again after
        (v[0], "description", "en", "withdrawn", rolled, v[4]),
        (v[1], "date", None, "withdrawn", rolled, None),
        (v[2], "author", None, "withdrawn", rolled, None),
        (v[3], "category", None, "withdrawn", rolled, None),
        (v[4], "description", "en", "withdrawn", rolled, None),
    ]
    assert all(r["reviewer"] == "Commons" for r in vandalised if r["status"] == "withdrawn")
    assert {r[0] for r in await kept(database, VANDALISED)} == {rolled}  # the rollback queued nothing
    assert summary(await rows(database, UNDONE)) == [
        (carol - 1, "author", None, "pending", None, None),
        (carol, "date", None, "withdrawn", undid, None),
        (dave, "description", "en", "pending", None, None),
    ]
    assert summary(await rows(database, MANUAL)) == [
        (lamp, "description", "en", "withdrawn", erin, None),
        (bob, "date", None, "pending", None, None),
    ]
    assert summary(await rows(database, FRENCH)) == [
        (added, "description", "de", "pending", None, None),
        (added, "description", "fr", "withdrawn", removed, None),
    ]
    dated = await rows(database, DATED)
    assert [(r["new"], r["status"]) for r in dated] == [
        ("1901", "pending"),
        ("c. 1901", "pending"),
        ("circa 1901", "pending"),
    ]
    assert [r["superseded_by"] for r in dated] == [dated[1]["revision"], dated[2]["revision"], None]

    # `watcher changes` leaves them out by default and lists them with --status withdrawn.
    listed = watcher(Path(daemon.config), "changes", "--format", "jsonl", "--kind", "all")
    assert listed.returncode == 0, listed.stderr
    pending = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {c["file"] for c in pending} == {VANDALISED, UNDONE, MANUAL, FRENCH, DATED}
    assert all(c["status"] == "pending" and c["reverted_by"] is None for c in pending)
    withdrawn = watcher(
        Path(daemon.config), "changes", "--format", "jsonl", "--kind", "all", "--status", "withdrawn"
    )
    assert sorted(json.loads(line)["reverted_by"] for line in withdrawn.stdout.splitlines()) == sorted(
        [rolled] * 5 + [undid, erin, removed]
    )

    # Revision deletion: a vandal's edit and the one after it are hidden before the fix is fetched.
    hidden_v = edit(HIDDEN, info("{{en|1=Call 555-0100}}"), "Vandal")
    peers.publish()
    await settled(database, edits, daemon)
    carried = edit(HIDDEN, info("{{en|1=Call 555-0100}}", date="1910"), "Alice")
    peers.publish()
    await settled(database, edits, daemon)
    assert [r["status"] for r in await rows(database, HIDDEN)] == ["pending", "pending"]
    edit(HIDDEN, info(date="1910"), "Patroller")
    revision_delete(api, HIDDEN, [hidden_v, carried], content=True)
    peers.publish()
    await settled(database, edits, daemon)
    hidden = await rows(database, HIDDEN)
    assert [(r["revision"], r["status"], r["reverted_by"]) for r in hidden] == [
        (hidden_v, "withdrawn", None),
        (carried, "withdrawn", None),
    ]
    assert "the content of" in daemon.log_text() and "was hidden on Commons" in daemon.log_text()


async def test_an_accepted_change_reverted_later_keeps_its_decision_and_says_so(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    port = free_port()
    database = store_location
    config = tmp_path / "config.toml"
    config.write_text(
        config_text(
            peers.api.url, peers.stream.url, database, more=f'\n[web]\nlisten = "127.0.0.1:{port}"\n'
        ),
        encoding="utf-8",
    )
    added = watcher(config, "user", "add", "anna", "--password-stdin", stdin="a long password\n")
    assert added.returncode == 0, added.stderr
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 1, 20, "the stream connection", daemon)

    async def tracking() -> bool:
        return bool(await aquery(database, "SELECT 1 FROM tracked_files WHERE title = ?", (DECIDED,)))

    await wait_for(tracking, 20, "tracking", daemon)
    peers.api.edit(DECIDED, info(date="1901"), user="Alice")
    peers.publish()
    await settled(database, 1, daemon)
    (change,) = await rows(database, DECIDED)
    accepted = watcher(config, "accept", str(change["id"]), "--reviewer", "anna")
    assert accepted.returncode == 0, accepted.stderr
    museum = peers.api.page(DECIDED).revisions[0].revid
    reverted = manual_revert(peers.api, DECIDED, museum, user="Bob", comment="not so")
    peers.publish()
    await settled(database, 2, daemon)
    (after,) = await rows(database, DECIDED)
    assert (after["id"], after["status"], after["reverted_by"], after["reviewer"]) == (
        change["id"],
        "accepted",
        reverted,
        "anna",
    )
    listed = watcher(config, "changes", "--format", "jsonl", "--status", "accepted")
    (record,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["reverted_by"] == reverted and record["superseded_by"] is None

    # unsafe: the jar keeps cookies of an IP address (the page on 127.0.0.1)
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{port}", cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        await wait_for_page(session)
        form = await (await session.get("/login")).text()
        token = form.split('name="login_token" value="', 1)[1].split('"', 1)[0]
        signed = await session.post(
            "/login", data={"login_token": token, "name": "anna", "password": "a long password", "next": "/"}
        )
        assert signed.status == 200
        page = await (await session.get(f"/changes/{change['id']}")).text()
    flat = " ".join(page.replace("<", " <").split())
    assert (
        "Reverted on Commons by" in flat and f"revision {reverted}" in flat and "(after you decided)" in flat
    )


async def wait_for_page(session: aiohttp.ClientSession) -> None:
    for _ in range(200):
        try:
            async with session.get("/login") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the review page never answered")


async def test_history_mode_withdraws_what_its_backlog_reverted(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    api = peers.api
    # Before the watcher ever ran: a vandal's edit and its rollback, both in the backlog …
    backlog_alice = api.edit(BACKLOG, info(date="1901"), user="Alice")
    api.edit(BACKLOG, info("{{en|1=A CHAIR LOL}}", date="1901"), user="Vandal")
    rollback(api, BACKLOG, user="Patroller")
    # … and one whose rollback comes only after the daemon started: the live path meets it first.
    api.edit(SEAM, info(date="1901"), user="Alice")
    seam_vandal = api.edit(SEAM, info("{{en|1=A SOFA LOL}}", date="1901"), user="Vandal")
    peers.bridge.published = len(api.changes)  # the past is not on the stream
    daemon, database, config = await started(peers, tmp_path, store_location, daemons)
    seam_rollback = rollback(api, SEAM, user="Patroller")
    peers.publish()
    await settled(database, 1, daemon)
    # Met alone, the rollback looks like a change of its own (LOL → the museum's text).
    assert summary(await rows(database, SEAM)) == [
        (seam_rollback, "description", "en", "pending", None, None)
    ]

    code, output = await watcher_async(config, "history")
    assert code == 0, output
    assert summary(await rows(database, BACKLOG)) == [
        (backlog_alice + 2, "date", None, "pending", None, None)
    ]
    assert (await rows(database, BACKLOG))[0]["source"] == "history"
    seam = await rows(database, SEAM)
    assert summary(seam) == [
        (seam_vandal, "date", None, "pending", None, None),
        (seam_vandal, "description", "en", "withdrawn", seam_rollback, None),
    ]
    assert {r["source"] for r in seam} == {"history"}
    assert await kept(database, SEAM) == [
        (seam_rollback, "description", "en")
    ]  # the rollback's change left the queue
