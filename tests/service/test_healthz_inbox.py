"""/healthz stays ok while the Action API keeps failing (the outside world's outage), but says what is
stuck and what is set aside, so that a monitor can act before the stream's retention runs out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient

from watcher.service.metrics import add_health_routes
from watcher.store import Database, iso_utc, utcnow
from watcher.store import state as store_state

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


@dataclass
class LiveStream:
    db: Database
    role: str = "single"

    def stream_live(self) -> bool:
        return True


async def test_healthz_is_ok_but_names_stuck_and_set_aside_work(
    aiohttp_client: ClientFactory, db: Database
) -> None:
    app = web.Application()
    add_health_routes(app, LiveStream(db))
    client = await aiohttp_client(app)
    assert await (await client.get("/healthz")).json() == {"status": "ok"}
    async with db.transaction() as conn:
        for n in range(2):
            await store_state.enqueue(conn, f"e{n}", "edit", "File:A.jpg", {"revision": {"new": n + 1}})
    await db.write(
        "UPDATE inbox SET attempts = 5, received_at = ?, last_error = 'http-503' WHERE event_key = 'e0'",
        (iso_utc(store_state.inbox_now() - timedelta(hours=3)),),
    )
    await db.write("UPDATE inbox SET state = 'failed', done_at = ? WHERE event_key = 'e1'", (utcnow(),))
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["warnings"] == [
        "inbox: 1 item(s) failing for over an hour (see `watcher status`)",
        "inbox: 1 item(s) set aside (`watcher retry`)",
    ]
