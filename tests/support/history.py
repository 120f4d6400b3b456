"""A museum's collection on the loopback wiki, with years of edits, and what history mode should make of it.

Each file gets a *kind* (its story) and the builder records the revision the test expects as the
baseline, so tests compare against facts of the scenario rather than against the code's own output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.config import USER_AGENT
from watcher.config import Config, parse_config
from watcher.demo.standins.action_api_wiki import Wiki
from watcher.diff import diff_revisions
from watcher.diff.model import DiffSettings, FieldChange, RevisionContent

MUSEUM = "Example Museum"
BOT = "CleanupBot"
CATEGORY = "Category:Media contributed by Example Museum"
COMMUNITY = ("Alice", "Bob", "Carol", "Dmitri", "Eve")

CONFIG = f"""[watcher]
user_agent = "{USER_AGENT}"
database = "w.sqlite3"

[wiki]
api_url = "{{api_url}}"

[tracking]
categories = ["{CATEGORY}"]
uploaders = ["{MUSEUM}"]

[[tracking.object_id]]
template = "Artwork"
param = "accession number"
"""

# The story of each position in a cycle of 20 files: a fifth are edited by someone else.
CYCLE = (
    "community_once",
    "community_many",
    "bot_then_community",
    "community_then_bot",
    "museum_last",
    "bot_only",
    *(["untouched"] * 14),
)
CHANGED_KINDS = {
    "community_once",
    "community_many",
    "bot_then_community",
    "community_then_bot",
    "long_history",
    "not_museum_upload",
    "sdc_caption",
}


def write_config(tmp_path: Path, api_url: str, extra: str = "") -> tuple[Config, Path]:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.replace("{api_url}", api_url) + extra, encoding="utf-8")
    return parse_config(path.read_text(encoding="utf-8"), path), path


def page_text(number: int, *, description: str = "", categories: tuple[str, ...] = ()) -> str:
    desc = description or f"{{{{en|1=Object number {number} of the collection.}}}}"
    cats = "".join(f"\n[[{c}]]" for c in (CATEGORY, *categories))
    return (
        "== {{int:filedesc}} ==\n{{Artwork\n"
        f" |title = Object {number}\n |description = {desc}\n |date = 19{number % 100:02d}\n"
        f" |accession number = EXM-{number:05d}\n |source = Example Museum\n}}}}\n"
        "== {{int:license-header}} ==\n{{PD-old-70}}\n" + cats + "\n"
    )


@dataclass
class Story:
    kind: str
    title: str
    number: int
    baseline: int  # the revision history mode must diff from (by the rules, not by the code)
    current: int
    editors: list[str] = field(default_factory=list)  # the user field, in order


@dataclass
class Collection:
    wiki: Wiki
    stories: dict[str, Story] = field(default_factory=dict)

    def changed(self) -> list[Story]:
        return [s for s in self.stories.values() if s.kind in CHANGED_KINDS]


class _Clock:
    """Explicit times: each file's story starts on its own day in 2019; later edits follow in years."""

    def __init__(self, number: int) -> None:
        self.moment = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(hours=number)

    def at(self, year: int | None = None) -> str:
        if year is not None:
            self.moment = max(self.moment, datetime(year, 1, 1, tzinfo=UTC)) + timedelta(hours=1)
        self.moment += timedelta(minutes=7)
        return self.moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_collection(wiki: Wiki, count: int = 400, *, extras: bool = True) -> Collection:
    """``count`` files in the museum's category following CYCLE, plus (``extras``) one of each rarer story."""
    collection = Collection(wiki)
    kinds = [CYCLE[i % len(CYCLE)] for i in range(count)]
    if extras:
        kinds += ["long_history", "not_museum_upload", "not_museum_upload", "sdc_caption", "sdc_caption"]
    for number, kind in enumerate(kinds):
        story = _tell(wiki, number, kind)
        collection.stories[story.title] = story
    return collection


def _tell(wiki: Wiki, number: int, kind: str) -> Story:
    title = f"File:Example Museum object {number:05d}.jpg"
    clock = _Clock(number)
    uploader = "Frank" if kind == "not_museum_upload" else MUSEUM
    upload = wiki.add_page(title, page_text(number), user=uploader, timestamp=clock.at()).revid
    alice, bob = COMMUNITY[number % 5], COMMUNITY[(number + 1) % 5]
    editors: list[str] = []
    baseline = upload
    if kind == "community_once":
        wiki.edit(title, page_text(number, description=f"{{{{en|1=Object {number}, restored.}}}}"),
                  user=alice, timestamp=clock.at(2021))  # fmt: skip
        editors = [alice]
    elif kind == "community_many":
        baseline = wiki.edit(title, page_text(number, categories=("Category:Chairs",)), user=MUSEUM,
                             timestamp=clock.at(2020))  # fmt: skip
        wiki.edit(title, page_text(number, categories=("Category:Chairs", "Category:Oak")), user=alice,
                  timestamp=clock.at(2021))  # fmt: skip
        wiki.edit(title, page_text(number, description=f"{{{{en|1=Object {number}.}}}} {{{{sv|1=Föremål {number}.}}}}",
                  categories=("Category:Chairs", "Category:Oak")), user=bob, timestamp=clock.at(2023))  # fmt: skip
        editors = [alice, bob]
    elif kind == "bot_then_community":
        baseline = wiki.edit(title, page_text(number, categories=("Category:Uncategorized files",)), user=BOT,
                             bot=True, timestamp=clock.at(2020))  # fmt: skip
        wiki.edit(title, page_text(number, categories=("Category:Uncategorized files", "Category:Vases")),
                  user=alice, timestamp=clock.at(2022))  # fmt: skip
        editors = [alice]
    elif kind == "community_then_bot":
        wiki.edit(
            title, page_text(number, categories=("Category:Vases",)), user=alice, timestamp=clock.at(2021)
        )
        wiki.edit(title, page_text(number, categories=("Category:Vases", "Category:Ceramics")), user=BOT,
                  bot=True, timestamp=clock.at(2022))  # fmt: skip
        editors = [alice, BOT]
    elif kind == "museum_last":
        wiki.edit(
            title, page_text(number, categories=("Category:Lamps",)), user=alice, timestamp=clock.at(2020)
        )
        baseline = wiki.edit(title, page_text(number, categories=("Category:Lamps", "Category:Brass")),
                             user=MUSEUM, timestamp=clock.at(2022))  # fmt: skip
    elif kind == "bot_only":
        baseline = wiki.edit(title, page_text(number, categories=("Category:Uncategorized files",)), user=BOT,
                             bot=True, timestamp=clock.at(2021))  # fmt: skip
    elif kind == "long_history":
        for step in range(12):
            wiki.edit(title, page_text(number, description=f"{{{{en|1=Version {step} of {number}.}}}}"),
                      user=COMMUNITY[step % 5], timestamp=clock.at(2020 + step // 3))  # fmt: skip
        editors = list(COMMUNITY)
    elif kind == "not_museum_upload":
        wiki.edit(
            title, page_text(number, categories=("Category:Bowls",)), user=alice, timestamp=clock.at(2020)
        )
        wiki.edit(title, page_text(number, categories=("Category:Bowls", "Category:Glass")), user=bob,
                  timestamp=clock.at(2024))  # fmt: skip
        editors = [alice, bob]
    elif kind == "sdc_caption":
        caption = {"labels": {"en": {"language": "en", "value": f"Object {number}"}}, "statements": {}}
        wiki.edit(title, mediainfo=caption, user=alice, timestamp=clock.at(2024))
        editors = [alice]
    return Story(kind, wiki.page(title).title, number, baseline, wiki.page(title).latest.revid, editors)


def expected_changes(wiki: Wiki, story: Story, config: Config) -> list[FieldChange]:
    """diff_revisions of the scenario's baseline against the current revision, computed here."""
    old, new = wiki.revisions[story.baseline], wiki.revisions[story.current]
    return diff_revisions(
        RevisionContent(old.wikitext, old.mediainfo),
        RevisionContent(new.wikitext, new.mediainfo),
        DiffSettings.from_section(config.diff),
    )


def record_keys(rows: list[Any]) -> list[tuple[Any, ...]]:
    """The parts of queued records that must not depend on how a run went (ids and queue times do)."""
    keys = [
        "wiki", "file", "object_id", "revision", "old_revision", "timestamp", "user", "comment", "field",
        "template", "property", "language", "action", "kind", "old", "new", "detail", "source", "status",
    ]  # fmt: skip
    return sorted(tuple(row[k] for k in keys) for row in rows)
