"""The RC feed bridge: MediaWiki's UDP JSON feed served in the EventStreams shape.

The first tests send the captured MediaWiki 1.39 datagrams over loopback UDP (they need no wiki and always
run); the last one reads what a real MediaWiki sends for a creation, an edit, a move and a deletion.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from datetime import datetime
from typing import Any

import aiohttp

from tests.mediawiki_real.peer import RealWiki
from tests.support.fixtures import load_events
from tests.support.rcfeed import RcFeedBridge, feed_to_event
from watcher.stream.events import Deleted, Edit, Moved, interpret, parse_event

HEADERS = {"User-Agent": "WatcherTests/1.0 (https://museum.example; tests@museum.example)"}


def captured() -> list[dict[str, Any]]:
    return load_events("mediawiki-1.39_rcfeed_udp_json.jsonl")


async def read_events(
    url: str, count: int, *, last_event_id: str | None = None, since: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """The first ``count`` (id, data) records the stream serves."""
    headers = dict(HEADERS)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    params = {"since": since} if since is not None else {}
    out: list[tuple[str, dict[str, Any]]] = []
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers, params=params) as resp:
        assert resp.status == 200, await resp.text()
        sse_id = ""

        async def collect() -> None:
            nonlocal sse_id
            async for raw in resp.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("id: "):
                    sse_id = line[4:]
                elif line.startswith("data: "):
                    out.append((sse_id, json.loads(line[6:])))
                    if len(out) == count:
                        return

        await asyncio.wait_for(collect(), 20)
    return out


def send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, ("127.0.0.1", port))


async def wait_received(bridge: RcFeedBridge, count: int) -> None:
    for _ in range(400):
        if len(bridge.received) + len(bridge.rejected) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the bridge received {len(bridge.received)} of {count} datagrams")


def to_ms(dt: str) -> int:
    return round(datetime.fromisoformat(dt.replace("Z", "+00:00")).timestamp() * 1000)


def check_shape(sse_id: str, event: dict[str, Any], datagram: dict[str, Any]) -> None:
    """What EventStreams adds and removes, and that everything else is MediaWiki's as sent."""
    meta = event["meta"]
    assert event["$schema"] == "/mediawiki/recentchange/1.0.0"
    assert uuid.UUID(meta["id"]).version == 4 and uuid.UUID(meta["request_id"])
    assert meta["dt"].endswith("Z") and meta["domain"] == datagram["server_name"]
    assert (meta["stream"], meta["topic"], meta["partition"]) == (
        "mediawiki.recentchange",
        "eqiad.mediawiki.recentchange",
        0,
    )
    assert meta["uri"] == event["title_url"] and event["title_url"].startswith(
        datagram["server_url"] + "/wiki/"
    )
    assert json.loads(sse_id) == [
        {"topic": "eqiad.mediawiki.recentchange", "partition": 0, "timestamp": to_ms(meta["dt"]) + 1},
        {"topic": "codfw.mediawiki.recentchange", "partition": 0, "offset": -1},
    ]
    for key, value in datagram.items():
        if key in ("revision", "length") and value.get("old", 0) is None:
            assert "old" not in event[key] and event[key]["new"] == value["new"]
        else:
            assert event[key] == value, key


async def test_captured_datagrams_are_served_in_the_eventstreams_shape() -> None:
    datagrams = captured()
    async with RcFeedBridge() as bridge:
        send(bridge.udp_port, *(json.dumps(d).encode() for d in datagrams), b"not json", b"[1, 2]")
        await wait_received(bridge, len(datagrams) + 2)
        assert len(bridge.rejected) == 2 and bridge.received == datagrams
        served = await read_events(bridge.url, len(datagrams), since="0")
    assert [e["meta"]["offset"] for _, e in served] == list(range(len(datagrams)))
    dts = [to_ms(e["meta"]["dt"]) for _, e in served]
    assert dts == sorted(set(dts))  # strictly increasing, so `since` and timestamp ids find one position
    for (sse_id, event), datagram in zip(served, datagrams, strict=True):
        check_shape(sse_id, event, datagram)
    created = [e for _, e in served if e["type"] == "new"]
    assert created and all("old" not in e["revision"] and "old" not in e["length"] for e in created)
    edits = [e for _, e in served if e["type"] == "edit"]
    assert edits and all(
        e["notify_url"].endswith(f"diff={e['revision']['new']}&oldid={e['revision']['old']}&rcid={e['id']}")
        for e in edits
    )


async def test_resume_by_last_event_id_and_since_uses_the_bridge_log() -> None:
    datagrams = captured()[:6]
    async with RcFeedBridge() as bridge:
        send(bridge.udp_port, *(json.dumps(d).encode() for d in datagrams))
        await wait_received(bridge, len(datagrams))
        served = await read_events(bridge.url, len(datagrams), since="0")
        resumed = await read_events(bridge.url, 3, last_event_id=served[2][0])
        since = await read_events(bridge.url, 2, since=served[4][1]["meta"]["dt"])
    assert [e["id"] for _, e in resumed] == [e["id"] for _, e in served[3:6]]
    assert [e["id"] for _, e in since] == [e["id"] for _, e in served[4:6]]


def test_conversion_keeps_what_is_already_there() -> None:
    datagram = {**next(d for d in captured() if d["type"] == "new"), "title_url": "http://x/wiki/T"}
    datagram["notify_url"] = "http://x/n"
    event = feed_to_event(datagram, dt_ms=1_700_000_000_123)
    assert event["meta"]["dt"] == "2023-11-14T22:13:20.123Z"
    assert (event["title_url"], event["notify_url"]) == ("http://x/wiki/T", "http://x/n")
    assert "old" not in event["revision"] and "old" not in event["length"]
    assert "meta" not in datagram and datagram["revision"]["old"] is None  # the input is not changed


async def test_a_real_mediawiki_feed_through_the_bridge(real_wiki: RealWiki) -> None:
    wiki = real_wiki
    start = len(wiki.bridge.received)
    wiki.edit("File:Feed probe.jpg", "{{Information|description={{en|1=Probe}}}}\n[[Category:Probes]]\n")
    wiki.edit(
        "File:Feed probe.jpg",
        "{{Information|description={{en|1=Probe}}{{de|1=Sonde}}}}\n[[Category:Probes]]\n",
    )
    # Saving the same text again, or with only trailing whitespace added, is a null edit: no revision, no event.
    second = wiki.wikitext("File:Feed probe.jpg")
    wiki.edit("File:Feed probe.jpg", second)
    wiki.edit("File:Feed probe.jpg", second + "\n\n  ")
    wiki.maint(
        "moveBatch.php", "-u", "Admin", "-r", "rename", stdin="File:Feed probe.jpg|File:Feed probe 2.jpg\n"
    )
    wiki.run_jobs()
    wiki.wait_feed(
        lambda d: d.get("type") == "categorize" and d.get("title") == "Category:Probes", "categorize"
    )
    wiki.maint("deleteBatch.php", "-u", "Admin", "-r", "cleanup", stdin="File:Feed probe 2.jpg\n")
    wiki.run_jobs()
    wiki.wait_feed(
        lambda d: d.get("log_type") == "delete" and d.get("title") == "File:Feed probe 2.jpg", "delete"
    )
    mine = wiki.bridge.received[start:]
    served = await read_events(wiki.bridge.url, len(wiki.bridge.received), since="0")
    served = served[start:]
    for (sse_id, event), datagram in zip(served, mine, strict=True):
        check_shape(sse_id, event, datagram)
    kinds = [(d["type"], d.get("log_type")) for d in mine]
    # MediaWiki sends the creation, the edit, the move and the deletion at once; the categorize event only
    # when the job queue runs (naming the page by its title at that moment, with the time of the edit that
    # caused it); no categorize event for the deletion, none for the redirect the move left behind.
    assert kinds == [("new", None), ("edit", None), ("log", "move"), ("categorize", None), ("log", "delete")]
    new, edit, move, categorize, delete = (e for _, e in served)
    assert mine[0]["revision"]["old"] is None and "old" not in new["revision"]  # EventStreams omits it
    meanings = [interpret(parse_event(e)) for e in (new, edit, move, delete)]
    assert isinstance(meanings[0], Edit) and meanings[0].old_revision is None
    assert isinstance(meanings[1], Edit) and meanings[1].old_revision == new["revision"]["new"]
    assert isinstance(meanings[2], Moved) and meanings[2].new_title == "File:Feed probe 2.jpg"
    assert move["log_params"] == {"target": "File:Feed probe 2.jpg", "noredir": "0"}
    assert isinstance(meanings[3], Deleted) and delete["log_params"] == []
    assert categorize["comment"] == "[[:File:Feed probe 2.jpg]] added to category"
    assert categorize["timestamp"] == new["timestamp"] <= move["timestamp"]
