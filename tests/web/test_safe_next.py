"""Issue 13, item 7: any ``next`` after sign-in gives a valid same-site Location, never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import sign_in
from watcher.web.kit import safe_next


@pytest.mark.parametrize(
    "char", ["\x00", "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u200b", "\ufeff", "\xa0"]
)
def test_control_and_invisible_characters_give_the_default(char: str) -> None:
    assert safe_next(f"/review{char}x") == "/"


def test_other_non_ascii_is_percent_encoded() -> None:
    assert safe_next("/file/Datei:Äpfel und Birnen.jpg") == "/file/Datei:%C3%84pfel%20und%20Birnen.jpg"
    assert safe_next("/queue?status=pending&page=2") == "/queue?status=pending&page=2"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "\\\\evil", "/\\evil", "", "x"])
def test_off_site_targets_give_the_default(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/\x7f", "/a\x85", "/Ä b", "/\u2028"])
async def test_sign_in_with_a_strange_next_redirects(client: TestClient[Any, Any], target: str) -> None:
    response = await sign_in(client, "anna", next_path=target)
    assert response.status == 303
    location = response.headers["Location"]
    assert location in ("/", quote(target, safe="/"))
    form = await client.get("/login", params={"next": target}, allow_redirects=False)
    assert form.status == 303 and form.headers["Location"] == location
