"""Logging to stderr: plain lines on a terminal, ``<N>`` priority prefixes under systemd's journal.

Every line goes through :func:`watcher.base.masking.mask_secrets` first.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from watcher.base.masking import mask_secrets
from watcher.base.values import LOG_LEVELS


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
    """Route every logger to stderr (or ``stream``) at ``level``, one of LOG_LEVELS."""
    if level.lower() not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
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
