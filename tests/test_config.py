"""config.toml: every problem reported with its key path and line, defaults, paths, `watcher check`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.config import MINIMAL_CONFIG, USER_AGENT
from tests.support.core import CONTRACT_EXAMPLE, REPO
from watcher.cli.main import main
from watcher.config import (
    DEFAULT_API_URL,
    DEFAULT_STREAM_URL,
    EX_CONFIG,
    Config,
    ConfigError,
    ConfigProblem,
    ObjectIdRule,
    default_config_path,
    load_config,
    parse_config,
)
from watcher.diff.model import DiffSettings


def line_of(text: str, needle: str, after: int = 0) -> int:
    """The 1-based number of the first line after line ``after`` that contains ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def problems_of(text: str, path: Path) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    return caught.value.problems


def by_path(problems: list[ConfigProblem]) -> dict[str, ConfigProblem]:
    return {p.path: p for p in problems}


# -- valid configs -------------------------------------------------------------------------------


def test_the_shipped_example_config_is_valid() -> None:
    path = REPO / "config.toml"
    config = parse_config(path.read_text(encoding="utf-8"), path)
    assert config.user_agent.startswith("CommonsWatcher/")
    assert config.tracking.categories == ("Category:Media contributed by LSH",)
    assert config.tracking.category_depth == 1
    assert config.tracking.files_from is None  # "" means none
    rules = config.tracking.object_id
    assert rules[:2] == (
        ObjectIdRule(template="LSH artwork", param="inventory number"),
        ObjectIdRule(template="Artwork", param="accession number"),
    )
    assert rules[2].pattern is not None and rules[2].template is None
    assert config.database == REPO / "watcher.sqlite3"  # relative to the file's folder
    assert config.web is not None and (config.web.host, config.web.port) == ("127.0.0.1", 8750)
    assert DiffSettings.from_section(config.diff).info_templates == ("LSH artwork",)


def test_load_config_reads_the_shipped_example() -> None:
    assert load_config(REPO / "config.toml").wiki.name == "commonswiki"


def test_the_contract_example_is_valid(tmp_path: Path) -> None:
    config = parse_config(CONTRACT_EXAMPLE, tmp_path / "config.toml")
    assert [r.param for r in config.tracking.object_id[:2]] == ["accession number", "1"]
    assert config.tracking.object_id[2].pattern == r" - EXM (\d+)\.\w+$"
    (channel,) = config.notify
    assert channel.name == "collections" and channel.mode == "digest"
    assert channel.urls_from is None and channel.coalesce_seconds == 60.0
    assert (channel.digest_at, channel.timezone) == ("07:30", "Europe/Stockholm")
    assert config.labels.languages == ("sv", "en")
    assert config.database == tmp_path / "watcher.sqlite3"


def test_a_minimal_config_gets_the_documented_defaults(make_config: Callable[..., Config]) -> None:
    config = make_config()
    assert config.user_agent == USER_AGENT
    assert config.stream.url == DEFAULT_STREAM_URL
    assert config.wiki.name == "commonswiki" and config.wiki.api_url == DEFAULT_API_URL
    assert config.filters.ignore_bots is True
    assert config.web is None and config.notify == ()
    assert config.tracking.category_depth == 0
    assert config.database.name == "watcher.sqlite3"


def test_the_default_database_sits_beside_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = parse_config(MINIMAL_CONFIG, tmp_path / "etc" / "config.toml")
    assert config.database == tmp_path / "etc" / "watcher.sqlite3"


def test_typed_values_are_converted(make_config: Callable[..., Config]) -> None:
    config = make_config(
        'category_depth = 2\nrefresh_hours = 6\nuploaders = ["LSH upload"]\n'
        "[stream]\nread_timeout = 30\nbackoff_initial = 0.5\n"
        "[filters]\nignore_bots = false\n"
        '[web]\nlisten = "[::1]:9000"\npublic_url = "https://watch.museum.example/"\n'
    )
    assert config.tracking.category_depth == 2 and config.tracking.refresh_hours == 6.0
    assert isinstance(config.tracking.refresh_hours, float)
    assert config.tracking.museum_accounts == ("LSH upload",)  # own_accounts defaults to uploaders
    assert config.stream.read_timeout == 30.0 and config.stream.backoff_initial == 0.5
    assert config.filters.ignore_bots is False
    assert config.web is not None
    assert (config.web.host, config.web.port) == ("::1", 9000)
    assert config.web.base_url == "https://watch.museum.example"


def test_each_tracking_source_alone_is_enough(tmp_path: Path) -> None:
    titles = tmp_path / "titles.txt"
    titles.write_text("File:A.jpg\n", encoding="utf-8")
    head = f'[watcher]\nuser_agent = "{USER_AGENT}"\n[tracking]\n'
    for source in (
        'uploaders = ["U"]',
        'templates = ["T"]',
        'files = ["File:A.jpg"]',
        'files_from = "titles.txt"',
    ):
        parse_config(f"{head}{source}\n", tmp_path / "config.toml")


# -- problems, each with its key path and line ---------------------------------------------------


def test_unknown_keys_everywhere_are_all_reported_with_lines(tmp_path: Path) -> None:
    text = (
        MINIMAL_CONFIG
        + "categry_depth = 1\n"
        + '[[tracking.object_id]]\ntemplate = "Artwork"\nparm = "accession number"\n'
        + "[filters]\nignore_bot = true\n"
        + '[[notify]]\nname = "a"\nurls = ["json://localhost"]\n'
        + '[[notify]]\nname = "b"\nurls = ["json://localhost"]\ndigest = "07:30"\n'
        + "[colour]\nred = 1\n"
    )
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    expected = {
        "tracking.categry_depth": line_of(text, "categry_depth"),
        "tracking.object_id[0].parm": line_of(text, "parm ="),
        "filters.ignore_bot": line_of(text, "ignore_bot ="),
        "notify[1].digest": line_of(text, "digest ="),
        "colour": line_of(text, "[colour]"),
    }
    for path, line in expected.items():
        assert path in found, f"{path} not reported: {sorted(found)}"
        assert found[path].line == line, path
    assert "unknown key" in found["filters.ignore_bot"].message
    assert "ignore_bots" in found["filters.ignore_bot"].message  # names the known keys
    assert "unknown table" in found["colour"].message
    # The misspelt parameter also leaves the rule incomplete.
    assert "tracking.object_id[0]" in found


def test_unknown_key_in_the_second_of_three_array_tables(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + (
        '[[tracking.object_id]]\ntemplate = "A"\nparam = "1"\n'
        '[[tracking.object_id]]\ntemplate = "B"\nparam = "2"\ncolour = "red"\n'
        '[[tracking.object_id]]\ntemplate = "C"\nparam = "3"\n'
    )
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "tracking.object_id[1].colour"
    assert problem.line == line_of(text, "colour")


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("tracking", "category_depth", '"2"', "must be an integer, not a string ('2')"),
        ("tracking", "category_depth", "1.5", "must be an integer, not a number"),
        ("tracking", "category_depth", "true", "must be an integer, not a boolean"),
        ("tracking", "refresh_hours", '"24"', "must be a number, not a string"),
        ("tracking", "uploaders", '"LSH upload"', "must be an array, not a string"),
        ("tracking", "files_from", "3", "must be a string (a path), not an integer"),
        ("filters", "ignore_bots", "1", "must be true or false, not an integer"),
        ("filters", "ignore_bots", '"yes"', "must be true or false, not a string"),
        ("filters", "languages", "{ sv = 1 }", "must be an array, not a table"),
        ("watcher", "database", "[]", "must be a string (a path), not an array"),
        ("stream", "url", "{ a = 1 }", "must be a string, not a table"),
        ("stream", "read_timeout", '"60"', "must be a number, not a string"),
        ("wiki", "name", "7", "must be a string, not an integer"),
        ("web", "listen", "8750", "must be a string, not an integer"),
    ],
)
def test_wrong_types(tmp_path: Path, section: str, key: str, value: str, expected: str) -> None:
    if section == "tracking":
        text = MINIMAL_CONFIG + f"{key} = {value}\n"
    elif section == "watcher":
        text = MINIMAL_CONFIG.replace("[watcher]\n", f"[watcher]\n{key} = {value}\n")
    else:
        text = MINIMAL_CONFIG + f"[{section}]\n{key} = {value}\n"
    problems = problems_of(text, tmp_path / "config.toml")
    mine = [p for p in problems if p.path == f"{section}.{key}"]
    assert mine, problems
    assert expected in mine[0].message
    assert mine[0].line == line_of(text, f"{key} = {value}")


def test_wrong_type_inside_an_array_names_the_element(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + 'uploaders = ["A", 2, "C"]\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "tracking.uploaders[1]"
    assert problem.line == line_of(text, "uploaders")
    assert "must be a string, not an integer" in problem.message


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    text = 'watcher = "yes"\n[tracking]\ncategories = ["Category:X"]\n'
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    assert found["watcher"].message == "must be a table, not a string ('yes')"
    assert found["watcher"].line == 1


def test_notify_must_be_an_array_of_tables(tmp_path: Path) -> None:
    text = 'notify = "mailto://x"\n' + MINIMAL_CONFIG
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "notify" and problem.line == 1
    assert "[[notify]]" in problem.message


def test_user_agent_is_required(tmp_path: Path) -> None:
    text = '[watcher]\ndatabase = "w.sqlite3"\n[tracking]\ncategories = ["Category:X"]\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "watcher.user_agent"
    assert problem.line == 1  # no such key: the line of its table
    assert "is required" in problem.message


def test_user_agent_without_table_has_no_line(tmp_path: Path) -> None:
    (problem,) = problems_of('[tracking]\ncategories = ["Category:X"]\n', tmp_path / "config.toml")
    assert problem.path == "watcher.user_agent" and problem.line is None
    assert str(problem).startswith("watcher.user_agent: is required")


@pytest.mark.parametrize("agent", ["watcher", "Watcher/1.0", "Watcher/1.0 (the museum)", "   "])
def test_user_agent_without_version_or_contact_is_refused(tmp_path: Path, agent: str) -> None:
    text = MINIMAL_CONFIG.replace(USER_AGENT, agent)
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "watcher.user_agent" and problem.line == 2


def test_no_tracking_source(tmp_path: Path) -> None:
    text = f'[watcher]\nuser_agent = "{USER_AGENT}"\n\n[tracking]\ncategory_depth = 2\nfiles_from = ""\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "tracking" and problem.line == 4
    assert "no tracking source" in problem.message


def test_no_tracking_table_at_all(tmp_path: Path) -> None:
    (problem,) = problems_of(f'[watcher]\nuser_agent = "{USER_AGENT}"\n', tmp_path / "config.toml")
    assert problem.path == "tracking" and problem.line is None


def test_object_id_rules_are_checked(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + (
        "[[tracking.object_id]]\npattern = '(unclosed'\n"
        "[[tracking.object_id]]\npattern = ' - EXM \\d+$'\n"
        '[[tracking.object_id]]\ntemplate = "Artwork"\n'
        '[[tracking.object_id]]\nparam = "accession number"\n'
        "[[tracking.object_id]]\n"
        '[[tracking.object_id]]\ntemplate = "Artwork"\nparam = "id"\npattern = \'(\\d+)\'\n'
        "[[tracking.object_id]]\npattern = '(?P<id>\\d+)'\n"
    )
    problems = problems_of(text, tmp_path / "config.toml")
    found = by_path(problems)
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line == "[[tracking.object_id]]"]
    assert "not a valid regular expression" in found["tracking.object_id[0].pattern"].message
    assert found["tracking.object_id[0].pattern"].line == headers[0] + 1
    assert "needs one group" in found["tracking.object_id[1].pattern"].message
    assert found["tracking.object_id[1].pattern"].line == headers[1] + 1
    for index in (2, 3, 4):
        assert "needs template and param, or pattern" in found[f"tracking.object_id[{index}]"].message
        assert found[f"tracking.object_id[{index}]"].line == headers[index]
    assert "not both" in found["tracking.object_id[5]"].message
    assert "tracking.object_id[6]" not in " ".join(found)  # a named group is a group
    assert len(problems) == 6


def test_notify_channels_are_checked(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + (
        '[[notify]]\nname = "curators"\nurls = ["json://localhost"]\ndigest_at = "7:30"\n'
        '[[notify]]\nname = "curators"\nurls = ["json://localhost"]\ntimezone = "Europe/Stockholmm"\n'
        '[[notify]]\nname = "x"\ndigest_at = "24:00"\nmode = "weekly"\ncoalesce_seconds = -1\n'
        '[[notify]]\nurls = ["json://localhost"]\n'
    )
    problems = problems_of(text, tmp_path / "config.toml")
    found = by_path(problems)
    assert found["notify[0].digest_at"].line == line_of(text, '"7:30"')
    assert "HH:MM" in found["notify[0].digest_at"].message
    assert found["notify[1].name"].line == line_of(text, 'name = "curators"', after=line_of(text, "7:30"))
    assert "used by two channels" in found["notify[1].name"].message
    assert found["notify[1].timezone"].line == line_of(text, "Stockholmm")
    assert "unknown time zone" in found["notify[1].timezone"].message
    assert "needs urls or urls_from" in found["notify[2]"].message
    assert found["notify[2].digest_at"].line == line_of(text, "24:00")
    assert "must be one of 'immediate', 'digest', 'both'" in found["notify[2].mode"].message
    assert "0 or more" in found["notify[2].coalesce_seconds"].message
    assert "is required" in found["notify[3].name"].message
    assert len(problems) == 8


def test_web_listen_must_be_host_and_port(tmp_path: Path) -> None:
    for listen in ("localhost", "localhost:http", "127.0.0.1:70000"):
        text = MINIMAL_CONFIG + f'[web]\nlisten = "{listen}"\n'
        (problem,) = problems_of(text, tmp_path / "config.toml")
        assert problem.path == "web.listen" and problem.line == line_of(text, "listen")


def test_numbers_out_of_range_and_urls(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + (
        "category_depth = -1\nrefresh_hours = 0\n"
        '[stream]\nurl = "stream.wikimedia.org/v2/stream/recentchange"\nread_timeout = 0\n'
        '[wiki]\napi_url = "ftp://commons.wikimedia.org/w/api.php"\n'
    )
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    assert set(found) == {
        "tracking.category_depth",
        "tracking.refresh_hours",
        "stream.url",
        "stream.read_timeout",
        "wiki.api_url",
    }
    assert found["wiki.api_url"].line == line_of(text, "ftp://")


def test_files_from_that_does_not_exist(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + 'files_from = "titles.txt"\n'
    (problem,) = problems_of(text, tmp_path / "conf" / "config.toml")
    assert problem.path == "tracking.files_from" and problem.line == line_of(text, "files_from")
    assert str(tmp_path / "conf" / "titles.txt") in problem.message


def test_urls_from_that_does_not_exist(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + '[[notify]]\nname = "a"\nurls_from = "apprise.yml"\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "notify[0].urls_from" and "file not found" in problem.message


def test_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "category_depth 2\n\n[filters]\nignore_bots = true\n"
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "" and "not valid TOML" in problem.message
    assert problem.line == line_of(text, "category_depth")
    assert str(problem).startswith(f"line {problem.line}: not valid TOML")


def test_duplicate_key_is_a_toml_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + 'categories = ["Category:Y"]\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.line == line_of(text, "Category:Y")


def test_every_problem_is_collected_not_just_the_first(tmp_path: Path) -> None:
    text = (
        '[watcher]\nuser_agent = ""\nbogus = 1\n'
        '[tracking]\ncategory_depth = "one"\n'
        "[filters]\nignore_bots = 0\n"
        '[[notify]]\nname = "n"\nurls = ["json://x"]\ntimezone = "Nowhere/City"\n'
    )
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    error = caught.value
    assert {p.path for p in error.problems} == {
        "watcher.user_agent",
        "watcher.bogus",
        "tracking.category_depth",
        "tracking",
        "filters.ignore_bots",
        "notify[0].timezone",
    }
    assert error.source == path
    message = str(error)
    assert message.count(str(path)) == len(error.problems)
    for problem in error.problems:
        assert str(problem) in message


def test_empty_database_path_is_a_problem(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = ""\n')
    problems = problems_of(text, tmp_path / "config.toml")
    assert [p.path for p in problems] == ["watcher.database"]


# -- paths ---------------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc" / "watcher"
    folder.mkdir(parents=True)
    (folder / "titles.txt").write_text("File:A.jpg\n", encoding="utf-8")
    (folder / "secrets").mkdir()
    (folder / "secrets" / "apprise.yml").write_text("urls: []\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    text = MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "state/w.sqlite3"\n') + (
        'files_from = "titles.txt"\n[[notify]]\nname = "n"\nurls_from = "secrets/apprise.yml"\n'
    )
    config = parse_config(text, folder / "config.toml")
    assert config.database == folder / "state" / "w.sqlite3"
    assert config.tracking.files_from == folder / "titles.txt"
    assert config.notify[0].urls_from == folder / "secrets" / "apprise.yml"


def test_a_relative_config_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "w.sqlite3"\n')
    config = parse_config(text, Path("config.toml"))
    assert config.path == tmp_path / "config.toml"
    assert config.database == tmp_path / "w.sqlite3"


def test_absolute_and_home_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    text = MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "~/w.sqlite3"\n')
    assert parse_config(text, tmp_path / "c" / "config.toml").database == tmp_path / "home" / "w.sqlite3"
    text = MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "/var/lib/watcher/w.sqlite3"\n')
    assert parse_config(text, tmp_path / "config.toml").database == Path("/var/lib/watcher/w.sqlite3")


def test_default_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    assert default_config_path() == Path("config.toml")
    monkeypatch.setenv("WATCHER_CONFIG", str(tmp_path / "env.toml"))
    assert default_config_path() == tmp_path / "env.toml"
    assert default_config_path(tmp_path / "explicit.toml") == tmp_path / "explicit.toml"
    assert default_config_path("relative.toml") == Path("relative.toml")


def test_load_config_uses_env_then_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    (here / "config.toml").write_text(MINIMAL_CONFIG.replace("Category:X", "Category:Here"), encoding="utf-8")
    env = tmp_path / "env.toml"
    env.write_text(MINIMAL_CONFIG.replace("Category:X", "Category:Env"), encoding="utf-8")
    monkeypatch.chdir(here)
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    assert load_config().tracking.categories == ("Category:Here",)
    assert load_config().path == here / "config.toml"
    monkeypatch.setenv("WATCHER_CONFIG", str(env))
    assert load_config().tracking.categories == ("Category:Env",)


def test_load_config_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    (problem,) = caught.value.problems
    assert problem.message.startswith("config file not found: ") and problem.line is None
    assert caught.value.source == tmp_path / "nope.toml"


def test_load_config_of_a_folder_or_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "config.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for source in (tmp_path, binary):
        with pytest.raises(ConfigError) as caught:
            load_config(source)
        assert "cannot read config file" in caught.value.problems[0].message


# -- importing -----------------------------------------------------------------------------------


def test_config_imports_first_in_a_fresh_interpreter() -> None:
    """config → diff.model must not pull in a diff module that imports config back (a cycle once)."""
    result = subprocess.run(
        [sys.executable, "-c", "import watcher.config, watcher.cli.main"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr


# -- `watcher check` -----------------------------------------------------------------------------


def test_check_accepts_a_good_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG + "category_depth = 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: OK" in result.stdout
    assert "1 category (depth 2)" in result.stdout


def test_check_accepts_the_shipped_example() -> None:
    result = CliRunner().invoke(main, ["check", "--config", str(REPO / "config.toml")])
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout


def test_check_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    text = (
        '[watcher]\nuser_agent = "x"\n'
        '[tracking]\ncategories = "Category:X"\n'
        "[[tracking.object_id]]\npattern = '[a-z'\n"
        '[[notify]]\nname = "n"\nurls = ["json://x"]\ndigest_at = "noon"\n'
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == EX_CONFIG == 78
    assert "OK" not in result.stdout
    expected = {
        "watcher.user_agent": line_of(text, "user_agent"),
        "tracking.categories": line_of(text, "categories"),
        "tracking.object_id[0].pattern": line_of(text, "pattern"),
        "notify[0].digest_at": line_of(text, "noon"),
    }
    for key, line in expected.items():
        assert f"{path}: line {line}: {key}: " in result.stderr, result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith(f"{path}: line ")]
    assert (
        f"{path}: {len(listed)} problems; correct the config and run `watcher check` again." in result.stderr
    )
    # The invalid categories also leave no tracking source, a problem of the [tracking] table.
    assert f"{path}: line 3: tracking: names no tracking source" in result.stderr


def test_check_of_a_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG + "[web\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == EX_CONFIG
    assert f"line {MINIMAL_CONFIG.count(chr(10)) + 1}: not valid TOML" in result.stderr


def test_check_finds_the_config_through_the_environment(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL_CONFIG, encoding="utf-8")
    result = CliRunner().invoke(main, ["check"], env={"WATCHER_CONFIG": str(good)})
    assert result.exit_code == 0 and f"{good}: OK" in result.stdout
    result = CliRunner().invoke(main, ["check"], env={"WATCHER_CONFIG": str(tmp_path / "missing.toml")})
    assert result.exit_code == EX_CONFIG
    assert "config file not found" in result.stderr


# -- [export] ------------------------------------------------------------------------------------


def test_export_columns_and_webhook_are_read(tmp_path: Path) -> None:
    (tmp_path / "hook.secret").write_text("s3cret\n", encoding="utf-8")
    text = MINIMAL_CONFIG + (
        "[export]\n"
        'layout = "wide"\n'
        'webhook = "https://cms.example/hook"\n'
        'webhook_secret_file = "hook.secret"\n'
        "[export.columns]\n"
        '"description/sv" = "Beskrivning"\n'
        'date = "Datering"\n'
    )
    config = parse_config(text, tmp_path / "config.toml")
    assert config.export.columns == {"description/sv": "Beskrivning", "date": "Datering"}
    assert config.export.layout == "wide" and config.export.webhook == "https://cms.example/hook"
    assert config.export.webhook_secret_file == tmp_path / "hook.secret"


def test_export_problems_are_reported_with_lines(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + (
        "[export]\n"
        'layout = "tall"\n'
        'webhook = "cms.example/hook"\n'
        "[export.columns]\n"
        '"description/" = "Beskrivning"\n'
        'date = ""\n'
        'title = "Datering"\n'
        '"date/sv" = "Datering"\n'
        "creator = 3\n"
    )
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    assert "must be one of" in found["export.layout"].message
    assert found["export.layout"].line == line_of(text, "layout =")
    assert "not an http(s) URL" in found["export.webhook"].message
    assert found["export.columns.description/"].line == line_of(text, '"description/"')
    assert "not be empty" in found["export.columns.date"].message
    assert "also the column of 'title'" in found["export.columns.date/sv"].message
    assert "must be a string" in found["export.columns.creator"].message


def test_a_webhook_needs_exactly_one_secret(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + '[export]\nwebhook = "https://cms.example/hook"\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "export.webhook_secret" and "HMAC" in problem.message
    both = text + 'webhook_secret = "x"\nwebhook_secret_file = "nowhere"\n'
    found = by_path(problems_of(both, tmp_path / "config.toml"))
    assert "not both" in found["export.webhook_secret"].message
    assert "file not found" in found["export.webhook_secret_file"].message
