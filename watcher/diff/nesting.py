"""Templates nested deeper than the parser follows: detected, so the diff falls back to a line diff.

mwparserfromhell's tokenizer stops descending at ``MAX_DEPTH`` (100 routes in 0.7.2: a template costs
two or three routes, so 33 to 50 levels of templates) and then reads the rest as plain text, without an
error. An info template whose value nests that deep loses its later parameters to that text, and a diff
of its fields reports them removed. A page is "too deep" where its brackets nest at least
:data:`SAFE_DEPTH` levels *and* the parser found fewer templates than the page closes: depth alone is
legal, and a page whose braces do not balance is the unclosed-template check's business.
"""

from __future__ import annotations

import re

from mwparserfromhell.wikicode import Wikicode

# Below this many levels the tokenizer never runs out of depth, whatever the markup.
SAFE_DEPTH = 20
_BRACKETS = re.compile(r"\{\{|\}\}|\[\[|\]\]")
_OPENER = {"}}": "{{", "]]": "[["}


def bracket_nesting(text: str) -> tuple[int, int]:
    """(deepest level of a closed ``{{…}}``/``[[…]]``, number of closed ``{{…}}``), in one pass.

    A closer without its opener on the stack is ignored; one whose opener lies deeper closes what is
    above it too, as a broken page reads.
    """
    stack: list[str] = []
    deepest = pairs = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        opener = _OPENER.get(token)
        if opener is None:
            stack.append(token)
            continue
        if opener not in stack:
            continue
        while stack:
            depth = len(stack)
            if stack.pop() == opener:
                deepest = max(deepest, depth)
                pairs += opener == "{{"
                break
    return deepest, pairs


def too_deep(clean: str, code: Wikicode) -> bool:
    """True where the parser gave up on nesting: the tree holds fewer templates than the text closes.

    ``clean`` is the parsed text (comments removed, verbatim blocks blanked). Cheap on ordinary pages:
    few templates cannot nest that deep, and the tree is counted only when the brackets do.
    """
    if clean.count("{{") < SAFE_DEPTH // 2:  # links nest in links only in file captions: a chain
        return False  # SAFE_DEPTH deep holds at least half as many templates
    deepest, pairs = bracket_nesting(clean)
    if deepest < SAFE_DEPTH:
        return False
    parsed = len(code.filter_templates(recursive=True)) + len(code.filter_arguments(recursive=True))
    return parsed < pairs
