"""Issue 14, item 5, through `watcher run`: with a quiet period (``[filters] hold_minutes``) a vandal's
edit reverted within it (by a patroller, or by an anti-vandalism bot whose edits are ignored) never
reaches the inbox, and a change that stands is alerted once the period is over, not before.

The daemon is a subprocess against the stand-in wiki and stream; the alerts go to a real SMTP server
(aiosmtpd) on loopback. The hold is half a minute (the config takes fractions of a minute), long
enough for a revert to be met well within it on a busy machine. On either engine (issue 20).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.harness import CATEGORY, DaemonProcess, Peers, aquery, config_text, peers_on, wait_for
from tests.support.notify import SmtpSink
from tests.support.ports import free_port
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import rollback

HOLD = timedelta(minutes=0.5)
ROLLED_BACK = "File:Chair - EXM 201.jpg"
BOT_REVERTED = "File:Table - EXM 202.jpg"
STANDING = "File:Lamp - EXM 203.jpg"
FILES = (ROLLED_BACK, BOT_REVERTED, STANDING)


def info(description: str = "A chair", date: str = "1900") -> str:
    return f"{{{{Information\n|description={{{{en|1={description}}}}}\n|date={date}\n}}}}\n[[{CATEGORY}]]\n"


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    api = ActionApiPeer()
    await api.start()
    api.add_page(CATEGORY, "Files shared by the Example Museum.")
    for title in FILES:
        api.add_page(title, info(), user="Example Museum")
    async with peers_on(api) as started:
        yield started


class TimedSink(SmtpSink):
    """The SMTP sink, with when each mail arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[datetime] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.append(datetime.now(UTC))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp() -> Iterator[tuple[TimedSink, int]]:
    sink = TimedSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


async def changes(database: Path | str, file: str) -> list[dict[str, Any]]:
    found = await aquery(
        database,
        "SELECT id, revision, status, reverted_by, queued_at FROM changes WHERE file = ? ORDER BY id",
        (file,),
    )
    return [dict(r) for r in found]


def queued(database: Path | str, file: str) -> Callable[[], Awaitable[bool]]:
    """True once exactly one record of ``file`` is queued."""

    async def check() -> bool:
        return len(await changes(database, file)) == 1

    return check


def queued_at(row: dict[str, Any]) -> datetime:
    return datetime.strptime(row["queued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


async def test_a_change_reverted_within_the_quiet_period_never_reaches_the_inbox(
    peers: Peers,
    tmp_path: Path,
    store_location: Path | str,
    daemons: Callable[[Path, Path], DaemonProcess],
    smtp: tuple[TimedSink, int],
) -> None:
    sink, port = smtp
    database = store_location
    config = tmp_path / "config.toml"
    notify = f"""
[[notify]]
name = "curators"
urls = ["mailto://127.0.0.1:{port}/?to=anna@museum.example&from=watcher@museum.example"]
mode = "immediate"
coalesce_seconds = 0
"""
    text = config_text(peers.api.url, peers.stream.url, database, more=notify)
    assert "ignore_bots = true\n" in text  # the harness's [filters]: the hold joins it
    config.write_text(
        text.replace(
            "ignore_bots = true\n", f"ignore_bots = true\nhold_minutes = {HOLD.total_seconds() / 60}\n"
        ),
        encoding="utf-8",
    )
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 1, 30, "the stream connection", daemon)

    async def tracked_set() -> bool:
        return len(await aquery(database, "SELECT 1 FROM tracked_files WHERE state = 'active'")) == len(FILES)

    await wait_for(tracked_set, 30, "the tracked set", daemon)
    api = peers.api

    # A vandal's edit; a patroller rolls it back once it is queued.
    vandal = api.edit(ROLLED_BACK, info("A CHAIR LOL"), user="Vandal")
    peers.publish()
    await wait_for(queued(database, ROLLED_BACK), 60, "the vandal's change queued", daemon)
    rolled = rollback(api, ROLLED_BACK, user="Patroller")
    # Another vandal's edit, reverted at once by an anti-vandalism bot (a bot edit: ignore_bots).
    bot_vandal = api.edit(BOT_REVERTED, info("A TABLE LOL"), user="Vandal")
    bot_revert = api.edit(BOT_REVERTED, info(), user="ClueBot NG", bot=True, tags=("mw-manual-revert",))
    peers.publish()

    def undone(file: str, by: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            found = [(r["status"], r["reverted_by"]) for r in await changes(database, file)]
            return found == [("withdrawn", by)]

        return check

    await wait_for(undone(ROLLED_BACK, rolled), 60, "the rollback's withdrawal", daemon)
    await wait_for(undone(BOT_REVERTED, bot_revert), 60, "the bot revert's withdrawal", daemon)
    assert [r["revision"] for r in await changes(database, ROLLED_BACK)] == [vandal]
    assert [r["revision"] for r in await changes(database, BOT_REVERTED)] == [bot_vandal]  # the bot's: none
    withdrawn_by = datetime.now(UTC)
    first_queued = min([queued_at((await changes(database, f))[0]) for f in (ROLLED_BACK, BOT_REVERTED)])
    assert withdrawn_by - first_queued < HOLD, "the reverts took longer than the hold: nothing was tested"

    # A change that stands.
    good = api.edit(STANDING, info(date="1901"), user="Alice")
    peers.publish()
    await wait_for(queued(database, STANDING), 60, "the standing change queued", daemon)
    (standing,) = await changes(database, STANDING)
    assert standing["revision"] == good
    await wait_for(lambda: bool(sink.mails), HOLD.total_seconds() + 90, "the alert after the hold", daemon)

    # One alert, about the standing change only, and not before its quiet period was over.
    assert sink.arrived[0] >= queued_at(standing) + HOLD
    mail = sink.mails[0]
    body = mail.part("text/plain") + mail.part("text/html")
    assert "1 new change on 1 file" in str(mail.message["Subject"])
    assert "Lamp - EXM 203" in body and "1901" in body
    assert "LOL" not in body and "Chair - EXM 201" not in body and "Table - EXM 202" not in body
    # Every record's hold is over and the channel's cursor has passed them all: none will follow.
    newest = max([r["id"] for f in FILES for r in await changes(database, f)])

    async def cursor_past_all() -> bool:
        return bool(
            await aquery(database, "SELECT 1 FROM notify_cursors WHERE last_change_id >= ?", (newest,))
        )

    await wait_for(cursor_past_all, 30, "the alert cursor past every record", daemon)
    alerts = await aquery(database, "SELECT count(*) FROM notify_outbox WHERE kind = 'alert'")
    assert alerts[0][0] == 1 and len(sink.mails) == 1
