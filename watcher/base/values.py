"""The value lists, each written once: statuses, kinds, actions, sources, roles, log levels, body formats.

Each list is a ``Literal`` type; its tuple (for ``click.Choice``, the review page's filters and
templates, validation) is derived from it with ``typing.get_args``, so the two cannot drift apart. The
``…Choice`` types add ``"all"`` where a filter may ask for every value.

:func:`choice` narrows an outside string (a command-line option, a query string) to one of the values,
typed, without a cast. The export formats are not here: they are the registry in ``watcher.export``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, TypeVar, get_args

T = TypeVar("T", bound=str)

ALL: Final = "all"

# A change record's review status, and the filters that also take "all". `withdrawn`: a pending change
# that Commons itself undid (a later edit set the field back); never exported.
Status = Literal["pending", "accepted", "rejected", "withdrawn"]
STATUSES: tuple[Status, ...] = get_args(Status)
StatusChoice = Literal[Status, "all"]
STATUS_CHOICES: tuple[StatusChoice, ...] = get_args(StatusChoice)

# What a review event did: a curator's decision, a note alone, an undo of the latest decision, or
# Commons undoing the change (withdraw). Every one is kept in `review_events`.
ReviewAction = Literal["accept", "reject", "reopen", "note", "undo", "withdraw"]
REVIEW_ACTIONS: tuple[ReviewAction, ...] = get_args(ReviewAction)

# What the webhook tells the collection system: a change accepted, or an accept taken back.
PushEvent = Literal["accepted", "retracted"]
PUSH_EVENTS: tuple[PushEvent, ...] = get_args(PushEvent)

# What a curator may copy back (content), or not (maintenance).
Kind = Literal["content", "maintenance"]
KINDS: tuple[Kind, ...] = get_args(Kind)
KindChoice = Literal[Kind, "all"]
KIND_CHOICES: tuple[KindChoice, ...] = get_args(KindChoice)

# How a field changed.
Action = Literal["added", "removed", "changed", "tagged"]
ACTIONS: tuple[Action, ...] = get_args(Action)

# Where a record came from: the stream, or `watcher history`.
Source = Literal["live", "history"]
SOURCES: tuple[Source, ...] = get_args(Source)

# Who may do what on the review page.
Role = Literal["reviewer", "readonly"]
ROLES: tuple[Role, ...] = get_args(Role)

# `--log-level`.
LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[LogLevel, ...] = get_args(LogLevel)

# Notification bodies (and `watcher digest --format`).
BodyFormat = Literal["text", "markdown", "html"]
BODY_FORMATS: tuple[BodyFormat, ...] = get_args(BodyFormat)

# `watcher export --layout`: one row per change (long), or one row per object (wide).
ExportLayout = Literal["long", "wide"]
EXPORT_LAYOUTS: tuple[ExportLayout, ...] = get_args(ExportLayout)

# A [[notify]] channel's mode.
NotifyMode = Literal["immediate", "digest", "both"]
NOTIFY_MODES: tuple[NotifyMode, ...] = get_args(NotifyMode)

# `[web] on_busy`: what `watcher run` does when the review page's address cannot be had at start
# (a port in use): stop with exit 78, or run without the page (one warning).
WebOnBusy = Literal["stop", "disable"]
WEB_ON_BUSY: tuple[WebOnBusy, ...] = get_args(WebOnBusy)

# Why a file is tracked (`watcher tracked`): in a tracked category, uploaded by a tracked account, using
# a tracked template, or named in the config's list (`files`, `files_from`).
TrackedReason = Literal["category", "uploader", "template", "list"]
TRACKED_REASONS: tuple[TrackedReason, ...] = get_args(TrackedReason)

# The review page's editor filter: new accounts (and IP addresses and temporary accounts) only, or
# everyone else (watcher.store.editors says what "new" is).
EditorChoice = Literal["new", "established"]
EDITOR_CHOICES: tuple[EditorChoice, ...] = get_args(EditorChoice)


def choice(value: str, allowed: tuple[T, ...]) -> T:
    """``value`` as the member of ``allowed`` it equals; ValueError where it is none of them."""
    for item in allowed:
        if item == value:
            return item
    raise ValueError(f"unknown value {value!r} (one of {', '.join(allowed)})")


def choice_or(value: str | None, allowed: tuple[T, ...], default: T) -> T:
    """``value`` as a member of ``allowed``, or ``default`` where it is missing or none of them."""
    if value is None:
        return default
    try:
        return choice(value, allowed)
    except ValueError:
        return default


# `watcher summary --format`: the monthly summary as a document to forward, as text, or as JSON.
SummaryFormat = Literal["html", "text", "json"]
SUMMARY_FORMATS: tuple[SummaryFormat, ...] = get_args(SummaryFormat)


class Engine(StrEnum):
    """The database engines the store runs on (``[watcher] database``: a SQLite path or a URL)."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def engine_of(database: str) -> Engine:
    """The engine a ``[watcher] database`` value names: a ``postgresql://`` URL, else a SQLite path."""
    return Engine.POSTGRESQL if database.strip().lower().startswith(POSTGRESQL_SCHEMES) else Engine.SQLITE
