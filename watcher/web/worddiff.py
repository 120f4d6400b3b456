"""Word-level highlighting of an old and a new value: escape every token first, then mark the runs."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from markupsafe import Markup, escape

# Words, runs of white space, and single other characters (punctuation, wikitext brackets, pipes).
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
# Above this many tokens a side, SequenceMatcher's quadratic cost is not worth it: no highlighting.
MAX_TOKENS = 4000


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _run(tokens: list[str], tag: str | None) -> Markup:
    text = escape("".join(tokens))
    if not tag or not tokens:
        return text
    return Markup(f"<{tag}>") + text + Markup(f"</{tag}>")


def word_diff(old: str | None, new: str | None) -> tuple[Markup, Markup]:
    """The old and the new value as HTML, with removed words in <del> and added words in <ins>."""
    if old is None or new is None:
        return (_run([old], "del") if old else Markup(""), _run([new], "ins") if new else Markup(""))
    a, b = tokenize(old), tokenize(new)
    if len(a) > MAX_TOKENS or len(b) > MAX_TOKENS:
        return escape(old), escape(new)
    left: list[Markup] = []
    right: list[Markup] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(_run(a[i1:i2], None))
            right.append(_run(b[j1:j2], None))
        else:
            left.append(_run(a[i1:i2], "del"))
            right.append(_run(b[j1:j2], "ins"))
    return Markup("").join(left), Markup("").join(right)
