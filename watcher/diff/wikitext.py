"""The normalised model of a file page's wikitext: info templates, languages, categories, licences,
coordinates and the other page-level templates.

The page is parsed once (comments removed first, as MediaWiki's preprocessor does) and its top level
walked once; categories come from a regular expression over the same text, since they count wherever
they stand. Nothing here raises on bad input: a page whose info template does not parse comes back
with ``parsed=False`` and the diff falls back to a line diff.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import mwparserfromhell
from mwparserfromhell.nodes import Comment, Tag, Template
from mwparserfromhell.wikicode import Wikicode

from watcher.diff.model import DiffSettings
from watcher.diff.names import (
    category_name,
    collapse_spaces,
    language_of,
    param_name,
    remove_comments,
)
from watcher.diff.nesting import too_deep, without_template_free_lines
from watcher.diff.noise import SELF_LICENCE_WRAPPERS, is_licence_template
from watcher.diff.normalise import comparable, is_blank
from watcher.diff.redirects import BUILTIN_REDIRECTS, TemplateRedirects

# Info templates known without configuration: Commons' own, and institution templates that stand in
# for {{Information}} on GLAM uploads. More come from ``DiffSettings.info_templates``.
BUILTIN_INFO_TEMPLATES: tuple[str, ...] = (
    "Information",
    "Artwork",
    "Photograph",
    "Book",
    "Map",
    "Art Photo",
    "Object photo",
    "Specimen",
    "LSH artwork",
    "BArch-image",
    "Flickr",
    "Infobox aircraft image",
    "Kulturmiljöbild-image",
    "Musikverket-image",
    "Nordiska museet Bildminnen image",
)
# Parameter aliases that a template's documentation confirms. `_` and case are handled already.
PARAM_ALIASES: dict[str, dict[str, str]] = {
    "lsh artwork": {"technique": "medium"},  # Commons Template:LSH artwork: "Alternative name: technique"
}
# Templates whose named parameters are languages: {{mld|de=…|en=…}}. ``default`` is language-less.
MULTILINGUAL_TEMPLATES = frozenset({"mld", "multilingual description", "langswitch", "multilingual"})
# {{Title|original|lang=xx|de=…}}: positional 1 is in the language named by ``lang``.
TITLE_TEMPLATES = frozenset({"title"})
LOCATION_TEMPLATES: dict[str, str] = {
    "location": "location",
    "location dec": "location",
    "camera location": "location",
    "camera location dec": "location",
    "object location": "object location",
    "object location dec": "object location",
}
# HTML tags that only lay out the page: templates inside them still stand at the page level.
LAYOUT_TAGS = frozenset(
    {"div", "span", "center", "p", "small", "big", "font", "table", "tr", "td", "th", "section"}
)
# Info-template parameters that may hold licence templates (Flickr, Nationalmuseum uploads).
LICENCE_PARAMS = frozenset({"permission", "license", "licence"})
# Values that say nothing in that parameter: pywikibot's Commons clean-up (cosmetic_changes.py,
# commonsfiledesc) empties ``Permission = See below``; a value saying only this is an empty one.
EMPTY_SAYING: dict[str, frozenset[str]] = {"permission": frozenset({"see below", "siehe unten"})}
# Page-level templates that show nothing and say nothing about the file: the upload form's tracker,
# which the same clean-up removes.
INVISIBLE_TEMPLATES = frozenset({"imageupload"})

_VERBATIM = re.compile(
    r"<(nowiki|pre|syntaxhighlight|source|math)\b[^>]*?/>|<(nowiki|pre|syntaxhighlight|source|math)\b[^>]*>"
    r".*?(?:</\2\s*>|\Z)",
    re.DOTALL | re.IGNORECASE,
)
# The name is taken greedily (trailing spaces and all: ``category_name`` strips them); a lazy ``+?``
# tried the rest of the pattern after every letter.
_CATEGORY = re.compile(r"\[\[\s*category\s*:\s*([^\[\]|{}<>\n]+)\s*(?:\|([^\]]*))?\]\]", re.IGNORECASE)
# A line of nothing but category links (and spaces), and what changes template depth before it.
_CATEGORY_LINE = re.compile(
    r"^[ \t]*(?:\[\[[ \t]*category[ \t]*:[^\[\]{}<>\n]*\]\][ \t]*)+$", re.IGNORECASE | re.MULTILINE
)
_BRACES = re.compile(
    r"<(nowiki|pre|syntaxhighlight|source|math)\b[^>]*?/>|<(nowiki|pre|syntaxhighlight|source|math)\b[^>]*>"
    r".*?(?:</\2\s*>|\Z)|\{\{|\}\}",
    re.DOTALL | re.IGNORECASE,
)

Values = tuple[tuple[str | None, str], ...]


@dataclass(frozen=True, slots=True)
class InfoParam:
    """One parameter of an info template: its stripped wikitext and the same split by language."""

    name: str
    raw: str
    values: Values


@dataclass(frozen=True, slots=True)
class InfoTemplate:
    name: str
    params: tuple[InfoParam, ...]
    # Parameters given twice (MediaWiki shows the last, and so does the model).
    duplicates: tuple[str, ...] = ()

    def param(self, name: str) -> InfoParam | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    sort_key: str | None = None


@dataclass(frozen=True, slots=True)
class Coordinates:
    field: str  # "location" (camera) or "object location"
    template: str
    lat: float | None
    lon: float | None
    raw: str  # the template's wikitext, for coordinates that are not numbers

    def value(self) -> str:
        if self.lat is None or self.lon is None:
            return self.raw
        return f"{format_degrees(self.lat)},{format_degrees(self.lon)}"


@dataclass(frozen=True, slots=True)
class Licence:
    key: str  # case-folded template name: {{self|cc-by-sa-4.0}} and {{Cc-by-sa-4.0}} are one licence
    value: str  # as shown: "cc-by-sa-4.0", "PD-Art|PD-old-auto|deathyear=1920"
    wikitext: str  # for comparing parameters


@dataclass(frozen=True, slots=True)
class PageTemplate:
    name: str
    wikitext: str


@dataclass(frozen=True, slots=True)
class WikitextModel:
    text: str
    parsed: bool
    info: tuple[InfoTemplate, ...] = ()
    categories: tuple[Category, ...] = ()
    licences: tuple[Licence, ...] = ()
    locations: tuple[Coordinates, ...] = ()
    templates: tuple[PageTemplate, ...] = ()
    problem: str | None = None


def format_degrees(value: float) -> str:
    """Decimal degrees, 6 places, no trailing zeros and no ``-0``."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=8)
def parse_wikicode(text: str) -> Wikicode | None:
    """Comments removed, then parsed; None where the parser gives up. Cached: the diff and the
    object-id look-up read the same revisions, and one edit's new text is the next one's old.
    The tree is shared: callers must not change it.

    Lines that hold only category links outside any template are left out of the tree: categories
    are read from the text (``categories_of``), and building a node for each of hundreds of them was
    most of the parse of a category-heavy page. So are, on a long page, the stretches that hold no
    template and that the parser reads on their own (``nesting.without_template_free_lines``)."""
    return _parse_prepared(without_template_free_lines(without_category_lines(remove_comments(text))))


@lru_cache(maxsize=8)
def _parse_prepared(prepared: str) -> Wikicode | None:
    """The parse of what is left of a page. Cached apart: two revisions whose edit fell in a stretch
    the parser needs not see (a category, an upload-log row) leave the same text, parsed once."""
    try:
        return mwparserfromhell.parse(prepared, skip_style_tags=True)
    except Exception:  # ParserError and, on pathological input, RecursionError
        return None


def without_category_lines(text: str) -> str:
    """``text`` without the lines that hold nothing but ``[[Category:…]]`` links at template depth 0
    (the newlines stay). Braces inside ``<nowiki>``/``<pre>``... do not count."""
    if "[[" not in text:
        return text
    lines = [m for m in _CATEGORY_LINE.finditer(text)]
    if not lines:
        return text
    depth_at: list[int] = []
    depth = 0
    tokens = _BRACES.finditer(text)
    token = next(tokens, None)
    for line in lines:
        while token is not None and token.start() < line.start():
            if token.group() == "{{":
                depth += 1
            elif token.group() == "}}":
                depth = max(0, depth - 1)
            token = next(tokens, None)
        depth_at.append(depth)
    parts: list[str] = []
    at = 0
    for line, level in zip(lines, depth_at, strict=True):
        if level == 0:
            parts.append(text[at : line.start()])
            at = line.end()
    parts.append(text[at:])
    return "".join(parts)


def info_template_names(settings: DiffSettings) -> dict[str, str]:
    """Case-folded name → the spelling used in records (a configured redirect counts as its target)."""
    return _info_names(settings.info_templates, settings.redirects)


@lru_cache(maxsize=32)
def _info_names(extra: tuple[str, ...], redirects: TemplateRedirects) -> dict[str, str]:
    names: dict[str, str] = {}
    for raw in (*BUILTIN_INFO_TEMPLATES, *extra):
        name = redirects.canonical(raw)
        if name:
            names.setdefault(name.casefold(), name)
    return names


@lru_cache(maxsize=32)
def _info_spellings(names: tuple[str, ...], redirects: TemplateRedirects) -> tuple[str, ...]:
    """The info templates' names and every redirect to them: what the unclosed-template scan looks for."""
    return tuple(sorted({*names, *(a.casefold() for a in redirects.aliases_of(names))}))


@lru_cache(maxsize=32)
def _info_call_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(r"[ _]+".join(map(re.escape, n.split(" "))) for n in sorted(names, key=len)[::-1])
    return re.compile(
        r"\{\{\s*(?:template\s*:\s*)?(?:" + alternatives + r")\s*(?=\||\}\}|$)", re.IGNORECASE | re.M
    )


def blank_verbatim(text: str) -> str:
    """``<nowiki>``, ``<pre>`` and friends hold text, not markup: blank them before regex scans."""
    if "<" not in text:
        return text
    return _VERBATIM.sub(" ", text)


def categories_of(clean: str, blanked: bool = False) -> tuple[Category, ...]:
    """``[[Category:X|key]]`` anywhere (lower case too); ``[[:Category:X]]`` is a link, not membership.
    ``blanked``: verbatim blocks are blanked already (``blank_verbatim``)."""
    seen: dict[str, Category] = {}
    for match in _CATEGORY.finditer(clean if blanked else blank_verbatim(clean)):
        name = category_name(match.group(1))
        if name and name not in seen:
            key = match.group(2)
            seen[name] = Category(name, key.strip() if key is not None else None)
    return tuple(seen.values())


def split_languages(code: Wikicode, redirects: TemplateRedirects = BUILTIN_REDIRECTS) -> Values:
    """Split a value into (language, text): {{en|…}}, {{mld|de=…}}, {{LangSwitch|…}}, {{Title|…}};
    what is left outside them is language None (unless it is only line breaks and spaces)."""
    tagged: dict[str | None, list[str]] = {}
    loose: list[str] = []
    for node in code.nodes:
        if isinstance(node, Comment):
            continue
        if isinstance(node, Template):
            name = redirects.canonical(str(node.name))
            if name is not None:
                lang = language_of(name)
                folded = name.casefold()
                if lang is not None:
                    text = _language_template_text(node)
                    if text:
                        tagged.setdefault(lang, []).append(text)
                    continue
                if folded in MULTILINGUAL_TEMPLATES or folded in TITLE_TEMPLATES:
                    _split_multilingual(node, folded in TITLE_TEMPLATES, tagged, redirects)
                    continue
        loose.append(str(node))
    rest = "".join(loose).strip()
    if rest and not is_blank(rest, redirects):
        tagged.setdefault(None, []).insert(0, rest)
    ordered = sorted(tagged.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    return tuple((lang, "\n".join(texts)) for lang, texts in ordered)


def _untagged(raw: str, redirects: TemplateRedirects) -> Values:
    return () if is_blank(raw, redirects) else ((None, raw),)


def _language_template_text(node: Template) -> str:
    """Parameter 1 (what MediaWiki shows); where a stray ``=`` made it a named parameter, all of it."""
    value: str | None = None
    for param in node.params:
        if str(param.name).strip() == "1":
            value = str(param.value)
    if value is None:
        value = "|".join(str(p) for p in node.params)
    return value.strip()


def _code(code: str, redirects: TemplateRedirects) -> str | None:
    """A language code given as a parameter (``{{mld|zh-yue=…}}``), renamed codes resolved as the
    language templates' are (``zh-yue`` is ``yue``)."""
    name = redirects.canonical(code)
    return language_of(name) if name else None


def _split_multilingual(
    node: Template, is_title: bool, tagged: dict[str | None, list[str]], redirects: TemplateRedirects
) -> None:
    title_lang: str | None = None
    if is_title:
        for param in node.params:
            if param_name(str(param.name)) == "lang":
                title_lang = _code(str(param.value).strip(), redirects)
    for param in node.params:
        key = param_name(str(param.name))
        text = str(param.value).strip()
        if not text or key in ("lang", "nocat", "inline"):
            continue
        if key.isdigit():
            lang = title_lang if is_title and key == "1" else None
        elif key == "default":
            lang = None
        else:
            lang = _code(key, redirects)
            if lang is None:
                continue
        tagged.setdefault(lang, []).append(text)


def _info_template(node: Template, name: str, redirects: TemplateRedirects) -> InfoTemplate:
    aliases = PARAM_ALIASES.get(name.casefold(), {})
    by_name: dict[str, InfoParam] = {}
    order: list[str] = []
    duplicates: list[str] = []
    for param in node.params:
        key = param_name(str(param.name))
        key = aliases.get(key, key)
        if key in by_name or key in order:
            duplicates.append(key)
        else:
            order.append(key)
        raw = str(param.value).strip()
        if raw and key in EMPTY_SAYING and comparable(raw, redirects).casefold() in EMPTY_SAYING[key]:
            raw = ""
        if raw:
            values: Values = (
                split_languages(param.value, redirects) if "{{" in raw else _untagged(raw, redirects)
            )
            by_name[key] = InfoParam(key, raw, values)
        else:
            by_name.pop(key, None)
    params = tuple(by_name[key] for key in order if key in by_name)
    return InfoTemplate(name, params, tuple(dict.fromkeys(duplicates)))


@lru_cache(maxsize=256)
def page_template_params(template: PageTemplate, redirects: TemplateRedirects) -> tuple[InfoParam, ...]:
    """A page-level template's parameters read as an info template's. Only wanted where an edit may
    have converted it into an info template (rare), so parsed again then rather than for every page."""
    try:  # not parse_wikicode: its small cache is for whole pages
        nodes = mwparserfromhell.parse(template.wikitext, skip_style_tags=True).filter_templates(
            recursive=False
        )
    except Exception:  # the parser's errors are of several classes
        return ()
    return _info_template(nodes[0], template.name, redirects).params if nodes else ()


def _positional(node: Template) -> list[str]:
    values: dict[int, str] = {}
    for param in node.params:
        key = str(param.name).strip()
        if key.isdigit():
            values[int(key)] = str(param.value).strip()
    return [values[i] for i in sorted(values)]


def _number(text: str) -> float | None:
    try:
        value = float(text.replace("−", "-"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _dms(parts: list[str]) -> float | None:
    if not 1 <= len(parts) <= 3:
        return None
    total = 0.0
    for scale, part in zip((1.0, 60.0, 3600.0), parts, strict=False):
        number = _number(part) if part else 0.0
        if number is None:
            return None
        total += number / scale
    return total


def parse_coordinates(values: list[str]) -> tuple[float, float] | None:
    """``{{Location|37|26|46.6|N|113|11|36.72|W|…}}`` (DMS, any of d / d m / d m s) or ``lat|lon``."""
    upper = [v.upper() for v in values]
    ns = next((i for i, v in enumerate(upper) if v in ("N", "S")), None)
    if ns is not None:
        ew = next((i for i in range(ns + 1, len(upper)) if upper[i] in ("E", "W", "O")), None)
        if ew is None:
            return None
        lat, lon = _dms(values[:ns]), _dms(values[ns + 1 : ew])
        if lat is None or lon is None:
            return None
        lat = -lat if upper[ns] == "S" else lat
        lon = -lon if upper[ew] == "W" else lon
    else:
        if len(values) < 2:
            return None
        lat, lon = _number(values[0]), _number(values[1])
        if lat is None or lon is None:
            return None
    if abs(lat) > 90 or abs(lon) > 360:
        return None
    return lat, lon


def _licences(node: Template, name: str, out: dict[str, Licence], redirects: TemplateRedirects) -> bool:
    """Add the licences a template stands for; False where it is no licence template."""
    folded = name.casefold()
    if folded in SELF_LICENCE_WRAPPERS:
        for value in _positional(node):
            licence = redirects.canonical(value)
            if licence and "{" not in value:
                out.setdefault(licence.casefold(), Licence(licence.casefold(), value, "{{" + value + "}}"))
        return True
    if not is_licence_template(name):
        return False
    written = collapse_spaces(str(node.name).replace("_", " "))
    shown_name = written if written.casefold() == folded else name
    shown = "|".join([shown_name, *(collapse_spaces(str(p)) for p in node.params)])
    out.setdefault(folded, Licence(folded, shown, str(node).strip()))
    return True


def _page_level_templates(code: Wikicode) -> list[Template]:
    """Templates at the top level, also inside layout tags (``<div>{{Information…}}</div>``), but not
    in headings (``== {{int:license-header}} ==``), galleries, references or other templates."""
    found: list[Template] = []
    for node in code.nodes:
        if isinstance(node, Template):
            found.append(node)
        elif (
            isinstance(node, Tag)
            and str(node.tag).strip().lower() in LAYOUT_TAGS
            and node.contents is not None
        ):
            found.extend(_page_level_templates(node.contents))
    return found


def parse_wikitext(text: str, settings: DiffSettings) -> WikitextModel:
    """The model of one revision's wikitext; ``parsed=False`` where its info template is broken or the
    page nests deeper than the parser follows."""
    code = parse_wikicode(text)
    if code is None:
        return WikitextModel(text, False, problem="the parser gave up on this page")
    redirects = settings.redirects
    info_names = info_template_names(settings)
    info: list[InfoTemplate] = []
    licences: dict[str, Licence] = {}
    locations: list[Coordinates] = []
    templates: list[PageTemplate] = []
    for node in _page_level_templates(code):
        name = redirects.canonical(str(node.name))
        if name is None:
            continue
        folded = name.casefold()
        if folded in info_names:
            template = _info_template(node, info_names[folded], redirects)
            info.append(template)
            for param in node.params:
                if param_name(str(param.name)) in LICENCE_PARAMS:
                    for inner in param.value.nodes:
                        if isinstance(inner, Template):
                            inner_name = redirects.canonical(str(inner.name))
                            if inner_name:
                                _licences(inner, inner_name, licences, redirects)
        elif folded in LOCATION_TEMPLATES:
            point = parse_coordinates(_positional(node))
            lat, lon = point if point else (None, None)
            raw = collapse_spaces(str(node))
            locations.append(Coordinates(LOCATION_TEMPLATES[folded], name, lat, lon, raw))
        elif folded not in INVISIBLE_TEMPLATES and not _licences(node, name, licences, redirects):
            templates.append(PageTemplate(name, str(node).strip()))
    clean = blank_verbatim(remove_comments(text))  # what was parsed: str(code) would build it again
    if too_deep(clean, code):
        return WikitextModel(text, False, problem="templates nest deeper than the parser follows")
    spellings = _info_spellings(tuple(info_names), redirects)
    expected = len(_info_call_pattern(spellings).findall(clean))
    if expected > len(info):
        nested = sum(
            1
            for t in code.filter_templates(recursive=True)
            if (redirects.canonical(str(t.name)) or "").casefold() in info_names
        )
        if expected > nested:
            return WikitextModel(text, False, problem="an information template is not closed")
    return WikitextModel(
        text,
        True,
        info=tuple(info),
        categories=categories_of(clean, blanked=True),
        licences=tuple(licences.values()),
        locations=tuple(locations),
        templates=tuple(templates),
    )
