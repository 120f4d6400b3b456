"""Logging to stderr: plain lines on a terminal, ``<N>`` priority prefixes under systemd's journal.

Credentials that may sit in URLs (apprise ``mailtos://user:pass@…``, tokens in paths) are masked in
every message, whoever logs it.
"""

from __future__ import annotations

import logging
import os
import re
import sys

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/\s:@]+(?::[^/\s@]*)?)@", re.I)
_SECRET_QUERY = re.compile(r"(?P<key>[?&](?:pass(?:word)?|token|key|secret|apikey|api_key)=)[^&\s]+", re.I)
_SLACK_TOKENS = re.compile(r"(slack://)(?:[^\s/]+/){1,3}[^\s/#?]+", re.I)

LEVELS = ("debug", "info", "warning", "error")


def mask_secrets(text: str) -> str:
    """Hide passwords and tokens in URLs: ``mailtos://user:pass@host`` → ``mailtos://***@host``."""
    text = _SLACK_TOKENS.sub(r"\1***", text)
    text = _CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('key')}***", text)


def _journal_attached() -> bool:
    """Whether stderr is the journal (systemd.exec(5): $JOURNAL_STREAM is "dev:inode" of the stream)."""
    value = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return stat.st_dev == device and stat.st_ino == inode


_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _Formatter(logging.Formatter):
    def __init__(self, journal: bool) -> None:
        fmt = "%(name)s: %(message)s" if journal else "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
        super().__init__(fmt, datefmt="%Y-%m-%d %H:%M:%S")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = mask_secrets(super().format(record))
        if self.journal:
            prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
            text = "\n".join(prefix + line for line in text.splitlines())
        return text


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(_journal_attached()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries are chatty at INFO; their warnings still come through.
    for name in ("aiohttp.access", "apprise", "aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
