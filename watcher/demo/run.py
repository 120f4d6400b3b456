"""`watcher demo`: the whole loop, offline, in under a minute.

It starts the same loopback stand-ins the tests use (EventStreams and the Action API), loads the
recorded session, runs the real daemon against them in this process, plays the community's edits
onto the stand-in wiki (their events reach the daemon over SSE like Wikimedia's would), then prints
the resulting queue and digest and serves the review page until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from watcher.config import Config, parse_config
from watcher.demo.session import CATEGORY, build_wiki, captured_events, steps
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.export.writers import write_records
from watcher.notify.preview import preview_digest
from watcher.service.daemon import Daemon
from watcher.service.wiring import service_hooks
from watcher.store import Database
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.queue import ChangeFilter
from watcher.web.auth import add_user

DEMO_USER = "demo"
DEMO_PASSWORD = "watcher-demo"


def demo_config(folder: Path, api_url: str, stream_url: str, web_port: int) -> Config:
    text = f"""
[watcher]
database = "watcher-demo.sqlite3"
user_agent = "CommonsWatcherDemo/1.0 (offline demo; nobody@example.org)"

[stream]
url = "{stream_url}"
read_timeout = 30
backoff_initial = 0.2
backoff_max = 2

[wiki]
name = "commonswiki"
api_url = "{api_url}"

[tracking]
categories = ["{CATEGORY}"]
category_depth = 1

[[tracking.object_id]]
template = "LSH artwork"
param = "inventory number"

[[tracking.object_id]]
pattern = ' - (?:Livrustkammaren|Skoklosters slott|Hallwylska museet) - (\\d+)\\.\\w+$'

[filters]
ignore_bots = true

[labels]
languages = []

[diff]
info_templates = ["LSH artwork"]

[web]
listen = "127.0.0.1:{web_port}"
"""
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return parse_config(text, folder / "config.toml")


async def run_demo(*, stop_after_replay: bool = False, web_port: int = 8750, out: TextIO = sys.stdout) -> int:
    started = time.monotonic()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp:
        folder = Path(tmp)
        # The wiki's clock starts a little before now, one minute an action, like a busy morning.
        wiki = ActionApiPeer(start=datetime.now(UTC) - timedelta(hours=1))
        stream = EventStreamsStandIn()
        await wiki.start()
        await stream.start()
        try:
            build_wiki(wiki)
            bridge = WikiBridge(wiki.changes)
            bridge.published = len(wiki.changes)  # the wiki's past is not on the stream
            config = demo_config(folder, wiki.url, stream.url, web_port)
            say("Commons Watcher demo — everything runs on this machine, nothing goes to the internet.")
            say(f"  stand-in Action API: {wiki.url}")
            say(f"  stand-in EventStreams: {stream.url}")
            say(f"  tracking: {CATEGORY} (and its subcategories)")
            async with Database.open(config.database) as db:
                await add_user(db, DEMO_USER, DEMO_PASSWORD, "reviewer")
            daemon = Daemon(config, service_hooks())
            task = asyncio.create_task(daemon.run(), name="daemon")
            await _until(
                lambda: stream.connections >= 1 and daemon.resolved.is_set(), task, "the daemon to connect"
            )
            assert daemon.db is not None
            files = (await store_tracked.count_files(daemon.db))["active"]
            say(f"  the daemon is following the stream and tracks {files} files\n")
            say("What happens on Commons:")
            noise = captured_events()
            for number, step in enumerate(steps()):
                step.act(wiki)
                stream.publish(*bridge.pending(), *noise[number * 2 : number * 2 + 2])
                say(f"  • {step.says}")
            stream.publish(*noise[len(steps()) * 2 :])
            say("")
            await _until(lambda: _settled(stream, daemon), task, "the daemon to process the edits", limit=60)
            await _show_results(config, say)
            say(f"\nThe whole loop took {time.monotonic() - started:.1f} s.")
            if stop_after_replay:
                daemon.stop()
            else:
                say(
                    f"\nReview page: http://127.0.0.1:{web_port}/  (sign in as {DEMO_USER} / {DEMO_PASSWORD}); Ctrl-C to stop."
                )
            return await task
        finally:
            await stream.stop()
            await wiki.close()


async def _until(
    condition: Callable[[], bool | Awaitable[bool]], task: asyncio.Task[int], what: str, limit: float = 30
) -> None:
    """Wait for a condition while the daemon runs."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if task.done():
            raise RuntimeError(f"the daemon stopped while waiting for {what}: {task.result()}")
        value = condition()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


async def _settled(stream: EventStreamsStandIn, daemon: Daemon) -> bool:
    """Every published event committed (the stored cursor is the last one's id), no work left."""
    if daemon.db is None or not len(stream):
        return False
    last_id = stream.frame(len(stream) - 1).split(b"\nid: ", 1)[1].split(b"\n", 1)[0].decode()
    stored = await store_state.get_state(daemon.db, store_state.CURSOR_ID)
    return stored == last_id and await store_state.pending_count(daemon.db) == 0


async def _show_results(config: Config, say: Callable[[str], None]) -> None:
    async with Database.open(config.database) as db:
        records = await store_queue.list_changes(db, ChangeFilter(status="all", kind="all"))
        content = [r for r in records if r.kind == "content"]
        say(
            f"The queue: {len(content)} changes for curators ({len(records) - len(content)} maintenance, hidden):"
        )
        buffer = io.StringIO()
        write_records(content, "table", buffer, config)
        say(buffer.getvalue().rstrip())
        counters = await store_state.get_counters(db)
    since = datetime.now(UTC) - timedelta(hours=1)
    say("\nThe digest a curator would receive (plain-text part; `watcher digest` shows it too):")
    say((await preview_digest(config, None, since, "text")).rstrip())
    async with Database.open(config.database) as db:
        counters = await store_state.get_counters(db)
        say(
            f"\nEvents seen: {counters.get('events_seen', 0)}, about tracked files: "
            f"{counters.get('events_matched', 0)}; bot, white-space and untracked edits made no records."
        )
