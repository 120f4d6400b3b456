"""Issue 17, item 7: counts in words that agree with them, `check` not saying "nothing was started",
a missing config named with its absolute path and how to name another."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.cli import CliShell
from tests.support.config import USER_AGENT
from watcher.base.text import plural
from watcher.cli.main import main


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.mark.parametrize(
    ("count", "word", "many", "expected"),
    [
        (0, "file", None, "0 files"),
        (1, "file", None, "1 file"),
        (2, "category", "categories", "2 categories"),
        (1, "category", "categories", "1 category"),
        (1234567, "change", None, "1,234,567 changes"),
    ],
)
def test_plural(count: int, word: str, many: str | None, expected: str) -> None:
    assert plural(count, word, many) == expected


def test_plural_with_the_status_page_thousands() -> None:
    assert plural(1280, "file", thousands=" ") == "1 280 files"


def test_check_counts_in_words(tmp_path: Path) -> None:
    one = tmp_path / "one.toml"
    one.write_text(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\n[tracking]\ncategories = ["Category:X"]\n'
        'uploaders = ["Museum"]\ntemplates = ["T"]\nfiles = ["File:A.jpg"]\n'
        '[[tracking.object_id]]\ntemplate = "Artwork"\nparam = "accession number"\n',
        encoding="utf-8",
    )
    result = invoke("check", "-c", str(one))
    assert result.exit_code == 0, result.output
    assert "tracking: 1 category (depth 0), 1 uploader, 1 template, 1 file" in result.stdout
    assert "\n  1. template Artwork, param accession number\n" in result.stdout
    many = tmp_path / "many.toml"
    many.write_text(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\n[tracking]\ncategories = ["Category:X", "Category:Y"]\n'
        'uploaders = ["A", "B"]\n',
        encoding="utf-8",
    )
    result = invoke("check", "-c", str(many))
    assert "tracking: 2 categories (depth 0), 2 uploaders" in result.stdout
    assert "object id rules: none" in result.stdout


def test_check_of_a_bad_config_does_not_say_nothing_was_started(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[watcher]\n", encoding="utf-8")  # no user agent, no tracking source: two problems
    result = invoke("check", "-c", str(path))
    assert result.exit_code == 78
    assert "nothing was started" not in result.stderr
    assert f"{path}: 2 problems; correct the config and run `watcher check` again." in result.stderr
    # A command that would have done something still says it did nothing.
    assert "2 problems; nothing was started." in invoke("status", "-c", str(path)).stderr


def test_one_problem_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[tracking]\ncategories = ['Category:X']\n", encoding="utf-8")
    assert f"{path}: 1 problem; nothing was started." in invoke("changes", "-c", str(path)).stderr


def test_a_missing_config_is_named_with_its_absolute_path_and_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    default = invoke("check")
    assert default.exit_code == 78
    assert f"config file not found: {tmp_path / 'config.toml'} (the default, ./config.toml" in default.stderr
    assert "-c PATH" in default.stderr and "$WATCHER_CONFIG" in default.stderr
    given = invoke("status", "-c", "elsewhere/watcher.toml")
    assert f"{tmp_path / 'elsewhere' / 'watcher.toml'} (named with -c/--config)" in given.stderr
    env = invoke("changes", env={"WATCHER_CONFIG": "from-env.toml"})
    assert f"{tmp_path / 'from-env.toml'} (named by $WATCHER_CONFIG)" in env.stderr


def test_status_counts_in_words(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    shell.sql(
        "INSERT INTO tracked_files (title, state, added_at, updated_at) VALUES ('File:A.jpg', 'active', 'x', 'x')"
    )
    shell.sql("INSERT INTO tracked_categories (title, root, depth) VALUES ('Category:X', 'Category:X', 0)")
    lines = dict(line.split(":", 1) for line in shell.run("status").stdout.splitlines())
    assert lines["tracked"].strip() == "1 file (0 deleted), 1 category"
    assert lines["object ids"].strip() == "0 of 1 file (not looked up: 1); `watcher tracked` looks them up"
