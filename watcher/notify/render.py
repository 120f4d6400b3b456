"""Turning change records into message bodies: HTML (autoescaped), plain text and Markdown.

Everything a record holds was written by someone on Commons, so no value reaches a body unescaped:
jinja2 autoescapes the HTML templates, the Markdown templates pass every value through :func:`md`
(backslash escapes, which apprise's Slack conversion turns into ``&lt;``/``&gt;`` so ``<!channel>``
stays text), and every value is flattened to one line and cut to a sane length first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from watcher.base.text import one_line
from watcher.base.values import BodyFormat
from watcher.config import Config
from watcher.export.trust import trust_signals
from watcher.export.writers import index_url
from watcher.store.queue import ChangeRecord

_EXTENSION = {"text": "txt", "markdown": "md", "html": "html"}
# Markdown punctuation that changes meaning (emphasis, links, code, HTML, headings, tables, quotes).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_MENTION = re.compile(r"@(everyone|here|channel)\b", re.I)
_TITLE_SAFE = ":/,!*-._~"

VALUE_CHARS = 300


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


@dataclass(frozen=True)
class ChangeView:
    """A change record as messages show it (cleaned values, local time, links)."""

    id: int
    file: str
    file_url: str
    object_id: str | None
    field: str
    language: str | None
    action: str
    old: str | None
    new: str | None
    user: str | None
    when: str
    diff_url: str
    review_url: str | None
    source: str
    # How far the editor can be trusted, in words (watcher.export.trust): "new account (3 days, 12 edits)".
    signals: tuple[str, ...] = ()


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

    def view(self, record: ChangeRecord, value_chars: int = VALUE_CHARS) -> ChangeView:
        label = record.field
        if record.property:
            label += f" {record.property}"
        if record.template:
            label += f" [{record.template}]"
        return ChangeView(
            id=record.id,
            file=clean(record.file, 250) or "",
            file_url=self.file_url(record.file),
            object_id=clean(record.object_id, 80),
            field=clean(label, 120) or "",
            language=clean(record.language, 20),
            action=record.action,
            old=clean(record.old, value_chars),
            new=clean(record.new, value_chars),
            user=clean(record.user, 80),
            when=self.when(record.timestamp),
            diff_url=record.diff_url(self.index),
            review_url=self.review_url(record.id),
            source=record.source,
            signals=tuple(clean(s, 160) or "" for s in trust_signals(record)),
        )


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
