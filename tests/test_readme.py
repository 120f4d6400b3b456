"""Issue 17, item 5: the README is the museum's path. Its links lead somewhere, the commands it lists
exist, and the two commands of the repository stay in front."""

from __future__ import annotations

import re
from pathlib import Path

import click

from watcher.cli.main import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_relative_link_in_the_readme_and_docs_leads_to_a_file() -> None:
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_every_command_in_the_table_exists() -> None:
    listed = re.findall(r"^\| `watcher ([a-z-]+)", README, re.MULTILINE)
    assert {"run", "check", "changes", "status", "tracked", "history", "demo"} <= set(listed)
    for name in listed:
        assert isinstance(main, click.Group) and name in main.commands, name


def test_the_museums_path_comes_first_and_the_two_commands_stay_in_front() -> None:
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    order = [
        "See it work first (offline, under a minute)",
        "The two commands",
        "Set it up for your museum",
        "Deployment",
    ]
    assert headings[: len(order)] == order
    front = README[: README.index("## Set it up for your museum")]
    assert "make run " in front and "make test " in front
    steps = README[README.index("## Set it up for your museum") : README.index("## Deployment")]
    for command in ("watcher check", "watcher notify test", "watcher history", "watcher tracked"):
        assert command in steps, command
    assert steps.index("watcher check") < steps.index("watcher history") < steps.index("watcher tracked")
    # The builders' matters live in docs/: design and benchmarks.
    assert "## Benchmarks" not in README and "design card" not in README
    assert "| benchmark | result |" in (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "Never lose an event, never repeat one" in (REPO / "docs" / "design.md").read_text(
        encoding="utf-8"
    )
