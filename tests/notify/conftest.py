"""Fixtures of the notification tests: a fresh database, loopback SMTP and HTTP sinks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from apprise.plugins.email import NotifyEmail
from apprise.plugins.slack import NotifySlack

from tests.support.notify import HttpSink, SmtpSink
from tests.support.ports import free_port


@pytest.fixture(autouse=True)
def no_apprise_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """apprise sleeps request_rate_per_sec seconds between two sends of a service; not in tests."""
    monkeypatch.setattr(NotifyEmail, "request_rate_per_sec", 0)
    monkeypatch.setattr(NotifySlack, "request_rate_per_sec", 0)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
async def http_sink(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HttpSink]:
    sink = HttpSink()
    app = web.Application()
    app.router.add_post("/{tail:.*}", sink.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    sink.port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", sink.port)
    await site.start()
    # apprise's Slack plugin posts to hooks.slack.com; point it at the sink instead.
    monkeypatch.setattr(NotifySlack, "webhook_url", sink.url("/slack"))
    try:
        yield sink
    finally:
        await runner.cleanup()
