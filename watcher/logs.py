"""Logging to stderr: plain lines on a terminal, ``<N>`` priority prefixes under systemd's journal.

Credentials that may sit in URLs (apprise ``mailtos://user:pass@…``, tokens in paths, ``?pass=``,
``+Authorization=`` headers) are masked in every message, whoever logs it, tracebacks included: a
curator's SMTP password must never reach the journal, which every admin of the host can read.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TextIO

LEVELS = ("debug", "info", "warning", "error")

MASK = "***"

# A URL as it appears in a log line; trailing punctuation of the sentence is not part of it.
_URL = re.compile(r"\b(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>[^\s\"'<>`]+)", re.I)
_TRAILING = re.compile(r"[.,;:!?)\]}]+$")

# Schemes addressed by host, whose path is not a secret (only userinfo and query are masked). Every
# other scheme (slack://, discord://, tgram://, pover://, gotify://, ntfy://, … — apprise has ~100)
# carries tokens in its host or path, so all of it is masked except `#channel` and `@user` targets.
_HOST_SCHEMES = frozenset(
    {"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos", "ws", "wss"}
)
# Path segments after one of these (…/services/T/B/X, …/api/webhooks/ID/TOKEN) are webhook secrets,
# as are Telegram Bot API paths (/bot123456:ABC…/sendMessage).
_WEBHOOK_MARKERS = frozenset({"services", "webhooks", "webhook", "hooks", "hook"})
_TELEGRAM_BOT = re.compile(r"^bot\d+:.+$")
# Query keys whose values are secrets; `+Name=` keys are HTTP headers apprise adds (Authorization…).
_SECRET_KEY = re.compile(r"pass|token|key|secret|auth|cred|sig|session|cookie", re.I)
# The same outside URLs: `Authorization: Bearer x`, `password=x`.
_HEADER = re.compile(
    r"\b(?P<name>(?:proxy-)?authorization|x-api-key|api-key|cookie)(?P<sep>\s*[:=]\s*)"
    r"(?:(?P<kind>bearer|basic|token|digest)\s+)?(?P<value>[^\s,;&]+)",
    re.I,
)
_ASSIGNMENT = re.compile(
    r"\b(?P<key>password|passwd|secret|api_?key|access_token|token)=(?P<value>[^\s&,;]+)", re.I
)


def mask_secrets(text: str) -> str:
    """Hide passwords and tokens: ``mailtos://user:pass@host`` → ``mailtos://***@host`` and so on."""
    text = _URL.sub(_mask_url, text)
    text = _HEADER.sub(_mask_header, text)
    return _ASSIGNMENT.sub(_mask_assignment, text)


def _kept_tail(value: str) -> str:
    """Sentence punctuation after a secret (``password=x.``) is not part of it."""
    trailing = _TRAILING.search(value)
    return trailing.group(0) if trailing and trailing.group(0) != value else ""


def _mask_header(match: re.Match[str]) -> str:
    kind = f"{match.group('kind')} " if match.group("kind") else ""
    return f"{match.group('name')}{match.group('sep')}{kind}{MASK}{_kept_tail(match.group('value'))}"


def _mask_assignment(match: re.Match[str]) -> str:
    return f"{match.group('key')}={MASK}{_kept_tail(match.group('value'))}"


def _mask_url(match: re.Match[str]) -> str:
    scheme, rest = match.group("scheme"), match.group("rest")
    trailing = _TRAILING.search(rest)
    tail = trailing.group(0) if trailing else ""
    if tail:
        rest = rest[: -len(tail)]
    location, sep, query = rest.partition("?")
    segments = location.split("/")
    if scheme.lower() in _HOST_SCHEMES:
        authority = segments[0]
        if "@" in authority:
            segments[0] = MASK + "@" + authority.rpartition("@")[2]
        _mask_webhook_path(segments)
    else:
        segments = [_mask_token_segment(segment) for segment in segments]
    masked = "/".join(segments)
    if sep:
        masked += "?" + _mask_query(query)
    return f"{scheme}://{masked}{tail}"


def _mask_webhook_path(segments: list[str]) -> None:
    secret = False
    for index, segment in enumerate(segments[1:], start=1):
        if (secret and segment) or _TELEGRAM_BOT.match(segment):
            segments[index] = MASK
        if segment.lower() in _WEBHOOK_MARKERS:
            secret = True


def _mask_token_segment(segment: str) -> str:
    """Mask a host or path part of a token URL, keeping `#channel` and `@user` targets readable."""
    if not segment or segment[0] in "#@":
        return segment
    channel = segment.find("#")
    return MASK + (segment[channel:] if channel > 0 else "")


def _mask_query(query: str) -> str:
    query, hash_mark, fragment = query.partition("#")
    pairs = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and value and (key.startswith("+") or _SECRET_KEY.search(key)):
            pair = f"{key}={MASK}"
        pairs.append(pair)
    return "&".join(pairs) + hash_mark + fragment


def journal_attached(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (stderr) is the journal: $JOURNAL_STREAM is its "dev:inode" (systemd.exec(5)).

    Checking the inode, not just the variable's presence, matters: a child started from a service (or
    a shell inside `systemd-run`) inherits the variable with its stderr pointing somewhere else.
    """
    value = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        stat = os.fstat((stream or sys.stderr).fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return stat.st_dev == device and stat.st_ino == inode


# syslog(3) priorities, which journald reads from a `<N>` line prefix (sd-daemon(3)).
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def _priority(levelno: int) -> int:
    for level in (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO):
        if levelno >= level:
            return _PRIORITY[level]
    return _PRIORITY[logging.DEBUG]


class _Formatter(logging.Formatter):
    """Masks secrets; under the journal, no timestamp (it has its own) and a priority on every line."""

    def __init__(self, journal: bool) -> None:
        fmt = "%(name)s: %(message)s" if journal else "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
        super().__init__(fmt, datefmt="%Y-%m-%d %H:%M:%S")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = mask_secrets(super().format(record))
        if self.journal:
            # Each line becomes its own journal entry; a traceback keeps the record's priority.
            prefix = f"<{_priority(record.levelno)}>"
            text = "\n".join(prefix + line for line in text.splitlines())
        return text


def setup_logging(level: str = "info", *, stream: TextIO | None = None) -> None:
    """Route every logger to stderr (or ``stream``) at ``level``, one of LEVELS."""
    if level.lower() not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    target = stream or sys.stderr
    handler = logging.StreamHandler(target)
    handler.setFormatter(_Formatter(journal_attached(target)))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    # Libraries are chatty at INFO; their warnings still come through.
    for name in ("aiohttp.access", "apprise", "aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
