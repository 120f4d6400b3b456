"""Wikitext as the text a reader sees: what a curator reads instead of the markup.

A record keeps the raw wikitext (``old``/``new``); this is the words beside it. Links show their text,
categories and comments nothing, bold and italics no quotes, ``<br>`` a line break, entities their
character, and the templates a file page's values use show what Commons shows for them: ``{{circa|1890}}``
"circa 1890", ``{{other date|between|1745|1755}}`` "between 1745 and 1755", ``{{Creator:Carl Larsson}}``
"Carl Larsson", ``{{en|1=…}}`` its text. A template not known here shows as its name in braces
(``{{PND-link}}``), never as its parameters. Pure, and never raises: a value the parser cannot read
comes back as its own text with comments removed and white space tidied.

Line structure: a line break in the wikitext, ``<br>``, a list item and a language block are one line
break; runs of blank lines are one; spaces inside a line are collapsed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import mwparserfromhell
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from watcher.diff.names import language_of, remove_comments
from watcher.diff.noise import SELF_LICENCE_WRAPPERS, is_licence_template
from watcher.diff.normalise import _INVISIBLE  # the one list of characters that render as nothing
from watcher.diff.redirects import BUILTIN_REDIRECTS

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# An unknown template's name is cut to this many characters (user templates have long paths).
NAME_CHARS = 40
# Values without any of these characters are plain text: no parse needed.
_MARKUP = re.compile(r"[{}<>&\[\]']|__|^[*#:;]|^=|^----", re.MULTILINE)
_STYLE_QUOTES = re.compile(r"'{2,}")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")
_BEHAVIOUR_SWITCH = re.compile(r"__[A-Z]+__")
_ISO_DATE = re.compile(r"^(-?\d{1,4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[ T](\d{1,2}:\d{2})(?::\d{2})?Z?)?$")
# Tags whose contents are not shown as text (footnotes, galleries of file names, scripts...).
_HIDDEN_TAGS = frozenset({"ref", "references", "math", "score", "templatedata", "indicator"})
_BLOCK_TAGS = frozenset({"p", "div", "li", "dt", "dd", "tr", "table", "blockquote", "center", "hr", "pre"})
# The HTML tags MediaWiki's sanitizer lets through (Sanitizer::getRecognizedTagData) and the extension
# tags of file pages: any other ("<script>") is shown as the text it is, as MediaWiki shows it.
_TAG_NAMES = """abbr b bdi bdo big blockquote br caption center cite code data dd del dfn div dl dt em font
    h1 h2 h3 h4 h5 h6 hr i ins kbd li link mark meta ol p pre q rb rp rt rtc ruby s samp small span strike
    strong sub sup table td th time tr tt u ul var wbr nowiki ref references gallery math score
    templatedata indicator syntaxhighlight source poem chem ce"""
_KNOWN_TAGS = frozenset(_TAG_NAMES.split())
_CATEGORY_LINK = re.compile(r"^\s*category\s*:", re.IGNORECASE)
_FILE_LINK = re.compile(r"^\s*(?:file|image)\s*:\s*", re.IGNORECASE)
_INTERWIKI = re.compile(r"^:?[a-z][a-z-]*:", re.IGNORECASE)


def calendar_date(year: str, month: int | None = None, day: int | None = None) -> str:
    """``3 May 1890``, ``May 1890`` or ``1890``; years before 1 as "500 BC"."""
    number = year.lstrip("+")
    if number.startswith("-") and number[1:].isdigit():
        number = f"{int(number[1:])} BC"
    elif number.isdigit():
        number = str(int(number))
    if month is None or not 1 <= month <= 12:
        return number
    if day is None or not 1 <= day <= 31:
        return f"{MONTHS[month - 1]} {number}"
    return f"{day} {MONTHS[month - 1]} {number}"


def date_words(text: str) -> str:
    """An ISO date (``1890``, ``1890-05``, ``1890-05-03``, with a time) in words; other text as it is."""
    match = _ISO_DATE.match(text.strip())
    if match is None:
        return text
    year, month, day, time = match.groups()
    words = calendar_date(year, int(month) if month else None, int(day) if day else None)
    return f"{words}, {time}" if time and month and day else words


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def tidy(text: str) -> str:
    """NFC, invisible characters gone, spaces collapsed within lines, no blank lines, stripped."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()


# Values up to this long are cached (an export or a digest reads the same values many times); a whole
# page (the unparsed-page fallback) is not kept.
CACHED_CHARS = 4000


def to_text(wikitext: str | None) -> str:
    """The text a reader sees for ``wikitext`` (see the module docstring); never raises."""
    if not wikitext:
        return ""
    if not _MARKUP.search(wikitext):
        return tidy(wikitext)
    return _cached_text(wikitext) if len(wikitext) <= CACHED_CHARS else _parsed_text(wikitext)


@lru_cache(maxsize=4096)
def _cached_text(wikitext: str) -> str:
    return _parsed_text(wikitext)


def _parsed_text(wikitext: str) -> str:
    text = remove_comments(wikitext)
    try:
        code = mwparserfromhell.parse(text, skip_style_tags=True)
        shown = _render(code)
    except Exception:  # the parser's errors are of several classes (and RecursionError on deep input)
        shown = text
    return tidy(_BEHAVIOUR_SWITCH.sub("", _STYLE_QUOTES.sub("", shown)))


# -- the tree -------------------------------------------------------------------------------------


def _render(code: Wikicode | None) -> str:
    if code is None:
        return ""
    return "".join(_node(node) for node in code.nodes)


def _inline(code: Wikicode | None) -> str:
    """A part of a node (a parameter, a link's text) as one tidy piece of text."""
    return tidy(_STYLE_QUOTES.sub("", _render(code)))


def _node(node: Node) -> str:
    if isinstance(node, Text):
        return html.unescape(node.value) if "&" in node.value else node.value
    if isinstance(node, Comment):
        return ""
    if isinstance(node, HTMLEntity):
        try:
            return str(node.normalize())
        except ValueError:  # an entity the parser kept but cannot decode
            return str(node)
    if isinstance(node, Template):
        return _template(node)
    if isinstance(node, Wikilink):
        return _wikilink(node)
    if isinstance(node, ExternalLink):
        if node.title is not None and _inline(node.title):
            return _inline(node.title)
        return _inline(node.url)
    if isinstance(node, Tag):
        return _tag(node)
    if isinstance(node, Heading):
        return f"\n{_inline(node.title)}\n"
    if isinstance(node, Argument):
        return _render(node.default) if node.default is not None else ""
    return str(node)


def _wikilink(node: Wikilink) -> str:
    target = _inline(node.title)
    if _CATEGORY_LINK.match(target):
        return ""  # a category: membership, not text
    if _FILE_LINK.match(target):
        return _FILE_LINK.sub("File:", target)  # an embedded image: the reader sees it, the text names it
    if node.text is not None:
        shown = _inline(node.text)
        if shown:
            return shown
        # The pipe trick: [[Creator:Erik Lernestål|]] shows "Erik Lernestål".
        return re.sub(r"\s*\([^()]*\)$", "", target.rsplit(":", 1)[-1]).strip()
    return target.lstrip(":").split("#", 1)[0] if not target.startswith("#") else target[1:]


def _tag(node: Tag) -> str:
    name = str(node.tag).strip().lower()
    if name not in _KNOWN_TAGS:
        if node.self_closing or node.contents is None:
            return str(node)
        opening = "<" + str(node.tag) + "".join(str(a) for a in node.attributes) + (node.padding or "") + ">"
        return opening + _render(node.contents) + f"</{node.closing_tag}>"
    if name == "br":
        return "\n"
    if name in _HIDDEN_TAGS:
        return ""
    if name == "gallery":  # one file a line ("File:" optional, a caption after "|"): the files, named
        files: list[str] = []
        for line in str(node.contents or "").split("\n"):
            target = _FILE_LINK.sub("", line.split("|", 1)[0].strip())
            if target:
                files.append(f"File:{target}")
        return "\n" + "\n".join(files) + "\n"
    if name == "hr":
        return "\n"
    contents = _render(node.contents) if node.contents is not None else ""
    if name == "li":
        return f"\n• {contents}"
    if name in ("nowiki", "pre"):
        return str(node.contents) if node.contents is not None else ""
    if name in ("td", "th"):
        return f" {contents} "
    if name in _BLOCK_TAGS:
        return f"\n{contents}\n"
    return contents


# -- templates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A template call's parameters as text: positional by number (1 first), named by lower-case name."""

    name: str
    positional: tuple[str, ...]
    named: dict[str, str]

    def arg(self, number: int, *names: str) -> str:
        """Positional ``number`` (or ``number=``), else the first of ``names`` given; "" where none."""
        value = self.positional[number - 1] if number <= len(self.positional) else ""
        if not value:
            value = next((self.named[n] for n in names if self.named.get(n)), "")
        return value

    def args(self) -> list[str]:
        return [p for p in self.positional if p]


def _call(node: Template, name: str) -> Call:
    numbered: dict[int, str] = {}
    named: dict[str, str] = {}
    for param in node.params:
        key = str(param.name).strip()
        value = _inline(param.value)
        if key.isdigit():
            numbered[int(key)] = value  # the last of duplicates, as MediaWiki
        else:
            named[key.lower()] = value
    positional = tuple(numbered.get(i, "") for i in range(1, max(numbered, default=0) + 1))
    return Call(name, positional, named)


def _template(node: Template) -> str:
    raw = remove_comments(str(node.name)).strip()
    if raw in ("!", "="):
        return "|" if raw == "!" else "="
    name = BUILTIN_REDIRECTS.canonical(raw)
    if name is None:
        return ""  # a magic word or parser function ({{int:filedesc}}, {{#if:}}): nothing to read
    call = _call(node, name)
    key = name.casefold()
    prefix, _, rest = name.partition(":")
    if rest and prefix.casefold() in ("creator", "institution"):
        return rest
    if language_of(name) is not None:
        return f"\n{call.arg(1)}\n"
    renderer = RENDERERS.get(key)
    if renderer is not None:
        return renderer(call)
    if key in SELF_LICENCE_WRAPPERS:
        licences = [licence_words(a) for a in call.args()]
        return "licensed by the author: " + "; ".join(licences) if licences else "licensed by the author"
    if is_licence_template(name):
        deathyear = [f"deathyear={call.named['deathyear']}"] if call.named.get("deathyear") else []
        return licence_words("|".join((name, *call.args(), *deathyear)))
    return unknown_template(name)


def unknown_template(name: str) -> str:
    """A template not rendered here: its name in braces, cut short."""
    shown = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "…"
    return "{{" + shown + "}}"


_CC = re.compile(r"^cc[- ]?(by(?:-nc)?(?:-nd)?(?:-sa)?)[- ]?(\d\.\d)?(?:-(\w+))?$", re.IGNORECASE)
_LICENCE_NAMES = {
    "cc-zero": "CC0",
    "cc0": "CC0",
    "cc-0": "CC0",
    "gfdl": "GFDL",
    "fal": "Free Art License",
    "pd": "public domain",
    "public domain": "public domain",
}


def licence_words(value: str) -> str:
    """A licence template (``cc-by-sa-4.0``, ``PD-Art|PD-old-auto|deathyear=1920``) by name:
    "CC BY-SA 4.0", "PD-Art (PD-old-auto, deathyear=1920)"."""
    name, *params = (part.strip() for part in value.split("|"))
    match = _CC.match(name)
    if match:
        kind, version, port = match.groups()
        words = " ".join(p for p in ("CC", kind.upper(), version, port.upper() if port else None) if p)
    else:
        words = _LICENCE_NAMES.get(name.casefold(), name)
    shown = [p for p in params if (p and "=" not in p) or p.startswith("deathyear=")]
    return f"{words} ({', '.join(shown)})" if shown else words


# {{other date|kind|a|b}}: Commons Template:Other date's kinds, as its English output reads.
_OTHER_DATE: dict[str, Callable[[str, str], str]] = {
    "-": lambda a, b: f"{a}–{b}",
    "from-until": lambda a, b: f"from {a} until {b}",
    "between": lambda a, b: f"between {a} and {b}",
    "or": lambda a, b: f"{a} or {b}",
    "and": lambda a, b: f"{a} and {b}",
    "~": lambda a, b: f"circa {a}" + (f"–{b}" if b else ""),
    "ca": lambda a, b: f"circa {a}" + (f"–{b}" if b else ""),
    "circa": lambda a, b: f"circa {a}" + (f"–{b}" if b else ""),
    "c": lambda a, b: f"circa {a}" + (f"–{b}" if b else ""),
    "c.": lambda a, b: f"circa {a}" + (f"–{b}" if b else ""),
    "b": lambda a, b: f"before {a}",
    "before": lambda a, b: f"before {a}",
    "a": lambda a, b: f"after {a}",
    "after": lambda a, b: f"after {a}",
    "by": lambda a, b: f"by {a}",
    "from": lambda a, b: f"from {a}",
    "until": lambda a, b: f"until {a}",
    "fl": lambda a, b: f"active {a}" + (f"–{b}" if b else ""),
    "?": lambda a, b: f"{a}?",
    "decade": lambda a, b: f"{a}s",
    "century": lambda a, b: f"{ordinal(int(a))} century" if a.isdigit() else f"{a} century",
    "millennium": lambda a, b: f"{ordinal(int(a))} millennium" if a.isdigit() else f"{a} millennium",
}


def _other_date(call: Call) -> str:
    kind = call.arg(1).strip().lower()
    a, b = date_words(call.arg(2)), date_words(call.arg(3))
    if kind in _OTHER_DATE and a:
        return _OTHER_DATE[kind](a, b)
    # early/mid/late, seasons, halves and quarters: the kind word before the date, as Commons writes it.
    return " ".join(w for w in (kind, a, b) if w)


def _date(call: Call) -> str:
    year, month, day = call.arg(1, "year"), call.arg(2, "month"), call.arg(3, "day")
    if month and not month.isdigit():
        names = [m.casefold() for m in MONTHS]
        month = str(names.index(month.casefold()) + 1) if month.casefold() in names else ""
    if not year:
        return ""
    return calendar_date(year, int(month) if month else None, int(day) if day.isdigit() else None)


def _multilingual(call: Call) -> str:
    """{{mld|en=…|de=…}}, {{LangSwitch}}: every language's text, one a line (duplicates once)."""
    seen: list[str] = []
    for key, value in call.named.items():
        if key not in ("lang", "nocat", "inline") and value and value not in seen:
            seen.append(value)
    return "\n" + "\n".join(seen) + "\n"


def _title(call: Call) -> str:
    lines = [call.arg(1)]
    lines += [v for k, v in call.named.items() if k not in ("lang", "1", "translation") and v]
    return "\n".join(line for line in lines if line)


def _dimensions(call: Call, names: Sequence[str]) -> str:
    unit = call.named.get("unit") or call.arg(1)
    given = [(n, call.named.get(n) or call.arg(i + 2)) for i, n in enumerate(names)]
    given += [(n, v) for n, v in call.named.items() if n not in names and n != "unit" and v]
    return ", ".join(f"{n} {v} {unit}".strip() for n, v in given if v)


def _location(call: Call) -> str:
    """{{Location|d|m|s|N|d|m|s|E}} as 37°26′46.6″N 113°11′36.72″W; {{Location dec|lat|lon}} as "lat, lon"."""
    args = call.positional
    for size in (8, 6, 4):
        if (
            len(args) >= size
            and args[size // 2 - 1].upper() in ("N", "S")
            and args[size - 1].upper() in ("E", "W")
        ):
            half = size // 2
            marks = ("°", "′", "″")
            lat = (
                "".join(f"{v}{m}" for v, m in zip(args[: half - 1], marks, strict=False))
                + args[half - 1].upper()
            )
            lon = "".join(f"{v}{m}" for v, m in zip(args[half : size - 1], marks, strict=False))
            return f"{lat} {lon}{args[size - 1].upper()}"
    if len(args) >= 2 and all(re.fullmatch(r"-?\d+(?:\.\d+)?", a) for a in args[:2]):
        return f"{args[0]}, {args[1]}"
    return unknown_template(call.name)


def _after(word: str) -> Callable[[Call], str]:
    return lambda call: f"{word} {', '.join(call.args())}".strip()


def _said(word: str) -> Callable[[Call], str]:
    return lambda call: f"{date_words(call.arg(1))} ({word})" if call.arg(1) else word


def _fixed(words: str) -> Callable[[Call], str]:
    return lambda call: words


RENDERERS: dict[str, Callable[[Call], str]] = {
    "other date": _other_date,
    "circa": lambda c: "circa " + "–".join(date_words(a) for a in c.args()[:2]),
    "ca.": lambda c: "circa " + "–".join(date_words(a) for a in c.args()[:2]),
    "between": lambda c: f"between {date_words(c.arg(1))} and {date_words(c.arg(2))}",
    "date": _date,
    "isodate": lambda c: date_words(c.arg(1)),
    "isoyear": lambda c: c.arg(1),
    "taken on": lambda c: f"taken on {date_words(c.arg(1))}",
    "taken in": lambda c: f"taken in {date_words(c.arg(1))}",
    "according to exif data": _said("according to EXIF data"),
    "according to exif": _said("according to EXIF data"),
    "original upload date": _said("original upload date"),
    "upload date": _said("upload date"),
    "unknown": lambda c: f"unknown {c.arg(1).lower()}".strip(),
    "unknown author": _fixed("unknown author"),
    "author unknown": _fixed("unknown author"),
    "unknown photographer": _fixed("unknown photographer"),
    "anonymous": _fixed("anonymous"),
    "own": _fixed("own work"),
    "own work": _fixed("own work"),
    "self-photographed": _fixed("own work"),
    "own photograph": _fixed("own photograph"),
    "own assumed": _fixed("own work (assumed)"),
    "own work by original uploader": _fixed("own work by the original uploader"),
    "private collection": _fixed("private collection"),
    "author assumed": lambda c: f"{c.arg(1)} (assumed)" if c.arg(1) else "author assumed",
    "attributed to": _after("attributed to"),
    "workshop of": _after("workshop of"),
    "circle of": _after("circle of"),
    "follower of": _after("follower of"),
    "school of": _after("school of"),
    "manner of": _after("manner of"),
    "studio of": _after("studio of"),
    "technique": lambda c: " on ".join(c.args()[:2]).lower(),
    "oil on canvas": _fixed("oil on canvas"),
    "size": lambda c: _dimensions(c, ("height", "width", "depth")),
    "weight": lambda c: f"weight {c.arg(2, 'weight')} {c.arg(1, 'unit')}".strip(),
    "w": lambda c: c.arg(2) or c.arg(1),
    "lang": lambda c: c.arg(2),
    "mld": _multilingual,
    "multilingual description": _multilingual,
    "langswitch": _multilingual,
    "multilingual": _multilingual,
    "title": _title,
    "depicted person": lambda c: ", ".join(c.args()),
    "extracted from": _after("extracted from"),
    "image extracted": _after("extracted images:"),
    "transferred from": _after("transferred from"),
    "original uploader": lambda c: f"original uploader {c.arg(1)}".strip(),
    "information field": lambda c: f"{c.named.get('name', '')}: {c.named.get('value', '')}".strip(": "),
    "location": _location,
    "location dec": _location,
    "object location": _location,
    "object location dec": _location,
    "camera location": _location,
    "camera location dec": _location,
    "anchor": _fixed(""),
}
