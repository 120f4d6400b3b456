"""What the browser tests share besides their fixtures (``conftest.py``): where chromium is, the
window sizes, where screenshots go, a stand-in thumbnail, and what a page must never do."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from playwright.async_api import Page, ViewportSize

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}  # a small phone's width
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install -y chromium); browser tests skipped",
)


def png(width: int = 120, height: int = 90) -> bytes:
    """A small gradient PNG standing in for a Commons thumbnail."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + x % 200, 90 + y % 150, 140)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Watch:
    """What the page did that it must not: dialogs, page errors, CSP violations."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.csp: list[str] = []

    def clean(self) -> bool:
        return self.dialogs == [] and self.errors == [] and self.csp == []


BrowserOpener = Callable[..., AbstractAsyncContextManager[tuple[Page, Watch]]]
