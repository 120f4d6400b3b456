"""config.toml: parsed with tomllib into typed, validated, frozen objects.

Every problem is collected (not just the first) with its key path and line number, so that
``watcher check`` can list them all and ``watcher run`` can refuse to start with the same text.
What is tracked, per collection (`[tracking]` or `[[collection]]`), is ``watcher.config_collections``;
where a problem is and how problems are listed, ``watcher.config_problems``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watcher.base.values import Engine, ExportLayout, KindChoice, NotifyMode, WebOnBusy, engine_of
from watcher.config_collections import DEFAULT_COLLECTION as DEFAULT_COLLECTION
from watcher.config_collections import CollectionSection as CollectionSection
from watcher.config_collections import (
    KeyPath,
    check_channel_collections,
    collection_names_by_index,
    read_collections,
)
from watcher.config_collections import ObjectIdRule as ObjectIdRule
from watcher.config_collections import SeveralCollections as SeveralCollections
from watcher.config_collections import TrackingSection as TrackingSection
from watcher.config_problems import ConfigError as ConfigError
from watcher.config_problems import ConfigProblem as ConfigProblem
from watcher.config_problems import LineLocator, dotted

DEFAULT_STREAM_URL = "https://stream.wikimedia.org/v2/stream/recentchange"
DEFAULT_API_URL = "https://commons.wikimedia.org/w/api.php"
DEFAULT_WIKIDATA_API_URL = "https://www.wikidata.org/w/api.php"
EX_CONFIG = 78  # sysexits.h: configuration error; systemd's RestartPreventExitStatus uses it


@dataclass(frozen=True)
class WatcherSection:
    user_agent: str = ""
    # A SQLite file (relative: beside the config), or a PostgreSQL URL (``postgresql://…``): then
    # ``database_url`` holds it and ``database`` is not used.
    database: Path = Path("watcher.sqlite3")
    database_url: str | None = field(default=None, metadata={"key": False})
    # On PostgreSQL: connections a node keeps open at most, and how long one statement may run.
    database_pool_size: int = 10
    database_statement_timeout: float = 30.0


@dataclass(frozen=True)
class StreamSection:
    url: str = DEFAULT_STREAM_URL
    # Seconds without a byte before the connection is taken for dead (EventStreams sends no heartbeat).
    read_timeout: float = 60.0
    # Reconnect backoff: first delay and cap, in seconds (exponential with full jitter).
    backoff_initial: float = 1.0
    backoff_max: float = 120.0
    # Seconds subtracted from the time of the last event when resuming by time (`since`).
    resume_margin: float = 10.0
    # How long the stream keeps events (EventStreams: about 7 days). An older stored position is
    # caught up through the Action API's recent changes first.
    retention_days: float = 7.0


@dataclass(frozen=True)
class WikiSection:
    name: str = "commonswiki"
    api_url: str = DEFAULT_API_URL


@dataclass(frozen=True)
class FiltersSection:
    ignore_bots: bool = True
    ignore_users: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    # A quiet period: immediate alerts wait this long after a change is queued and go out only if it is
    # still pending then (vandalism reverted within the hour never reaches an inbox). 0: off.
    hold_minutes: float = 0.0


@dataclass(frozen=True)
class LabelsSection:
    languages: tuple[str, ...] = ()
    api_url: str = DEFAULT_WIKIDATA_API_URL


@dataclass(frozen=True)
class DiffSection:
    info_templates: tuple[str, ...] = ()
    maintenance_templates: tuple[str, ...] = ()
    maintenance_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebSection:
    listen: str = "127.0.0.1:8750"
    # The address curators use, for links in notifications; default http://<listen>.
    public_url: str = ""
    # `watcher run` when `listen` cannot be had at start (the port in use): "stop" (one line, exit 78)
    # or "disable" (one warning, then run without the page, /healthz and /metrics).
    on_busy: WebOnBusy = "stop"

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.listen}").rstrip("/")


@dataclass(frozen=True)
class ExportSection:
    """Handing back: the museum's own column names, and an optional push of accepted changes."""

    # `--layout wide` columns: "FIELD" or "FIELD/LANGUAGE" → the museum's column name.
    columns: dict[str, str] = field(default_factory=dict)
    layout: ExportLayout = "long"
    # POST each accepted change (and each retraction) as JSON to this URL, signed with HMAC-SHA256.
    webhook: str = ""
    webhook_secret: str = ""
    webhook_secret_file: Path | None = None
    webhook_timeout: float = 30.0
    # `--format annotations`: the museum's own page of an object, the target of each annotation.
    object_url: str = ""  # e.g. "https://collection.example/object/{object_id}"


@dataclass(frozen=True)
class NotifyChannel:
    name: str = ""
    urls: tuple[str, ...] = ()
    urls_from: Path | None = None
    mode: NotifyMode = "digest"
    coalesce_seconds: float = 60.0
    digest_at: str = "07:30"
    timezone: str = "Europe/Stockholm"
    # Per-channel filters: empty means everything.
    fields: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kind: KindChoice = "content"
    send_empty: bool = False
    # Only changes by accounts with at least this many edits (IP and temporary editors count 0).
    min_editor_edits: int = 0
    # Leave out changes that Commons itself undid (withdrawn, or reverted after a decision).
    exclude_reverted: bool = False
    # The collections whose changes this channel sends, by name; empty (like the filters) means all.
    collections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path
    watcher: WatcherSection = field(default_factory=WatcherSection)
    stream: StreamSection = field(default_factory=StreamSection)
    wiki: WikiSection = field(default_factory=WikiSection)
    # After parsing, at least one: the `[[collection]]` tables in file order, or `default` of `[tracking]`.
    collections: tuple[CollectionSection, ...] = field(
        default_factory=lambda: (CollectionSection(name=DEFAULT_COLLECTION, title=DEFAULT_COLLECTION),)
    )
    filters: FiltersSection = field(default_factory=FiltersSection)
    labels: LabelsSection = field(default_factory=LabelsSection)
    diff: DiffSection = field(default_factory=DiffSection)
    web: WebSection | None = None
    notify: tuple[NotifyChannel, ...] = ()
    export: ExportSection = field(default_factory=ExportSection)

    @property
    def database(self) -> Path:
        """The SQLite file (meaningful where :attr:`database_url` is None)."""
        return self.watcher.database

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL URL where ``[watcher] database`` is one; None for a SQLite file."""
        return self.watcher.database_url

    @property
    def store_location(self) -> Path | str:
        """Where the store is: the PostgreSQL URL, or the SQLite file."""
        return self.watcher.database_url or self.watcher.database

    @property
    def user_agent(self) -> str:
        return self.watcher.user_agent

    @property
    def tracking(self) -> CollectionSection:
        """The only collection's tracking keys, for code written for one; with several it raises
        :class:`SeveralCollections` rather than let such code quietly serve only the first."""
        if len(self.collections) != 1:
            raise SeveralCollections(self.collection_names)
        return self.collections[0]

    @property
    def collection_names(self) -> tuple[str, ...]:
        """The names in file order: what `--collection NAME` and `[[notify]] collections` may name."""
        return tuple(c.name for c in self.collections)

    def collection(self, name: str) -> CollectionSection | None:
        """The collection of that name (names are exact: `Hallwyl` is not `hallwyl`), or None."""
        return next((c for c in self.collections if c.name == name), None)


# The order of the top-level tables; `path` is not a key of the file.
_SECTIONS: dict[str, type[Any]] = {
    "watcher": WatcherSection,
    "stream": StreamSection,
    "wiki": WikiSection,
    "filters": FiltersSection,
    "labels": LabelsSection,
    "diff": DiffSection,
    "web": WebSection,
    "export": ExportSection,
}


def default_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("WATCHER_CONFIG")
    if env:
        return Path(env)
    return Path("config.toml")


class _Builder:
    """Builds the typed sections from the parsed TOML, collecting every problem with its line (the
    :class:`~watcher.config_collections.TableReader` the collections are read through)."""

    def __init__(self, text: str, base: Path, raw: dict[str, Any]) -> None:
        self.locator = LineLocator(text)
        self.base = base
        self.problems: list[ConfigProblem] = []
        self.collection_names = collection_names_by_index(raw.get("collection"))
        self.tracking_form = "collection" not in raw

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(
            ConfigProblem(dotted(path), self.locator.line(path), message, self._collection_of(path))
        )

    def line(self, path: KeyPath) -> int | None:
        return self.locator.line(path)

    def _collection_of(self, path: KeyPath) -> str | None:
        if path[:1] == ("tracking",) and self.tracking_form:
            return DEFAULT_COLLECTION
        if len(path) >= 2 and path[0] == "collection" and isinstance(path[1], int):
            return self.collection_names.get(path[1], f"collection[{path[1]}]")
        return None

    def build(self, cls: type[Any], raw: Any, path: tuple[str | int, ...]) -> Any:
        if not isinstance(raw, dict):
            self.problem(path, f"must be a table, not {_toml_type(raw)}")
            return cls()
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls) if f.name != "path" and f.metadata.get("key", True)]
        for key in raw:
            if key not in names:
                known = ", ".join(names)
                self.problem((*path, key), f"unknown key (known keys here: {known})")
        values: dict[str, Any] = {}
        for name in names:
            if name in raw:
                value = self.convert(hints[name], raw[name], (*path, name))
                if value is not _INVALID:
                    values[name] = value
        return cls(**values)

    def convert(self, hint: Any, raw: Any, path: tuple[str | int, ...]) -> Any:
        origin = get_origin(hint)
        args = get_args(hint)
        if origin in (types.UnionType, typing.Union):
            inner = [a for a in args if a is not type(None)]
            if inner[0] is Path and raw == "":
                return None  # "" means "none" for an optional path, e.g. files_from = ""
            return self.convert(inner[0], raw, path)
        if origin is Literal:
            if raw not in args:
                choices = ", ".join(repr(a) for a in args)
                self.problem(path, f"must be one of {choices}, not {raw!r}")
                return _INVALID
            return raw
        if origin is tuple:
            if not isinstance(raw, list):
                self.problem(path, f"must be an array, not {_toml_type(raw)}")
                return _INVALID
            items = [self.convert(args[0], item, (*path, i)) for i, item in enumerate(raw)]
            return tuple(item for item in items if item is not _INVALID)
        if origin is dict:
            if not isinstance(raw, dict):
                self.problem(path, f"must be a table, not {_toml_type(raw)}")
                return _INVALID
            pairs = {str(k): self.convert(args[1], v, (*path, str(k))) for k, v in raw.items()}
            return {k: v for k, v in pairs.items() if v is not _INVALID}
        if dataclasses.is_dataclass(hint):
            return self.build(typing.cast(type[Any], hint), raw, path)
        if hint is Path:
            if not isinstance(raw, str):
                self.problem(path, f"must be a string (a path), not {_toml_type(raw)}")
                return _INVALID
            if raw == "":
                self.problem(path, "must name a file, not be empty")
                return _INVALID
            # $VARIABLES expand, so a unit can point at ${CREDENTIALS_DIRECTORY}/apprise.yml.
            candidate = Path(os.path.expandvars(raw)).expanduser()
            return candidate if candidate.is_absolute() else self.base / candidate
        if hint is bool:
            if not isinstance(raw, bool):
                self.problem(path, f"must be true or false, not {_toml_type(raw)}")
                return _INVALID
            return raw
        if hint is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.problem(path, f"must be an integer, not {_toml_type(raw)}")
                return _INVALID
            return raw
        if hint is float:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                self.problem(path, f"must be a number, not {_toml_type(raw)}")
                return _INVALID
            return float(raw)
        if hint is str:
            if not isinstance(raw, str):
                self.problem(path, f"must be a string, not {_toml_type(raw)}")
                return _INVALID
            return raw
        raise TypeError(f"unsupported config type {hint!r}")  # a programming error, not a user's


_INVALID = object()


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _take_database_url(raw: dict[str, Any]) -> str | None:
    """``[watcher] database`` where it is a PostgreSQL URL, taken out of the table before it is read as
    a path (a ``Path`` would fold ``postgresql://`` to ``postgresql:/``)."""
    section = raw.get("watcher")
    if not isinstance(section, dict):
        return None
    value = section.get("database")
    if isinstance(value, str) and engine_of(value) is Engine.POSTGRESQL:
        del section["database"]
        return value.strip()
    return None


def parse_config(text: str, path: Path, *, check_files: bool = True) -> Config:
    """Parse and validate config text; raises :class:`ConfigError` listing every problem.

    ``check_files=False`` skips the existence of referenced files (for commands that only read the
    database, run from a shell that cannot see, say, the service's credentials folder).
    """
    path = path.absolute()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            path, [ConfigProblem("", _line_of_decode_error(exc), f"not valid TOML: {exc}")]
        ) from exc
    builder = _Builder(text, path.parent, raw)
    database_url = _take_database_url(raw)
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            sections[key] = builder.build(_SECTIONS[key], value, (key,))
        elif key == "notify":
            if not isinstance(value, list):
                builder.problem((key,), "must be an array of tables ([[notify]])")
                continue
            sections[key] = tuple(
                builder.build(NotifyChannel, item, (key, i)) for i, item in enumerate(value)
            )
        elif key not in ("tracking", "collection"):  # read below, as one whole
            known = ", ".join([*_SECTIONS, "tracking", "collection", "notify"])
            builder.problem((key,), f"unknown table (known tables: {known})")
    sections["collections"] = read_collections(builder, raw, check_files=check_files)
    config = Config(path=path, **sections)
    if database_url is not None:
        config = dataclasses.replace(
            config, watcher=dataclasses.replace(config.watcher, database_url=database_url)
        )
    if not config.watcher.database.is_absolute():
        # The default, like every relative path in the file, lives beside the config file.
        watcher = dataclasses.replace(config.watcher, database=path.parent / config.watcher.database)
        config = dataclasses.replace(config, watcher=watcher)
    _check_semantics(config, builder, check_files)
    if builder.problems:
        raise ConfigError(path, builder.problems)
    return config


def _line_of_decode_error(exc: tomllib.TOMLDecodeError) -> int | None:
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _check_semantics(config: Config, builder: _Builder, check_files: bool) -> None:
    problem = builder.problem
    if not config.watcher.user_agent.strip():
        problem(
            ("watcher", "user_agent"),
            "is required: Wikimedia asks every client for a User-Agent "
            "with contact details, e.g. 'MuseumWatcher/1.0 (https://museum.example; you@museum.example)'",
        )
    elif not re.search(r"\S+/\S+", config.watcher.user_agent) or not re.search(
        r"@|https?://", config.watcher.user_agent
    ):
        problem(
            ("watcher", "user_agent"),
            "should read '<client>/<version> (<contact URL or e-mail>)' "
            "as Wikimedia's User-Agent policy asks",
        )
    for key, url in (
        ("stream", config.stream.url),
        ("wiki", config.wiki.api_url),
        ("labels", config.labels.api_url),
    ):
        if not re.match(r"^https?://[^/\s]+", url):
            problem((key, "url" if key == "stream" else "api_url"), f"is not an http(s) URL: {url!r}")
    if config.stream.retention_days <= 0:
        problem(("stream", "retention_days"), "must be greater than 0")
    if config.stream.read_timeout <= 0:
        problem(("stream", "read_timeout"), "must be greater than 0")
    if config.watcher.database_pool_size < 2:
        # The leader's lock has a connection of its own; the pool needs room for a read beside a write.
        problem(("watcher", "database_pool_size"), "must be at least 2")
    if config.watcher.database_statement_timeout <= 0:
        problem(("watcher", "database_statement_timeout"), "must be greater than 0")
    if config.web is not None:
        try:
            port = config.web.port
            if not 0 <= port <= 65535:
                raise ValueError
        except (ValueError, IndexError):
            problem(("web", "listen"), f"must be host:port, e.g. 127.0.0.1:8750, not {config.web.listen!r}")
    names: set[str] = set()
    for i, channel in enumerate(config.notify):
        where = ("notify", i)
        if not channel.name:
            problem((*where, "name"), "is required")
        elif channel.name in names:
            problem((*where, "name"), f"{channel.name!r} is used by two channels")
        names.add(channel.name)
        if not channel.urls and channel.urls_from is None:
            problem(where, "needs urls or urls_from")
        if check_files and channel.urls_from is not None and not channel.urls_from.is_file():
            problem((*where, "urls_from"), f"file not found: {channel.urls_from}")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", channel.digest_at):
            problem((*where, "digest_at"), f"must be HH:MM (24-hour), not {channel.digest_at!r}")
        try:
            ZoneInfo(channel.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problem((*where, "timezone"), f"unknown time zone {channel.timezone!r} (e.g. 'Europe/Stockholm')")
        if channel.coalesce_seconds < 0:
            problem((*where, "coalesce_seconds"), "must be 0 or more")
        if channel.min_editor_edits < 0:
            problem((*where, "min_editor_edits"), "must be 0 or more")
        check_channel_collections(builder, where, channel.name, channel.collections, config.collection_names)
    if config.filters.hold_minutes < 0:
        problem(("filters", "hold_minutes"), "must be 0 or more (0: alerts go out at once)")
    _check_export(config.export, builder, check_files)


def _check_export(export: ExportSection, builder: _Builder, check_files: bool) -> None:
    problem = builder.problem
    for key, column in export.columns.items():
        field_name, _, language = key.partition("/")
        if not field_name.strip() or key != key.strip() or (("/" in key) and not language.strip()):
            problem(("export", "columns", key), 'must be "FIELD" or "FIELD/LANGUAGE", e.g. "description/sv"')
        if not column.strip():
            problem(("export", "columns", key), "must name a column, not be empty")
    seen: dict[str, str] = {}
    for key, column in export.columns.items():
        if column in seen:
            problem(("export", "columns", key), f"column {column!r} is also the column of {seen[column]!r}")
        seen.setdefault(column, key)
    if export.webhook:
        if not re.match(r"^https?://[^/\s]+", export.webhook):
            problem(("export", "webhook"), f"is not an http(s) URL: {export.webhook!r}")
        if not export.webhook_secret and export.webhook_secret_file is None:
            problem(
                ("export", "webhook_secret"),
                "is required with webhook (or webhook_secret_file): every push is signed (HMAC-SHA256) "
                "so the collection system can tell it came from this watcher",
            )
        if export.webhook_secret and export.webhook_secret_file is not None:
            problem(("export", "webhook_secret"), "set webhook_secret or webhook_secret_file, not both")
        if (
            check_files
            and export.webhook_secret_file is not None
            and not export.webhook_secret_file.is_file()
        ):
            problem(("export", "webhook_secret_file"), f"file not found: {export.webhook_secret_file}")
    if export.webhook_timeout <= 0:
        problem(("export", "webhook_timeout"), "must be greater than 0")
    if export.object_url:
        if "{object_id}" not in export.object_url:
            example = "https://collection.example/object/{object_id}"
            problem(("export", "object_url"), f'must contain "{{object_id}}", e.g. "{example}"')
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", export.object_url):
            problem(("export", "object_url"), f"is not an absolute URL (scheme:...): {export.object_url!r}")


def load_config(path: str | os.PathLike[str] | None = None, *, check_files: bool = True) -> Config:
    """Read the config file named by ``path``, ``$WATCHER_CONFIG`` or ``./config.toml``."""
    source = default_config_path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        if path:
            how = "named with -c/--config"
        elif os.environ.get("WATCHER_CONFIG"):
            how = "named by $WATCHER_CONFIG"
        else:
            how = "the default, ./config.toml in the current folder"
        message = (
            f"config file not found: {source.absolute()} ({how}); name the config with -c PATH "
            "(after the command) or set $WATCHER_CONFIG"
        )
        raise ConfigError(source, [ConfigProblem("", None, message)]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [ConfigProblem("", None, f"cannot read config file: {exc}")]) from exc
    return parse_config(text, source, check_files=check_files)
