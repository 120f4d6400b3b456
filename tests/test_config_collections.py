"""Issue 19, part 1: several collections in one config (`[[collection]]`), the `[tracking]` form as the
collection `default`, `[[notify]] collections`, and `watcher check` naming each collection."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.config import MINIMAL_CONFIG, USER_AGENT
from tests.support.core import CONTRACT_EXAMPLE, REPO
from watcher.cli.main import main
from watcher.config import (
    DEFAULT_COLLECTION,
    EX_CONFIG,
    CollectionSection,
    ConfigError,
    ConfigProblem,
    ObjectIdRule,
    SeveralCollections,
    TrackingSection,
    parse_config,
)

HEAD = f'[watcher]\nuser_agent = "{USER_AGENT}"\n\n'

# The example of the contract's "Many collections in one deployment", verbatim (comments included).
CONTRACT_COLLECTION = """\
[[collection]]
name = "hallwyl"                        # letters, digits, - and _; shown in the CLI and URLs
title = "The Hallwyl Museum"            # shown to curators
categories = ["Category:Media contributed by the Hallwyl Museum"]
category_depth = 1                      # and every other [tracking] key
[[collection.object_id]]
template = "Hallwyl-link"
param = "1"
"""

THREE = (
    HEAD
    + CONTRACT_COLLECTION
    + "\n[[collection]]\n"
    + 'name = "armoury"\n'
    + 'title = "The Royal Armoury"\n'
    + 'uploaders = ["LSH upload"]\n'
    + "[[collection.object_id]]\n"
    + "pattern = ' - LSH (\\d+)\\.\\w+$'\n"
    + "[[collection.object_id]]\n"
    + 'template = "Artwork"\n'
    + 'param = "accession number"\n'
    + "\n[[collection]]\n"
    + 'name = "skokloster_2"\n'
    + 'templates = ["Skokloster"]\n'
    + "refresh_hours = 6\n"
)


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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the two forms -------------------------------------------------------------------------------


def test_the_contracts_collection_example_is_valid(tmp_path: Path) -> None:
    config = parse_config(HEAD + CONTRACT_COLLECTION, tmp_path / "config.toml")
    (hallwyl,) = config.collections
    assert (hallwyl.name, hallwyl.title) == ("hallwyl", "The Hallwyl Museum")
    assert hallwyl.categories == ("Category:Media contributed by the Hallwyl Museum",)
    assert hallwyl.category_depth == 1
    assert hallwyl.object_id == (ObjectIdRule(template="Hallwyl-link", param="1"),)
    assert config.collection_names == ("hallwyl",)
    assert config.tracking is hallwyl  # one collection: old code keeps working


def test_three_collections_each_with_its_own_keys_and_rules(tmp_path: Path) -> None:
    config = parse_config(THREE, tmp_path / "config.toml")
    assert config.collection_names == ("hallwyl", "armoury", "skokloster_2")
    hallwyl, armoury, skokloster = config.collections
    assert armoury.title == "The Royal Armoury" and armoury.uploaders == ("LSH upload",)
    assert armoury.museum_accounts == ("LSH upload",)
    assert [r.pattern or r.template for r in armoury.object_id] == [r" - LSH (\d+)\.\w+$", "Artwork"]
    assert hallwyl.object_id == (ObjectIdRule(template="Hallwyl-link", param="1"),)
    assert skokloster.title == "skokloster_2"  # the title defaults to the name
    assert skokloster.object_id == () and skokloster.refresh_hours == 6.0
    assert skokloster.categories == () and skokloster.category_depth == 0
    assert config.collection("armoury") is armoury
    assert config.collection("Armoury") is None and config.collection("default") is None


def test_tracking_of_several_collections_refuses_to_pick_one(tmp_path: Path) -> None:
    config = parse_config(THREE, tmp_path / "config.toml")
    with pytest.raises(SeveralCollections) as caught:
        _ = config.tracking
    assert caught.value.names == ("hallwyl", "armoury", "skokloster_2")
    assert "config.collections" in str(caught.value) and "3 (hallwyl, armoury, skokloster_2)" in str(
        caught.value
    )


def test_the_tracking_form_is_one_collection_named_default(tmp_path: Path) -> None:
    config = parse_config(CONTRACT_EXAMPLE, tmp_path / "config.toml")
    (default,) = config.collections
    assert isinstance(default, CollectionSection) and isinstance(default, TrackingSection)
    assert (default.name, default.title) == (DEFAULT_COLLECTION, DEFAULT_COLLECTION) == ("default",) * 2
    assert config.tracking is default
    assert default.categories == ("Category:Media contributed by Example Museum",)
    assert [r.param for r in default.object_id[:2]] == ["accession number", "1"]
    assert config.collection_names == ("default",)


def test_every_tracking_key_is_a_collection_key(tmp_path: Path) -> None:
    """Written once in [tracking] and once in [[collection]], every key reads the same."""
    (tmp_path / "titles.txt").write_text("File:A.jpg\n", encoding="utf-8")
    keys = (
        'categories = ["Category:X"]\ncategory_depth = 3\nuploaders = ["U"]\ntemplates = ["T"]\n'
        'files = ["File:B.jpg"]\nfiles_from = "titles.txt"\nown_accounts = ["O"]\nrefresh_hours = 2\n'
        '[[OBJECT_ID]]\ntemplate = "Artwork"\nparam = "id"\n[[OBJECT_ID]]\npattern = \'(\\d+)\'\n'
    )
    tracking = parse_config(
        HEAD + "[tracking]\n" + keys.replace("OBJECT_ID", "tracking.object_id"), tmp_path / "config.toml"
    ).tracking
    table = HEAD + '[[collection]]\nname = "x"\n' + keys.replace("OBJECT_ID", "collection.object_id")
    collection = parse_config(table, tmp_path / "config.toml").tracking
    for key in fields(TrackingSection):
        assert getattr(collection, key.name) == getattr(tracking, key.name), key.name
    assert collection.files_from == tmp_path / "titles.txt"
    assert len(collection.object_id) == 2 and collection.object_id[1].pattern == r"(\d+)"


# -- problems ------------------------------------------------------------------------------------


def test_the_two_forms_cannot_be_mixed(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "\n" + CONTRACT_COLLECTION
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "tracking" and problem.line == line_of(text, "[tracking]")
    assert "can't be used together with [[collection]]" in problem.message
    assert f"line {line_of(text, '[[collection]]')}" in problem.message


def test_an_object_id_rule_under_tracking_mixes_the_forms_too(tmp_path: Path) -> None:
    text = HEAD + CONTRACT_COLLECTION + '[[tracking.object_id]]\ntemplate = "A"\nparam = "1"\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "tracking" and problem.line == line_of(text, "[[tracking.object_id]]")


def test_no_tracking_and_no_collection(tmp_path: Path) -> None:
    (problem,) = problems_of(HEAD, tmp_path / "config.toml")
    assert problem.path == "tracking" and problem.line is None
    assert "no [tracking] table and no [[collection]] tables" in problem.message


def test_a_collection_without_a_source_is_named(tmp_path: Path) -> None:
    text = THREE + '\n[[collection]]\nname = "prints"\ncategory_depth = 2\n'
    (problem,) = problems_of(text, tmp_path / "config.toml")
    assert problem.path == "collection[3]" and problem.collection == "prints"
    assert problem.line == line_of(text, 'name = "prints"') - 1  # its [[collection]] header
    assert problem.message.startswith("collection 'prints' names no tracking source")


@pytest.mark.parametrize(
    ("name_line", "path", "expected"),
    [
        ("", "collection[1]", "needs a name"),
        ('name = ""', "collection[1].name", "must not be empty"),
        ('name = "Royal Armoury"', "collection[1].name", "letters, digits, - and _ only"),
        ('name = "armoury/1"', "collection[1].name", "not 'armoury/1'"),
        ('name = "hallwyl"', "collection[1].name", "'hallwyl' is also the name of collection[0] (line 4)"),
        ('name = "Hallwyl"', "collection[1].name", "differs only in case from 'hallwyl'"),
        ("name = 7", "collection[1].name", "must be a string, not an integer"),
    ],
)
def test_collection_names(tmp_path: Path, name_line: str, path: str, expected: str) -> None:
    text = HEAD + CONTRACT_COLLECTION + f'[[collection]]\n{name_line}\ncategories = ["Category:Y"]\n'
    problems = problems_of(text, tmp_path / "config.toml")
    found = by_path(problems)
    assert path in found, problems
    assert expected in found[path].message
    header = line_of(text, "[[collection]]", after=line_of(text, "[[collection]]"))
    assert found[path].line == (header + 1 if name_line else header)
    assert len(problems) == 1, problems


def test_problems_in_nested_rules_have_the_lines_of_their_own_collection(tmp_path: Path) -> None:
    text = THREE.replace("pattern = ' - LSH (\\d+)\\.\\w+$'", "pattern = ' - LSH \\d+'").replace(
        'param = "accession number"\n', 'param = "accession number"\ncolour = "red"\n'
    )
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    assert set(found) == {"collection[1].object_id[0].pattern", "collection[1].object_id[1].colour"}
    assert found["collection[1].object_id[0].pattern"].line == line_of(text, "pattern = ' - LSH")
    assert found["collection[1].object_id[1].colour"].line == line_of(text, "colour")
    assert {p.collection for p in found.values()} == {"armoury"}


def test_every_tracking_check_applies_to_each_collection(tmp_path: Path) -> None:
    text = THREE.replace(
        "refresh_hours = 6", 'refresh_hours = 0\ncategory_depth = -1\nfiles_from = "nope.txt"'
    )
    text += '[[collection.object_id]]\ntemplate = "Skokloster"\n'
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    assert set(found) == {
        "collection[2].refresh_hours",
        "collection[2].category_depth",
        "collection[2].files_from",
        "collection[2].object_id[0]",
    }
    assert "file not found" in found["collection[2].files_from"].message
    assert (
        found["collection[2].object_id[0]"].line
        == text.splitlines().index("[[collection.object_id]]", 20) + 1
    )
    assert {p.collection for p in found.values()} == {"skokloster_2"}


def test_unknown_keys_in_a_collection_list_name_and_title(tmp_path: Path) -> None:
    text = HEAD + CONTRACT_COLLECTION.replace("title =", "titel =")
    found = by_path(problems_of(text, tmp_path / "config.toml"))
    assert found["collection[0].titel"].line == line_of(text, "titel")
    assert "unknown key" in found["collection[0].titel"].message
    assert "name, title" in found["collection[0].titel"].message
    tracking = by_path(problems_of(MINIMAL_CONFIG + 'name = "x"\n', tmp_path / "config.toml"))
    assert "unknown key" in tracking["tracking.name"].message  # [tracking] has no name of its own


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('collection = "hallwyl"\n', "must be an array of tables ([[collection]], two brackets)"),
        ('[collection]\nname = "hallwyl"\ncategories = ["Category:X"]\n', "two brackets"),
        ("collection = []\n", "holds no collection"),
    ],
)
def test_collection_must_be_tables(tmp_path: Path, text: str, expected: str) -> None:
    # Before the first table header: a key after [watcher] would be one of [watcher]'s.
    (problem,) = problems_of(text + HEAD, tmp_path / "config.toml")
    assert problem.path == "collection" and expected in problem.message
    assert problem.line == line_of(text + HEAD, "collection")


# -- [[notify]] collections ----------------------------------------------------------------------


def test_notify_collections(tmp_path: Path) -> None:
    text = THREE + (
        '[[notify]]\nname = "hallwyl-curators"\nurls = ["json://localhost"]\ncollections = ["hallwyl"]\n'
        '[[notify]]\nname = "agency"\nurls = ["json://localhost"]\n'
    )
    config = parse_config(text, tmp_path / "config.toml")
    assert [c.collections for c in config.notify] == [("hallwyl",), ()]  # () is every collection


def test_notify_collections_of_the_tracking_form_is_default(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + '[[notify]]\nname = "n"\nurls = ["json://localhost"]\ncollections = ["default"]\n'
    assert parse_config(text, tmp_path / "config.toml").notify[0].collections == ("default",)


def test_notify_naming_an_unknown_collection(tmp_path: Path) -> None:
    text = THREE + (
        '[[notify]]\nname = "curators"\nurls = ["json://localhost"]\n'
        'collections = ["hallwyl", "armory", "Hallwyl"]\n'
    )
    problems = problems_of(text, tmp_path / "config.toml")
    found = by_path(problems)
    assert set(found) == {"notify[0].collections[1]", "notify[0].collections[2]"}
    problem = found["notify[0].collections[1]"]
    assert problem.line == line_of(text, "armory") and problem.collection is None
    assert problem.message == (
        "channel 'curators' names the unknown collection 'armory' "
        "(the collections: hallwyl, armoury, skokloster_2)"
    )
    assert "'Hallwyl'" in found["notify[0].collections[2]"].message  # names are exact


# -- listing the problems ------------------------------------------------------------------------


def test_the_listing_puts_each_collections_problems_under_its_name(tmp_path: Path) -> None:
    text = THREE.replace("Test/1.0 (test@example.org)", "x").replace(
        'uploaders = ["LSH upload"]', 'uploaders = "LSH upload"'
    )
    text = text.replace("refresh_hours = 6", "refresh_hours = 0")
    text += '[[collection]]\ncategories = ["Category:Z"]\n'
    text += '[[notify]]\nname = "n"\nurls = ["json://localhost"]\ncollections = ["nowhere"]\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.toml")
    listing = caught.value.listing()
    armoury = line_of(text, 'name = "armoury"') - 1
    assert listing == [
        f"line 2: watcher.user_agent: {by_path(caught.value.problems)['watcher.user_agent'].message}",
        f"line {line_of(text, 'nowhere')}: notify[0].collections[0]: channel 'n' names the unknown "
        "collection 'nowhere' (the collections: hallwyl, armoury, skokloster_2)",
        "collection 'armoury': 2 problems",
        f"line {armoury}: collection[1]: collection 'armoury' names no "
        "tracking source: set at least one of categories, uploaders, templates, files or files_from",
        f"line {line_of(text, 'uploaders')}: collection[1].uploaders: must be an array, not a string "
        "('LSH upload')",
        "collection 'skokloster_2': 1 problem",
        f"line {line_of(text, 'refresh_hours')}: collection[2].refresh_hours: must be greater than 0",
        "collection[3]: 1 problem",
        f"line {line_of(text, 'Category:Z') - 1}: collection[3]: needs a name (letters, digits, - and _), "
        'e.g. name = "hallwyl"',
    ]


def test_the_listing_of_the_tracking_form_is_by_line_alone(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "category_depth = -1\n[stream]\nread_timeout = 0\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.toml")
    assert caught.value.listing() == [
        f"line {line_of(text, 'category_depth')}: tracking.category_depth: must be 0 or more",
        f"line {line_of(text, 'read_timeout')}: stream.read_timeout: must be greater than 0",
    ]
    assert {p.collection for p in caught.value.problems} == {"default", None}


# -- `watcher check` -----------------------------------------------------------------------------


def test_check_summarises_each_collection(tmp_path: Path) -> None:
    text = (
        THREE
        + '[[notify]]\nname = "hallwyl-curators"\nurls = ["json://localhost"]\ncollections = ["hallwyl"]\n'
    )
    path = write(tmp_path, text)
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:13] == [
        f"{path}: OK",
        "collections: 3",
        "collection hallwyl (The Hallwyl Museum):",
        "  tracking: 1 category (depth 1)",
        "  object id rules (the first that matches wins; `watcher tracked` shows what each finds):",
        "    1. template Hallwyl-link, param 1",
        "collection armoury (The Royal Armoury):",
        "  tracking: 1 uploader",
        "  object id rules (the first that matches wins; `watcher tracked` shows what each finds):",
        r"    1. file name pattern ' - LSH (\d+)\.\w+$'",
        "    2. template Artwork, param accession number",
        "collection skokloster_2 (skokloster_2):",
        "  tracking: 1 template",
    ]
    assert "  object id rules: none (records will have no object_id; see [[collection.object_id]])" in lines
    assert lines[-2:] == ["notify channels: 1; review page: off", "  hallwyl-curators: hallwyl"]


def test_check_of_one_named_collection_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + CONTRACT_COLLECTION)
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"{path}: OK",
        "collection: hallwyl (The Hallwyl Museum)",
        "tracking: 1 category (depth 1)",
    ]


def test_check_of_the_tracking_form_is_as_before(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_CONFIG + "category_depth = 2\n")
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{path}: OK",
        "tracking: 1 category (depth 2)",
        "object id rules: none (records will have no object_id; see [[tracking.object_id]])",
        f"database: {tmp_path / 'watcher.sqlite3'}",
        "stream: https://stream.wikimedia.org/v2/stream/recentchange (wiki commonswiki)",
        "notify channels: 0; review page: off",
    ]


def test_check_lists_problems_under_each_collection_and_exits_78(tmp_path: Path) -> None:
    text = THREE.replace("category_depth = 1 ", "category_depth = -1 ").replace(
        'name = "skokloster_2"', 'name = "armoury"'
    )
    path = write(tmp_path, text)
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == EX_CONFIG, result.output
    assert "OK" not in result.stdout
    depth, first = line_of(text, "category_depth = -1"), line_of(text, 'name = "armoury"') - 1
    second = line_of(text, 'name = "armoury"', after=first + 1)
    assert result.stderr.splitlines() == [
        f"{path}: collection 'hallwyl': 1 problem",
        f"{path}: line {depth}: collection[0].category_depth: must be 0 or more",
        f"{path}: collection[2]: 1 problem",
        f"{path}: line {second}: collection[2].name: 'armoury' is also the name of collection[1] "
        f"(line {first}): every collection needs a name of its own",
        f"{path}: 2 problems; correct the config and run `watcher check` again.",
    ]


def test_check_of_mixed_forms_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_CONFIG + CONTRACT_COLLECTION)
    result = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == EX_CONFIG
    assert f"{path}: line 4: tracking: can't be used together with [[collection]] tables" in result.stderr


def test_the_shipped_config_is_one_default_collection() -> None:
    config = parse_config((REPO / "config.toml").read_text(encoding="utf-8"), REPO / "config.toml")
    assert config.collection_names == (DEFAULT_COLLECTION,)
