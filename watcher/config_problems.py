"""Where a config problem is, and how the problems are listed: the line of a key path in the TOML
text (tomllib keeps no positions), a problem with its key and line, the error that lists them all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from watcher.base.text import plural
from watcher.config_collections import KeyPath


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    line: int | None
    message: str
    # The `[[collection]]` table it is in: its name, or "collection[N]" for one without a name of its
    # own (none, or one taken already); "default" for the `[tracking]` form; None outside any.
    collection: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        key = f"{self.path}: " if self.path else ""
        return f"{where}{key}{self.message}"


class ConfigError(Exception):
    """The configuration is wrong; ``problems`` lists every finding."""

    def __init__(self, source: Path, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))

    def listing(self) -> list[str]:
        """The problems as lines to show, by line number; with `[[collection]]` tables, the problems
        of each collection follow a line naming it, after those outside any collection."""
        ordered = sorted(self.problems, key=lambda p: p.line or 0)
        grouped = [p for p in ordered if p.collection is not None and p.path.startswith("collection[")]
        if not grouped:
            return [str(p) for p in ordered]
        lines = [str(p) for p in ordered if p not in grouped]
        for tag in dict.fromkeys(p.collection for p in grouped):
            mine = [p for p in grouped if p.collection == tag]
            heading = tag if tag and tag.startswith("collection[") else f"collection {tag!r}"
            lines += [f"{heading}: {plural(len(mine), 'problem')}", *(str(p) for p in mine)]
        return lines


class LineLocator:
    """Finds the line of a key path in TOML text (tomllib keeps no positions).

    Arrays of tables count per parent, as TOML does: the second ``[[collection.object_id]]`` of the
    second ``[[collection]]`` is ``collection[1].object_id[1]``.
    """

    _header = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _key = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[KeyPath, int]] = []
        table: KeyPath = ()
        last_index: dict[KeyPath, int] = {}  # each array of tables so far → the index of its last table
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._header.match(line)
            if header:
                names = [part.strip().strip("\"'") for part in header.group(2).split(".")]
                table = ()
                for position, name in enumerate(names):
                    table = (*table, name)
                    if position < len(names) - 1 and table in last_index:
                        table = (*table, last_index[table])  # a table inside the array's last element
                if header.group(1) == "[[":
                    last_index[table] = last_index.get(table, -1) + 1
                    table = (*table, last_index[table])
                self.entries.append((table, number))
                continue
            key = self._key.match(line)
            if key:
                names = [part.strip().strip("\"'") for part in key.group(1).split(".")]
                self.entries.append(((*table, *names), number))

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its nearest ancestor written, else of the first key under it."""
        for candidate in (path, *(path[:n] for n in range(len(path) - 1, 0, -1))):
            for entry, number in self.entries:
                if entry == candidate:
                    return number
        for entry, number in self.entries:
            if path and entry[: len(path)] == path:
                return number
        return None


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
