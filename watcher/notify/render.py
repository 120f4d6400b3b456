"""Turning change records into message bodies: HTML (autoescaped), plain text and Markdown.

Everything a record holds was written by someone on Commons, so no value reaches a body unescaped:
jinja2 autoescapes the HTML templates, the Markdown templates pass every value through :func:`md`
(backslash escapes, which apprise's Slack conversion turns into ``&lt;``/``&gt;`` so ``<!channel>``
stays text), and every value is flattened to one line and cut to a sane length first.

A message speaks words, not Wikimedia's internals (``watcher.export.words``): the field as a name
("depicts", "camera location"), the values as a reader sees them ("circa 1750", "Crassula
(Q17199752)", "3 May 1890"), the edit summary in words. The raw wikitext stays out of the message
(the review page and the diff link have it) except where the words lose what the change is about
(:func:`raw_matters`): a value whose words are empty, a template shown by its name only, or a change
whose words read the same before and after (only the markup changed). Links beside a value (Wikidata,
a map) are only ever the ones the watcher makes, never an address someone wrote on Commons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from watcher.base.text import one_line
from watcher.base.values import BodyFormat
from watcher.config import Config
from watcher.diff.readable import Readable
from watcher.export.trust import trust_signals
from watcher.export.words import labels_for, record_words
from watcher.export.writers import index_url
from watcher.store.engine import Store
from watcher.store.queue import ChangeRecord

_EXTENSION = {"text": "txt", "markdown": "md", "html": "html"}
# Markdown punctuation that changes meaning (emphasis, links, code, HTML, headings, tables, quotes).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_MENTION = re.compile(r"@(everyone|here|channel)\b", re.I)
_TITLE_SAFE = ":/,!*-._~"

VALUE_CHARS = 300
SUMMARY_CHARS = 200
# Links a message may put beside a value: only those the watcher itself makes.
TRUSTED_LINKS = ("https://www.wikidata.org/wiki/", "https://www.openstreetmap.org/")
# A template the words show by its name only ("{{PND-link}}"): its parameters are not in the words.
_TEMPLATE_NAME = re.compile(r"\{\{[^{}]*\}\}")
# Fields whose words say everything the raw value does (or whose raw value says nothing to a reader).
_WORDS_SUFFICE = frozenset({"statement", "file", "category", "caption", "structured description"})


def clean(value: str | None, limit: int = VALUE_CHARS) -> str | None:
    """One line, no control characters or escape sequences (``base.text``), at most ``limit`` characters."""
    if value is None:
        return None
    text = one_line(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def md(value: object) -> str:
    """Escape a value for Markdown (CommonMark backslash escapes; no @everyone pings)."""
    text = _MD_SPECIAL.sub(r"\\\1", str(value))
    return _MENTION.sub("@\u200b\\1", text)


def words_line(words: Readable | None, limit: int = VALUE_CHARS) -> str | None:
    """A value's words on one line (its lines joined with " / "), cleaned and cut."""
    if words is None:
        return None
    return clean(" / ".join(line for line in words.text.split("\n") if line.strip()), limit)


def trusted_link(words: Readable | None) -> str | None:
    link = words.link if words is not None else None
    return link if link is not None and link.startswith(TRUSTED_LINKS) else None


def raw_matters(record: ChangeRecord, old: Readable | None, new: Readable | None) -> bool:
    """Whether the message shows the raw wikitext beside the words: only where the words lose what the
    change is about (module docstring). Structured data, categories, captions and files never."""
    if record.field in _WORDS_SUFFICE:
        return False
    for raw, words in ((record.old, old), (record.new, new)):
        if (
            raw
            and raw.strip()
            and words is not None
            and (not words.text or _TEMPLATE_NAME.search(words.text))
        ):
            return True
    return (
        record.old is not None
        and record.new is not None
        and record.old != record.new
        and old is not None
        and new is not None
        and old.text == new.text
    )


@dataclass(frozen=True)
class ChangeView:
    """A change record as messages show it (words, cleaned values, local time, links)."""

    id: int
    file: str
    file_url: str
    object_id: str | None
    field: str  # in words: "depicts", "description", "camera location"
    language: str | None
    action: str
    old: str | None  # the values in words
    new: str | None
    user: str | None
    when: str
    diff_url: str
    review_url: str | None
    source: str
    # How far the editor can be trusted, in words (watcher.export.trust): "new account (3 days, 12 edits)".
    signals: tuple[str, ...] = ()
    summary: str | None = None  # the edit summary in words
    old_link: str | None = None  # Wikidata for an item, a map for coordinates
    new_link: str | None = None
    # The raw wikitext, only where it matters (raw_matters); None otherwise.
    old_raw: str | None = None
    new_raw: str | None = None
    # A statement: what changed besides its value ("qualifiers changed"), and its qualifiers in words.
    note: str | None = None
    # Whose change it is, by the collection's title, where the deployment has several; None with one.
    collection: str | None = None


class Presenter:
    """Builds views and bodies for one channel: its time zone, the wiki's and review page's links."""

    def __init__(self, config: Config, zone: ZoneInfo) -> None:
        self.zone = zone
        self.index = index_url(config)
        parts = urlsplit(config.wiki.api_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        script_path = config.wiki.api_url.rsplit("/", 1)[0]
        self.article_prefix = f"{origin}/wiki/" if script_path == f"{origin}/w" else None
        self.review_base = config.web.base_url if config.web is not None else None
        self.languages = tuple(config.labels.languages)
        several = len(config.collections) > 1
        self.collection_titles = {c.name: c.title for c in config.collections} if several else {}

    async def labels(self, db: Store, records: Sequence[ChangeRecord]) -> dict[str, str]:
        """Labels for the words of ``records``, from the cache (``watcher.export.words.labels_for``)."""
        return await labels_for(db, records, self.languages)

    def file_url(self, title: str) -> str:
        quoted = quote(title.replace(" ", "_"), safe=_TITLE_SAFE)
        return f"{self.article_prefix}{quoted}" if self.article_prefix else f"{self.index}?title={quoted}"

    def review_url(self, change_id: int | None = None) -> str | None:
        if self.review_base is None:
            return None
        return f"{self.review_base}/changes/{change_id}" if change_id is not None else f"{self.review_base}/"

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def when(self, timestamp: str) -> str:
        try:
            moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            return clean(timestamp, 40) or ""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.local_time(moment)

    def view(
        self, record: ChangeRecord, value_chars: int = VALUE_CHARS, labels: Mapping[str, str] | None = None
    ) -> ChangeView:
        """The record in words; ``labels`` from :meth:`labels` (without them, the record's own)."""
        words = record_words(record, labels)
        raw = raw_matters(record, words.old, words.new)
        return ChangeView(
            id=record.id,
            file=clean(record.file, 250) or "",
            file_url=self.file_url(record.file),
            object_id=clean(record.object_id, 80),
            field=clean(words.field, 120) or "",
            language=clean(record.language, 20),
            action=record.action,
            old=words_line(words.old, value_chars),
            new=words_line(words.new, value_chars),
            user=clean(record.user, 80),
            when=self.when(record.timestamp),
            diff_url=record.diff_url(self.index),
            review_url=self.review_url(record.id),
            source=record.source,
            signals=tuple(clean(s, 160) or "" for s in trust_signals(record)),
            summary=clean(words.summary, SUMMARY_CHARS),
            old_link=trusted_link(words.old),
            new_link=trusted_link(words.new),
            old_raw=clean(record.old, value_chars) if raw else None,
            new_raw=clean(record.new, value_chars) if raw else None,
            note=clean(statement_note(record, words.qualifiers), value_chars),
            collection=self._collection_title(record.collection),
        )

    def _collection_title(self, name: str) -> str | None:
        """The collection's title in a deployment of several (its name where the config has it no more)."""
        if not self.collection_titles:
            return None
        return clean(self.collection_titles.get(name, name), 120)


def statement_note(record: ChangeRecord, qualifiers: str) -> str | None:
    """What a statement's change was besides its value, and its qualifiers: "qualifiers changed;
    object has role: photographer (Q33231)". None for other fields and bare statements."""
    if record.field != "statement":
        return None
    changed = (record.detail or {}).get("changed")
    parts: list[str] = []
    if isinstance(changed, list) and changed and "value" not in changed:
        parts.append(" and ".join(str(c) for c in changed) + " changed")
    if qualifiers:
        parts.append(qualifiers)
    return "; ".join(parts) or None


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("watcher.notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["md"] = md
    return env


_ENV: jinja2.Environment | None = None


def render_template(kind: str, fmt: BodyFormat, **context: Any) -> str:
    """Render ``templates/<kind>.<ext>.j2`` (``alert``/``digest`` × txt/md/html)."""
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    template = _ENV.get_template(f"{kind}.{_EXTENSION[fmt]}.j2")
    return template.render(**context).strip() + "\n"


def fit(render: Callable[[int], str], count: int, limit: int | None) -> str:
    """The body showing as many of ``count`` items as fit in ``limit`` characters.

    ``render(k)`` shows the first ``k`` items and a "N more" line for the rest; the body length grows
    with ``k``, so a binary search finds the largest ``k`` that fits. Where even no item fits (a tiny
    limit), the body is cut hard.
    """
    full = render(count)
    if limit is None or len(full) <= limit:
        return full
    low, high = 0, count - 1
    best: str | None = None
    while low <= high:
        middle = (low + high) // 2
        body = render(middle)
        if len(body) <= limit:
            best, low = body, middle + 1
        else:
            high = middle - 1
    if best is None:
        best = render(0)
        if len(best) > limit:
            best = best[: max(limit - 1, 0)] + "…"
    return best


def count_label(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{label} ×{n}" for label, n in items)
