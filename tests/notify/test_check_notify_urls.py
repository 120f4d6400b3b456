"""Issue 17, item 2: `watcher check` says which [[notify]] entry and line a bad URL is on, names the scheme
meant instead of apprise's "Unparseable URL", and flags an e-mail URL with no server to send through."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from tests.support.config import MINIMAL_CONFIG
from watcher.cli.main import main
from watcher.config import EX_CONFIG

# Line numbers below count from here: MINIMAL_CONFIG is five lines (the last one blank is line 6).
CHANNELS = """
[[notify]]
name = "collections"
urls = ["mailto://smtp.museum.example:25/?to=collections@museum.example&from=watcher@museum.example"]

[[notify]]
name = "registrar"
mode = "immediate"
urls = [
  "json://127.0.0.1:9/hook",
  "slak://T1SECRETAAA/B2SECRETBBB/C3SECRETCCC/#registrar",
]

[[notify]]
name = "samlingar"
urls = ["mailto://samlingar@nationalmuseum.se"]
"""


def _check(tmp_path: Path, text: str) -> tuple[Result, Path]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["check", "-c", str(path)]), path


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_misspelt_scheme_is_named_with_its_entry_line_and_the_scheme_meant(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + CHANNELS
    result, path = _check(tmp_path, text)
    assert result.exit_code == EX_CONFIG, result.output
    slak = _line_of(text, "slak://")
    (line,) = [row for row in result.stderr.splitlines() if "slak://" in row]
    assert line == (
        f"{path}: line {slak}: notify[1] 'registrar': URL slak://***/***/***/#registrar: "
        "apprise has no slak:// service; did you mean slack://?"
    )
    assert "SECRET" not in result.output and "Unparseable" not in result.output
    # The good URLs of the same file raise nothing.
    assert "json://" not in result.stderr and "smtp.museum.example" not in result.stderr


def test_a_mailto_without_a_server_is_flagged_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + CHANNELS
    result, path = _check(tmp_path, text)
    (line,) = [row for row in result.stderr.splitlines() if "nationalmuseum.se" in row]
    prefix = f"{path}: line {_line_of(text, 'samlingar@')}: notify[2] 'samlingar': URL mailto://***@nationalmuseum.se "
    assert line.startswith(prefix + "has no server to send through: "), line
    assert "nationalmuseum.se is not a mail provider apprise knows" in line
    assert "smtp=HOST" in line and "mailtos://USER:PASSWORD@smtp.example.org?to=ADDRESS" in line
    last = result.stderr.splitlines()[-1]  # the slak:// one and this one, nothing else
    assert last.startswith(f"{path}: 2 problem") and "with [[notify]]" in last


def test_known_provider_without_password_and_explicit_smtp(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + (
        '\n[[notify]]\nname = "gmail"\nurls = ["mailtos://registrar@gmail.com"]\n'
        # The same address with the server named: what apprise needs, so nothing to say.
        '\n[[notify]]\nname = "named"\n'
        'urls = ["mailto://samlingar@nationalmuseum.se?smtp=127.0.0.1&to=a@museum.example"]\n'
        '\n[[notify]]\nname = "login"\nurls = ["mailtos://watcher:pw@smtp.museum.example?to=a@museum.example"]\n'
    )
    result, path = _check(tmp_path, text)
    assert result.exit_code == EX_CONFIG, result.output
    problems = [row for row in result.stderr.splitlines() if "notify[" in row]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith(f"{path}: line {_line_of(text, 'gmail.com')}: notify[0] 'gmail': ")
    assert "names no password: sending through smtp.gmail.com needs the account's login" in problems[0]


def test_good_urls_pass(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + CHANNELS.split('\n[[notify]]\nname = "registrar"')[0]
    result, path = _check(tmp_path, text)
    assert result.exit_code == 0, result.output
    assert f"{path}: OK" in result.stdout


def test_a_misspelt_scheme_in_urls_from_names_its_line_there(tmp_path: Path) -> None:
    (tmp_path / "apprise.txt").write_text(
        "json://127.0.0.1:9/a\n# the registrar's chat\ndiscrod://112233/SECRETWEBHOOK\n", encoding="utf-8"
    )
    text = MINIMAL_CONFIG + '\n[[notify]]\nname = "ops"\nmode = "both"\nurls_from = "apprise.txt"\n'
    result, path = _check(tmp_path, text)
    assert result.exit_code == EX_CONFIG, result.output
    (line,) = [row for row in result.stderr.splitlines() if "discrod" in row]
    assert line == (
        f"{path}: line {_line_of(text, 'urls_from')}: notify[0] 'ops': urls_from {tmp_path / 'apprise.txt'}, "
        "line 3: URL discrod://***/***: apprise has no discrod:// service; did you mean discord://?"
    )
    assert "SECRETWEBHOOK" not in result.output
