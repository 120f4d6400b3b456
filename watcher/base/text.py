"""Text someone wrote on Commons, made safe to show on a terminal or in a message.

A record's values are whatever an editor typed: an ANSI escape sequence in a description would
recolour, retitle or clear the curator's terminal, a bidi override would show a value reversed. One
helper for every human-facing output (the terminal table of `watcher changes`, notification bodies):
escape sequences are dropped whole, other control characters (C0, DEL, C1, line and paragraph
separators) become spaces, bidi embedding, override and isolate characters are dropped. Files and
JSON lines are not passed through it: they stay byte-faithful (JSON escapes C0 anyway).
"""

from __future__ import annotations

import re

# ESC (7-bit) and CSI/OSC/DCS... (8-bit C1) sequences, as terminals parse them.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, clearing
    r"|\x1b[\]P^_X][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC (titles, links), DCS, PM, APC, SOS ... ST
    r"|\x1b[ -/]*[0-~]"  # the other escapes (and an unterminated OSC's introducer: its text stays)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # 8-bit OSC, DCS ... ST
)
# C0 (tab and line ends too: a value shown in one cell or line), DEL, C1, U+2028/U+2029.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Bidi embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]+")


def strip_controls(value: str) -> str:
    """``value`` without escape sequences or bidi controls, other control characters as spaces."""
    return _CONTROL.sub(" ", _BIDI.sub("", _ESCAPE_SEQUENCE.sub("", value)))


def one_line(value: str) -> str:
    """``value`` safe for a terminal or a message line: :func:`strip_controls`, white space collapsed."""
    return " ".join(strip_controls(value).split())


def plural(count: int, word: str, many: str | None = None, *, thousands: str = ",") -> str:
    """``1 category``, ``2 categories``: the count and the word, singular only for exactly one.

    ``many`` is the plural where adding an ``s`` is wrong (``category`` → ``categories``);
    ``thousands`` separates the count's groups (``1,280``; the status page writes ``1 280``).
    """
    number = f"{count:,}".replace(",", thousands)
    return f"{number} {word if count == 1 else many or word + 's'}"
