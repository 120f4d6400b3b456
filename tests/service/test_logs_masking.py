"""Credentials in apprise URLs (and headers) never reach the log; the rest of the URL stays readable."""

from __future__ import annotations

import logging

import pytest

from watcher.base.masking import mask_secrets

# (text, secrets that must disappear, parts that must stay readable)
CASES: list[tuple[str, list[str], list[str]]] = [
    (
        "mailtos://curator:hunter2@smtp.example.org:587?mode=starttls&to=curators@example.org",
        ["hunter2", "curator:"],
        ["smtp.example.org:587", "mode=starttls", "to=curators@example.org"],
    ),
    (
        "mailto://alice:S3cr%40t@mail.example.org/to@example.org",
        ["S3cr%40t", "alice"],
        ["mail.example.org/to@example.org"],
    ),
    (
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#collections",
        ["T1JJ3T3L2", "A1BRTD4JD", "TIiajk"],
        ["#collections"],
    ),
    (
        "slack://bot@xoxb-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d/#general",
        ["xoxb-1234", "4ddbc191"],
        ["#general"],
    ),
    (
        "json://svc:pa55word@hooks.example.org:8080/notify?+Authorization=Bearer%20eyJhbGciOi&+X-Museum=exm&:message=body",
        ["pa55word", "eyJhbGciOi", "svc:"],
        ["hooks.example.org:8080/notify", "+Authorization=", ":message=body"],
    ),
    (
        "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        ["JHMHI8qBe7bk2ZwO5U711o3dV_js", "4174216298"],
        ["discord://"],
    ),
    (
        "tgram://123456789:AABx8iXjE5C-vG4SDhf6ARgdFgxYxhuHb4A/-1001234567",
        ["AABx8iXjE5C", "123456789"],
        ["tgram://"],
    ),
    (
        "mailtos://smtp.example.org?user=watcher&pass=hunter2&to=a@example.org",
        ["hunter2"],
        ["user=watcher", "pass=***", "to=a@example.org"],
    ),
    ("gotify://push.example.org/AbCdEf123?priority=high&token=Zz9", ["AbCdEf123", "Zz9"], ["priority=high"]),
    ("ntfy://user:pw1234@ntfy.example.org/museum-topic", ["pw1234", "museum-topic"], ["ntfy://"]),
    (
        "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        ["T1JJ3T3L2", "TIiajkdnlazkcOXrIdevi7FQ"],
        ["https://hooks.slack.com/services/"],
    ),
    (
        "https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2Zw",
        ["JHMHI8qBe7bk2Zw"],
        ["discord.com/api/webhooks/"],
    ),
    ("https://api.telegram.org/bot123456789:AABx8iXjE5C/sendMessage", ["AABx8iXjE5C"], ["/sendMessage"]),
    (
        "request header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc, retrying",
        ["eyJhbGciOi"],
        ["Bearer ***", "retrying"],
    ),
    ("apprise.yml has password=hunter2 in it", ["hunter2"], ["password=***"]),
]


@pytest.mark.parametrize(("text", "secrets", "kept"), CASES, ids=[case[0].split(":")[0] for case in CASES])
def test_secrets_are_masked(text: str, secrets: list[str], kept: list[str]) -> None:
    masked = mask_secrets(f"channel collections: cannot send to {text}.")
    for secret in secrets:
        assert secret not in masked
    for part in kept:
        assert part in masked
    assert "***" in masked
    assert masked.startswith("channel collections: cannot send to ")
    assert masked.endswith(".")  # sentence punctuation is not taken for part of the URL


@pytest.mark.parametrize(
    "text",
    [
        "https://stream.wikimedia.org/v2/stream/recentchange?since=2026-03-03T07:30:00Z",
        "https://commons.wikimedia.org/w/api.php?action=query&prop=revisions&titles=File:Key_123.jpg",
        "mailto://smtp.example.org:25/curators@example.org?from=watcher@example.org&name=Watcher",
        "File:Stol - EXM 103896.jpg changed: description (sv)",
    ],
)
def test_urls_without_secrets_are_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


def test_masking_is_idempotent() -> None:
    once = mask_secrets("slack://T1/B2/C3/#x and mailtos://u:p@h?pass=q")
    assert mask_secrets(once) == once


def test_every_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    """Masking lives in the formatter, so a library's message (apprise's, aiohttp's) is covered too."""
    from watcher.service.logs import _Formatter

    record = logging.LogRecord(
        "apprise", logging.WARNING, __file__, 1, "Failed to send to %s", ("mailtos://u:topsecret@h",), None
    )
    assert "topsecret" not in _Formatter(journal=False).format(record)
    assert _Formatter(journal=True).format(record) == "<4>apprise: Failed to send to mailtos://***@h"
