"""`watcher demo`: the whole loop, offline, in under a minute.

It starts the same loopback stand-ins the tests use (EventStreams, and the Action API, which also plays
Wikidata for labels and the upload host for thumbnails), loads the recorded session, runs the real
daemon against them in this process, plays the community's edits onto the stand-in wiki (their events
reach the daemon over SSE like Wikimedia's would), waits until the labels of what they name are
fetched, then prints the resulting queue, the tracked files and the digest and serves the review page
until Ctrl-C.

Its config and database sit in one folder (a temporary one, or ``--folder DIR`` to keep it), printed
at the start, so the other commands can be tried on it (`watcher changes -c FOLDER/config.toml`). The
recorded events of other wikis are replayed with times of now, in publication order, as EventStreams
serves them: so `watcher status` shows a last event of seconds ago and the counts the demo printed,
and a reconnect resumes after the last event instead of replaying older ones. The stand-in stream sends
a keep-alive comment after a third of the read timeout without events, so an idle demo is not taken
for dead every ``read_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import io
import shlex
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from watcher.config import Config, WebSection, parse_config
from watcher.demo.session import CATEGORY, build_wiki, captured_events, steps
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.export.tracked_files import summary_lines
from watcher.export.writers import write_records
from watcher.mediawiki.client import ActionApi
from watcher.notify.preview import preview_digest
from watcher.pipeline.labels import unlabelled_entities
from watcher.service.daemon import Daemon
from watcher.service.wiring import service_hooks
from watcher.store import Database
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.queue import ChangeFilter
from watcher.tracking.objectids import look_up_object_ids, rule_label
from watcher.web.app import PortUnavailable, bind_or_explain
from watcher.web.auth import add_user

DEMO_USER = "demo"
DEMO_PASSWORD = "watcher-demo"
DEMO_DATABASE = "watcher-demo.sqlite3"
READ_TIMEOUT = 30.0  # the demo's [stream] read_timeout; the stand-in keeps alive at a third of it


def demo_config(
    folder: Path, api_url: str, stream_url: str, web_port: int, read_timeout: float = READ_TIMEOUT
) -> Config:
    text = f"""
[watcher]
database = "{DEMO_DATABASE}"
user_agent = "CommonsWatcherDemo/1.0 (offline demo; nobody@example.org)"

[stream]
url = "{stream_url}"
read_timeout = {read_timeout}
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
languages = ["sv", "en"]
api_url = "{api_url}"

[diff]
info_templates = ["LSH artwork"]

[web]
listen = "127.0.0.1:{web_port}"
"""
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return parse_config(text, folder / "config.toml")


class Replay:
    """Gives each published event a publication time of now (meta.dt, strictly increasing by the
    millisecond), as EventStreams' events carry the time they were produced: the recorded events of
    other wikis keep their content but not their 2024-2025 times, which would put the stream's last
    event over a year back and make a resume by time start before events already delivered."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.last_ms = 0

    def __call__(self, event: Mapping[str, Any], *, recorded: bool = False) -> dict[str, Any]:
        ms = max(int(self.clock() * 1000), self.last_ms + 1)
        self.last_ms = ms
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        out = dict(event)
        out["meta"] = {
            **dict(event.get("meta") or {}),
            "dt": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if recorded:  # its edit time too: a replayed event of another wiki, happening now
            out["timestamp"] = ms // 1000
        return out


async def run_demo(
    *,
    stop_after_replay: bool = False,
    web_port: int = 8750,
    out: TextIO | None = None,
    folder: Path | None = None,
    read_timeout: float = READ_TIMEOUT,
) -> int:
    """Run the demo in ``folder`` (kept), or in a temporary folder removed at the end; print to ``out``
    (default: the standard output of the moment, not of import time)."""
    out = out or sys.stdout
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        return await _run(folder.resolve(), True, stop_after_replay, web_port, out, read_timeout)
    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp:
        return await _run(Path(tmp).resolve(), False, stop_after_replay, web_port, out, read_timeout)


async def _run(
    folder: Path, kept: bool, stop_after_replay: bool, web_port: int, out: TextIO, read_timeout: float
) -> int:
    started = time.monotonic()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    # The wiki's clock starts a little before now, one minute an action, like a busy morning.
    wiki = ActionApiPeer(start=datetime.now(UTC) - timedelta(hours=1))
    stream = EventStreamsStandIn(keepalive=read_timeout / 3)
    replay = Replay()
    await wiki.start()
    await stream.start()
    try:
        build_wiki(wiki)
        bridge = WikiBridge(wiki.changes)
        bridge.published = len(wiki.changes)  # the wiki's past is not on the stream
        web_port = _free_or_other(web_port, say)
        config = demo_config(folder, wiki.url, stream.url, web_port, read_timeout)
        say("Commons Watcher demo — everything runs on this machine, nothing goes to the internet.")
        say(f"  stand-in Action API: {wiki.url}")
        say(f"  stand-in EventStreams: {stream.url}")
        say(f"  tracking: {CATEGORY} (and its subcategories)")
        say(f"  config: {config.path}")
        say(f"  database: {config.database}")
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
            fresh = [replay(event) for event in bridge.pending()]
            stream.publish(*fresh, *(replay(e, recorded=True) for e in noise[number * 2 : number * 2 + 2]))
            say(f"  • {step.says}")
        stream.publish(*(replay(e, recorded=True) for e in noise[len(steps()) * 2 :]))
        say("")
        await _until(lambda: _settled(stream, daemon), task, "the daemon to process the edits", limit=60)
        await _until(lambda: _labelled(daemon, config), task, "the Wikidata labels of the changes")
        await _show_results(config, say)
        await _show_tracked(config, say)
        say(f"\nThe whole loop took {time.monotonic() - started:.1f} s.")
        _say_try(config, say, kept=kept, running=not stop_after_replay)
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


def _say_try(config: Config, say: Callable[[str], None], *, kept: bool, running: bool) -> None:
    """How to try the other commands on the demo's database (where it still exists)."""
    where = shlex.quote(str(config.path))
    if not kept and not running:
        say("\nThe demo's folder is removed as it stops: `watcher demo --folder DIR` keeps it to try the")
        say("other commands on (`watcher changes -c DIR/config.toml`).")
        return
    say("\nTry the other commands on the demo's database" + (" (in another terminal):" if running else ":"))
    for command in ("changes", "changes --status all --kind all --format jsonl", "status", "tracked"):
        name, _, rest = command.partition(" ")
        say(f"  watcher {name} -c {where}{' ' + rest if rest else ''}")
    if not running:
        say("  (the stand-in wiki is gone with the demo: `watcher tracked --stored` lists what it found)")
    elif not kept:
        say("  (its folder is removed when the demo stops; `watcher demo --folder DIR` keeps it)")


def _free_or_other(port: int, say: Callable[[str], None]) -> int:
    """The review page's port for the demo: ``port``, or where something holds it, a free one (said)."""
    try:
        for sock in bind_or_explain(WebSection(listen=f"127.0.0.1:{port}"), listen=False):
            sock.close()
        return port
    except PortUnavailable as exc:
        (sock,) = bind_or_explain(WebSection(listen="127.0.0.1:0"), listen=False)
        other = int(sock.getsockname()[1])
        sock.close()
        say(f"  {exc}: the demo's review page uses port {other} instead")
        return other


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


async def _labelled(daemon: Daemon, config: Config) -> bool:
    """Every item and property the queued statements name has its labels in the cache (the daemon's
    labels task fetched them from the stand-in, which plays Wikidata too)."""
    if daemon.db is None:
        return False
    missing, _ = await unlabelled_entities(daemon.db, config.labels.languages)
    return not missing


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


async def _show_tracked(config: Config, say: Callable[[str], None]) -> None:
    """What `watcher tracked` says: the object ids looked up from the files' pages, and the summary."""
    rules = {c.name: c.object_id for c in config.collections}
    async with ActionApi(config.wiki.api_url, config.user_agent) as api, Database.open(config.database) as db:
        files = await store_tracked.tracked_files(db)
        await look_up_object_ids(db, api, rules, files)
        summary = await store_tracked.tracked_summary(db)
    say("\nThe tracked files and their object ids (`watcher tracked` lists each one):")
    labels = list(dict.fromkeys(rule_label(rule) for each in rules.values() for rule in each))
    for line in summary_lines(summary, labels):
        say(f"  {line}")
