"""Fixtures of the review page's tests: a temporary database, a config, users, a test client, and the
page served on loopback for a real browser (chromium through Playwright)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from playwright.async_api import Dialog, Page, Route, ViewportSize, async_playwright, expect

from tests.support import postgres as pg
from tests.support.web import CONFIG_TEXT, PASSWORD
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, BrowserOpener, Watch, png
from watcher.config import Config, parse_config
from watcher.store.db import Database
from watcher.store.engine import Store
from watcher.web import auth
from watcher.web.app import create_app


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with tiny costs: the same code paths, milliseconds instead of a second per test."""
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(CONFIG_TEXT, tmp_path / "config.toml")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(config: Config, request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The page's store on either engine: each test that takes it runs on a SQLite file and on a fresh
    PostgreSQL database (issue 20); the browser tests on SQLite alone (see below)."""
    async with pg.store_on(request.param, request, config.database) as database:
        yield database


# The browser drives the same server code whatever the engine: its tests (minutes of chromium) run on
# SQLite; the engine is the HTTP tests' part, which run on both.
BROWSER_FIXTURES = frozenset({"server", "open_browser"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgresql = callspec is not None and callspec.params.get("db") == "postgresql"
        browser = bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))
        (left_out if on_postgresql and browser else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture
async def users(db: Database) -> None:
    await auth.add_user(db, "anna", PASSWORD, "reviewer")
    await auth.add_user(db, "otto", PASSWORD, "readonly")


# Generous deadlines: a busy machine is slow, and every wait is on a condition, never a fixed time.
expect.set_options(timeout=30_000)

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, db: Database, config: Config, users: None
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(db, config))


# -- the review page in a real browser (Playwright driving Debian's chromium) ---------------------------


@pytest.fixture
async def server(db: Database, config: Config, users: None) -> AsyncIterator[str]:
    """The review page on a loopback port, as `watcher serve` runs it."""
    runner = web.AppRunner(create_app(db, config), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
async def open_browser(server: str) -> AsyncIterator[BrowserOpener]:
    """Opens a signed-in page (``javascript=False`` for the page without script; ``user`` to sign in
    as; ``timezone`` for the browser's time zone). The browser never reaches the internet: the wiki's
    thumbnails get a small local PNG, everything else that is not the test server is aborted."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium)")
    thumbnail = png()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        @contextlib.asynccontextmanager
        async def opened(
            *, javascript: bool = True, user: str | None = "anna", timezone: str = "Europe/Stockholm",
            viewport: ViewportSize | None = None,
        ) -> AsyncIterator[tuple[Page, Watch]]:  # fmt: skip
            context = await browser.new_context(
                accept_downloads=True, viewport=viewport or DESKTOP, java_script_enabled=javascript,
                timezone_id=timezone, locale="en-GB",
            )  # fmt: skip
            context.set_default_timeout(30_000)

            async def route(request_route: Route) -> None:
                url = request_route.request.url
                if url.startswith(server):
                    await request_route.continue_()
                elif "Special:FilePath" in url or "/thumb/" in url:
                    await request_route.fulfill(status=200, content_type="image/png", body=thumbnail)
                else:
                    await request_route.abort()

            await context.route("**/*", route)
            page = await context.new_page()
            watch = Watch()

            async def on_dialog(dialog: Dialog) -> None:
                watch.dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", on_dialog)
            page.on("pageerror", lambda error: watch.errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    watch.csp.append(message.text) if "Content Security Policy" in message.text else None
                ),
            )
            await page.goto(server + "/")
            if user is not None:
                await page.fill("#name", user)
                await page.fill("#password", PASSWORD)
                await page.click("button:has-text('Sign in')")
                await page.wait_for_url(server + "/")
            try:
                yield page, watch
            finally:
                await context.close()

        yield opened
        await browser.close()


@pytest.fixture
async def browser_page(open_browser: BrowserOpener) -> AsyncIterator[tuple[Page, Watch]]:
    """A signed-in page with script, at the desktop size."""
    async with open_browser() as opened:
        yield opened
