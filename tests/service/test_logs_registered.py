"""Issue 13, item 7: webhook tokens never reach ``--log-level debug`` through urllib3's request line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from watcher.base.masking import (
    MASK,
    forget_registered_secrets,
    mask_secrets,
    register_secret,
    register_url_secrets,
    secret_parts,
)
from watcher.service.logs import setup_logging


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    forget_registered_secrets()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_urllib3_request_line_at_debug_is_masked() -> None:
    register_url_secrets("slack://T000PLANT/B000PLANT/PLANTEDsecretTOKEN")
    register_url_secrets("https://hooks.example.org/hooks/HTTPSplantedHOOK?x=1")
    out = io.StringIO()
    setup_logging("debug", stream=out)
    log = logging.getLogger("urllib3.connectionpool")
    log.debug('%s://%s:%s "%s %s %s" %s %s', "https", "hooks.slack.com", 443, "POST",
              "/services/T000PLANT/B000PLANT/PLANTEDsecretTOKEN", "HTTP/1.1", 200, 2)  # fmt: skip
    log.debug('"POST /hooks/HTTPSplantedHOOK HTTP/1.1" 204 0')
    try:
        raise RuntimeError("failed at /services/T000PLANT/B000PLANT/PLANTEDsecretTOKEN")
    except RuntimeError:
        log.exception("request failed")
    text = out.getvalue()
    for secret in ("PLANTEDsecretTOKEN", "T000PLANT", "B000PLANT", "HTTPSplantedHOOK"):
        assert secret not in text, text
    assert '"POST /services/' in text and "HTTP/1.1" in text and "RuntimeError" in text


def test_encoded_forms_are_masked_too() -> None:
    register_secret("tok/en+with spaces")
    assert "with" not in mask_secrets("GET /x/tok%2Fen%2Bwith%20spaces")
    assert mask_secrets("tok/en+with spaces") == MASK


def test_short_or_empty_parts_are_not_registered() -> None:
    register_secret("abc")
    register_secret("")
    assert mask_secrets("abc def") == "abc def"


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("slack://TA/TB/TC/#chan", ["TA", "TB", "TC"]),
        ("slack://TA/TB/TC/%23chan", ["TA", "TB", "TC"]),
        ("mailtos://user:hunter2@smtp.example.org?to=a@example.org", ["hunter2"]),
        ("json://example.org/path?token=sekret&x=1", ["sekret"]),
        ("https://example.org/api/webhooks/123/abc", ["123", "abc"]),
        ("a bare token", ["a bare token"]),
    ],
)
def test_secret_parts(url: str, parts: list[str]) -> None:
    assert secret_parts(url) == parts
