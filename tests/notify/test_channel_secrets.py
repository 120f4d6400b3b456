"""Issue 13, item 7: a bare token in a urls_from file is not echoed by ``watcher check``, and the
channels' URL secrets are registered for masking everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from watcher.base.masking import forget_registered_secrets, mask_secrets
from watcher.config import Config
from watcher.notify.channels import build_channels, check_channels


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    yield
    forget_registered_secrets()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("apprise.yml", "urls:\n  - BARExoxbTOKEN4242\n"),
        ("apprise.yml", "urls:\n  - json://127.0.0.1:9/a\n  - 'BARExoxbTOKEN4242'\n"),
        ("apprise.txt", "BARExoxbTOKEN4242\n"),
        ("apprise.txt", "json://127.0.0.1:9/a\nops=BARExoxbTOKEN4242\n"),
        ("apprise.txt", "json://127.0.0.1:9/a\nBARExoxbTOKEN4242 json://127.0.0.1:9/b\n"),
    ],
)
def test_a_bare_token_in_urls_from_is_not_echoed(
    make_config: Callable[[str], Config], tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    config = make_config(f'[[notify]]\nname = "ops"\nurls_from = "{name}"\n')
    problems = check_channels(config)
    shown = "\n".join(problems)
    assert "TOKEN4242" not in shown, shown


def test_configured_url_secrets_are_masked_outside_urls(make_config: Callable[[str], Config]) -> None:
    config = make_config(
        '[[notify]]\nname = "chat"\nurls = ["slack://T0SECRETA/B0SECRETB/XXSECRETTOKENXX/#general"]\n'
    )
    channels, problems = build_channels(config)
    assert channels[0].targets and not problems
    line = '"POST /services/T0SECRETA/B0SECRETB/XXSECRETTOKENXX HTTP/1.1" 200 2'
    masked = mask_secrets(line)
    for secret in ("T0SECRETA", "B0SECRETB", "XXSECRETTOKENXX"):
        assert secret not in masked, masked
    assert masked.startswith('"POST /services/') and "HTTP/1.1" in masked
    assert "general" in mask_secrets("posted to #general")  # a channel name is not a secret


def test_urls_from_secrets_are_registered_too(make_config: Callable[[str], Config], tmp_path: Path) -> None:
    (tmp_path / "apprise.txt").write_text("discord://112233445566/FILEsecretWEBHOOKtoken\n", encoding="utf-8")
    config = make_config('[[notify]]\nname = "ops"\nurls_from = "apprise.txt"\n')
    build_channels(config)
    masked = mask_secrets("POST /api/webhooks/112233445566/FILEsecretWEBHOOKtoken HTTP/1.1")
    assert "FILEsecretWEBHOOKtoken" not in masked and "112233445566" not in masked
