"""How the brackets of a page nest: templates nested deeper than the parser follows (detected, so the
diff falls back to a line diff), and the stretches of a long page that hold no template and that the
parser reads on their own (cut before the parse: see :func:`without_template_free_lines`).

mwparserfromhell's tokenizer stops descending at ``MAX_DEPTH`` (100 routes in 0.7.2: a template costs
two or three routes, so 33 to 50 levels of templates) and then reads the rest as plain text, without an
error. An info template whose value nests that deep loses its later parameters to that text, and a diff
of its fields reports them removed. A page is "too deep" where its brackets nest at least
:data:`SAFE_DEPTH` levels *and* the parser found fewer templates than the page closes: depth alone is
legal, and a page whose braces do not balance is the unclosed-template check's business.
"""

from __future__ import annotations

import re
from itertools import pairwise

from mwparserfromhell.wikicode import Wikicode

# Below this many levels the tokenizer never runs out of depth, whatever the markup.
SAFE_DEPTH = 20
# A link with no bracket or brace inside is one token: it only reaches one level deeper, and a long
# page has hundreds of them (an upload log, a gallery of links).
_BRACKETS = re.compile(r"\[\[[^\[\]{}]*\]\]|\{\{|\}\}|\[\[|\]\]")
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
        if len(token) > 2:  # a whole link: one level above what is open
            deepest = max(deepest, len(stack) + 1)
            continue
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


# -- stretches the parser needs not see ---------------------------------------------------------------
#
# A long page is mostly text that holds no template: an upload-log table of hundreds of rows, lists,
# long prose. mwparserfromhell builds a node for each cell, link and tag of it (about 3 ms a KiB), and
# none of them matters: the model reads templates only. ``without_template_free_lines`` cuts such
# stretches out before the parse, where a scan of the brackets proves that the parser stands outside
# every construct at both ends of the stretch, so the templates that are left parse exactly as before.

# Pages shorter than this are parsed whole: the scan would cost more than it saves.
ELIDE_FROM = 16_384
# What the scan reads: text the parser takes verbatim (no ``<`` inside, so no closing tag of another
# spelling can end it earlier) and links on one line with nothing the scan reads inside them (they
# open and close nothing else, so they are skipped whole), runs of braces and brackets, tags, and
# any other ``<``. Line starts are looked up between these, with ``str.find``. (The look-ahead lets
# the engine skip to the next of these characters instead of trying each alternative everywhere.)
_SCAN = re.compile(
    r"(?=[<{}\[\]])(?:<nowiki>[^<]*</nowiki>|<pre>[^<]*</pre>|\[\[[^\[\]{}<>\n]*\]\]"
    r"|\{+|\}+|\[+|\]+"
    r"|<(/?)([^\s<>/!][^\s<>/]*)([^<>]*)>"
    r"|<)"
)
# A bracketed external link: ``[`` before a URL scheme or ``//`` (what the parser tries; ``[1]`` is text).
_LINK_START = re.compile(r"\s*(?://|[A-Za-z][A-Za-z0-9+.\-]*:)")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
# Tags that never have a body (mwparserfromhell's SINGLE_ONLY), compared in lower case.
_VOID_TAGS = frozenset({"br", "wbr", "hr", "meta", "link", "img"})
_TEMPLATE, _LINK, _EXTERNAL, _TABLE = "{{", "[[", "[", "{|"
# Anchor kinds: a line start outside everything; a table row start (``|-``) and a table end (``|}``)
# directly inside a table that itself stands outside everything.
_TOP, _ROW, _TABLE_END = 0, 1, 2


def template_free_anchors(text: str) -> list[tuple[int, int]]:
    """Line starts (and the end) where the parser surely stands outside every construct, or directly
    inside a top-level table before a row or its end, with their kinds, in order. Between two tokens
    of the scan only the first and the last such line start are given: nothing between them counts.

    The scan keeps a stack of what the parser may have open: templates, links, external links, tags
    with a body, tables. It never closes what the parser could keep open: a closer pops only what it
    closes in the parser too (the same kind on top, ``</name>`` spelt exactly as the opening tag), and
    everything else is ignored, which can only keep a construct open longer. Where the scan cannot
    follow the parser (three or more braces or brackets, a comment, a ``<`` it cannot read, a tag over
    lines or with braces, brackets or unpaired quotes in it, a heading line inside a construct: the
    parser reads headings inside templates, where a ``}}`` in them closes nothing), no anchor is given
    from there on.
    """
    anchors: list[tuple[int, int]] = [(0, _TOP)]
    stack: list[str] = []
    done = 0  # where the last token ended
    for match in _SCAN.finditer(text):
        start = match.start()
        if start > done and not _line_starts(text, done, start, stack, anchors):
            return anchors
        done = match.end()
        token = match.group()
        first = token[0]
        if first == "{":
            if len(token) == 2:
                stack.append(_TEMPLATE)
            elif len(token) > 2:
                return anchors  # an argument, or braces the parser pairs in more than one way
            elif text.startswith("|", done):
                stack.append(_TABLE)
        elif first == "}":
            count = len(token)
            if (
                count == 1
                and stack
                and stack[-1] == _TABLE
                and text.startswith("|", start - 1)
                and (start == 1 or text.startswith("\n", start - 2))
            ):
                if len(stack) == 1:
                    anchors.append((start - 1, _TABLE_END))
                stack.pop()  # "|}" at a line start ends the table
            while count >= 2 and stack and stack[-1] == _TEMPLATE:
                stack.pop()
                count -= 2
        elif first == "[":
            if token[-1] == "]":
                continue  # a link on one line: opens and closes nothing else
            if len(token) == 2:
                stack.append(_LINK)
            elif len(token) > 2:
                return anchors
            elif _LINK_START.match(text, done):
                stack.append(_EXTERNAL)
        elif first == "]":
            count = len(token)
            while count and stack:
                if stack[-1] == _EXTERNAL:
                    count -= 1
                elif stack[-1] == _LINK and count >= 2:
                    count -= 2
                else:
                    break
                stack.pop()
        elif match.group(2) is None and len(token) > 1:
            continue  # a verbatim block (no tag: those have a name): text to the parser
        elif match.group(2) is None:  # a "<" that is no tag the scan can read
            following = text[done : done + 3]
            if following.startswith("!--"):
                return anchors
            if following[:1] in ("", "<", ">", "!") or following[:1].isspace():
                continue  # text to the parser too
            if following.startswith("/") and (following[1:2] in ("", "<", ">") or following[1:2].isspace()):
                continue
            return anchors
        else:
            closing, name, attributes = match.group(1), match.group(2), match.group(3)
            unquoted = _QUOTED.sub("", attributes)
            if any(c in token for c in "{}[]\n") or '"' in unquoted or "'" in unquoted:
                # The parser may read templates, links or quotes past the ">"; and it takes no tag
                # over lines, so what such a "tag" holds is markup to it (a heading, a table's end).
                return anchors
            if closing:
                if not attributes and stack and stack[-1] == "<" + name:
                    stack.pop()
            elif name.lower() not in _VOID_TAGS and not attributes.endswith("/"):
                stack.append("<" + name)
    if not _line_starts(text, done, len(text), stack, anchors):
        return anchors
    if not stack:
        anchors.append((len(text), _TOP))
    return anchors


def _line_starts(text: str, low: int, high: int, stack: list[str], anchors: list[tuple[int, int]]) -> bool:
    """Add the anchors among the line starts of ``text[low:high]`` (which holds no token of the scan,
    so the stack stands still); False where one of them begins a heading inside a construct."""
    if not stack:
        line = text.find("\n", low, high)
        if line >= 0:
            anchors.append((line + 1, _TOP))
            last = text.rfind("\n", line + 1, high)
            if last >= 0:
                anchors.append((last + 1, _TOP))
        return True
    if text.find("\n=", low, high) >= 0:
        return False
    if len(stack) == 1 and stack[0] == _TABLE:
        row = text.find("\n|-", low, high)
        if row >= 0:
            anchors.append((row + 1, _ROW))
            last = text.rfind("\n|-", row + 1, high)
            if last >= 0:
                anchors.append((last + 1, _ROW))
    return True


def without_template_free_lines(text: str, elide_from: int = ELIDE_FROM) -> str:
    """``text`` without the stretches between two anchors (see :func:`template_free_anchors`) that
    hold no brace at all: no template, argument or table can start, end or stand in them. Outside
    every construct such a stretch is whole lines the parser reads on their own; inside a top-level
    table it is whole rows. Cutting either leaves every template of the page as it was, with the same
    ancestors: the model, the object id and the nesting checks read the same templates."""
    if len(text) < elide_from:
        return text
    anchors = template_free_anchors(text)
    parts: list[str] = []
    kept = 0
    for (start, kind), (stop, next_kind) in pairwise(anchors):
        fits = next_kind == _TOP if kind == _TOP else kind == _ROW and next_kind in (_ROW, _TABLE_END)
        if fits and stop > start and text.find("{", start, stop) < 0 and text.find("}", start, stop) < 0:
            parts.append(text[kept:start])
            kept = stop
    if not parts:
        return text
    parts.append(text[kept:])
    return "".join(parts)
