"""The running real MediaWiki peer as the tests see it, and the RC feed bridge on its own thread."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.rcfeed import RcFeedBridge

SCRIPT = Path(__file__).resolve().parent / "mediawiki-peer.sh"


class BridgeThread:
    """The RC feed bridge on its own event loop, so tests may block on maintenance scripts freely."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rcfeed-bridge", daemon=True)
        self.bridge: RcFeedBridge | None = None

    def start(self) -> RcFeedBridge:
        self.thread.start()

        async def make() -> RcFeedBridge:
            bridge = RcFeedBridge()
            await bridge.start()
            return bridge

        self.bridge = asyncio.run_coroutine_threadsafe(make(), self.loop).result(10)
        return self.bridge

    def stop(self) -> None:
        if self.bridge is not None:
            asyncio.run_coroutine_threadsafe(self.bridge.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class RealWiki:
    """The running peer: maintenance scripts, API reads, and the bridge that serves its RC feed."""

    state: Path
    api_url: str
    env: dict[str, str]
    bridge: RcFeedBridge
    name: str = "testwiki"  # the database name, as the feed reports it in `wiki`
    timings: dict[str, float] = field(default_factory=dict)

    def maint(self, script: str, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(SCRIPT), "maint", script, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(f"{script} {args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def edit(
        self, title: str, text: str, *, user: str = "Admin", summary: str = "", bot: bool = False
    ) -> None:
        self.maint(
            "edit.php",
            "-q",
            "-u",
            user,
            "-s",
            summary or "test edit",
            *(["-b"] if bot else []),
            title,
            stdin=text,
        )

    def run_jobs(self) -> None:
        self.maint("runJobs.php", "-q")

    def requests(self) -> list[str]:
        """The request lines of ``php -S``'s log (``GET /w/api.php?...``), in order."""
        log = Path(self.env["MW_STATE_DIR"]) / "php-server.log"
        return [
            line.split("]: ", 1)[1] for line in log.read_text(errors="replace").splitlines() if "]: " in line
        ]

    def api(self, **params: str) -> dict[str, Any]:
        query = urllib.parse.urlencode({**params, "format": "json", "formatversion": "2"})
        with urllib.request.urlopen(f"{self.api_url}?{query}", timeout=30) as response:
            result: dict[str, Any] = json.load(response)
        return result

    def wikitext(self, title: str) -> str:
        pages = self.api(action="query", prop="revisions", rvprop="content", rvslots="main", titles=title)
        return str(pages["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"])

    def wait_feed(self, predicate: Callable[[dict[str, Any]], bool], what: str, limit: float = 15) -> None:
        """Wait until a datagram matching ``predicate`` has reached the bridge."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if any(predicate(d) for d in list(self.bridge.received)):
                return
            time.sleep(0.05)
        raise AssertionError(f"no RC feed datagram for {what} within {limit} s")
