"""What is noise, what is maintenance, and when two spellings are one value.

The rules here are recognised from the text, never guessed from who made the edit: white space,
parameter order, comments and sort keys never make a change; maintenance templates and categories
make ``kind="maintenance"`` changes; a category swapped for a near-identical one is one rename.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from fnmatch import translate
from functools import lru_cache

import mwparserfromhell
from mwparserfromhell.nodes import Comment, Template, Text
from mwparserfromhell.wikicode import Wikicode

from watcher.diff.model import DiffSettings
from watcher.diff.names import collapse_spaces, template_name

# fnmatch patterns, matched case-insensitively. Templates that track the page's state on Commons
# rather than describe the object: review, assessment and categorisation requests. Deletion
# requests are left out on purpose: a museum wants to hear about those.
DEFAULT_MAINTENANCE_TEMPLATES: tuple[str, ...] = (
    "Uncategorized",
    "Unc",
    "Uncategorized-*",
    "Check categories",
    "Categorise",
    "Categorize",
    "Needs categories",
    "FlickreviewR",
    "Flickreview*",
    "LicenseReview",
    "License review",
    "Panoramioreview",
    "Assessments",
    "QualityImage",
    "Quality image",
    "Picture of the day",
    "Motd",
    "Media of the day",
    "Featured picture*",
    "Valued image*",
    "Former featured picture",
    "User:*/no-new-version",
    "HELP 20*",
    "Wiki Loves *",
    "Rotate",
    "Cleanup*",
    "Watermark",
    "Convert to SVG",
    "Should be SVG",
    "BotMoveToCommons",
    "Bad JPEG",
    "Geocoded",
    "GeoGroup",
    "Location possible",
)
DEFAULT_MAINTENANCE_CATEGORIES: tuple[str, ...] = (
    "Uncategorized*",
    "Check categories*",
    "Media needing categories*",
    "Media contributed by *",
    "Uploaded with *",
    "Files with no machine-readable *",
    "Files with coordinates *",
    "Files from * with *",
    "Media missing *",
    "Media lacking *",
    "Pages with *",
    "Pages using *",
    "Taken with *",
    "CC-*",
    "CC BY*",
    "GFDL*",
    "PD-*",
    "PD Old*",
    "Public domain*",
    "License migration *",
    "Self-published work",
    "Unassessed QI candidates",
    "Flickr images reviewed by *",
    "Items with OTRS permission*",
    "Items with VRTS permission*",
    "Artwork template maintenance",
    "Information template maintenance",
)
# Licence templates: a page's licence set is made of these (``{{self|a|b}}`` contributes a and b).
LICENCE_TEMPLATES: tuple[str, ...] = (
    "Cc-*",
    "Cc by*",
    "CC0",
    "PD-*",
    "PD",
    "Public domain",
    "GFDL*",
    "GPL*",
    "LGPL*",
    "FAL",
    "Free Art License",
    "Licensed-PD-Art*",
    "Licensed-FOP*",
    "Copyrighted free use*",
    "Attribution*",
    "OGL*",
    "Bild-*",
    "Flickr-no known copyright restrictions",
    "No restrictions",
    "Kopimi",
    "ODbL",
    "MIT",
    "BSD",
    "Apache",
    "Nationalmuseum Stockholm cc-by-sa",
)
# Templates that wrap licences given as positional parameters.
SELF_LICENCE_WRAPPERS = frozenset({"self", "self2", "multi-license", "dual license"})
# Categories that rename into each other at this similarity (difflib ratio) are one `changed` record.
RENAME_RATIO = 0.8


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """All patterns as one regular expression: one match per name instead of one per pattern."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{translate(p.casefold())})" for p in patterns))


def matches_any(name: str, patterns: Sequence[str]) -> bool:
    """fnmatch on the canonical name, case-insensitive (first-letter case never matters on a wiki)."""
    compiled = _compiled(tuple(patterns))
    return compiled is not None and compiled.match(name.casefold()) is not None


def is_maintenance_template(name: str, settings: DiffSettings) -> bool:
    return matches_any(name, DEFAULT_MAINTENANCE_TEMPLATES) or matches_any(
        name, settings.maintenance_templates
    )


def is_maintenance_category(name: str, settings: DiffSettings) -> bool:
    return matches_any(name, DEFAULT_MAINTENANCE_CATEGORIES) or matches_any(
        name, settings.maintenance_categories
    )


def is_licence_template(name: str) -> bool:
    return matches_any(name, LICENCE_TEMPLATES)


_WORD = re.compile(r"\w+")


def _words(name: str) -> frozenset[str]:
    return frozenset(_WORD.findall(name.casefold()))


def rename_score(old: str, new: str) -> float:
    """How surely ``new`` replaces ``old`` (0 = unrelated): a near spelling or a diffusion.

    Diffusion means one name holds all the other's words (``Chairs`` → ``Chairs in Sweden``).
    """
    first, second = sorted((old.casefold(), new.casefold()))  # the same score both ways round
    ratio = difflib.SequenceMatcher(None, first, second, autojunk=False).ratio()
    if ratio >= RENAME_RATIO:
        return ratio
    old_words, new_words = _words(old), _words(new)
    if old_words and new_words and (old_words <= new_words or new_words <= old_words):
        return 0.5 + 0.25 * ratio
    return 0.0


def pair_renames(removed: Iterable[str], added: Iterable[str]) -> list[tuple[str, str]]:
    """Greedy best-first pairing of removed with added names that look like a rename.

    Deterministic: ties are broken by the names themselves.
    """
    candidates: list[tuple[float, str, str, str, str]] = []
    added_list = list(added)
    for old in removed:
        for new in added_list:
            score = rename_score(old, new)
            if score > 0:
                candidates.append((-score, min(old, new), max(old, new), old, new))
    candidates.sort()
    used_old: set[str] = set()
    used_new: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for *_, old, new in candidates:
        if old not in used_old and new not in used_new:
            used_old.add(old)
            used_new.add(new)
            pairs.append((old, new))
    return pairs


def _normal_wikicode(code: Wikicode) -> str:
    parts: list[str] = []
    for node in code.nodes:
        if isinstance(node, Text):
            parts.append(node.value)
        elif isinstance(node, Comment):
            continue
        elif isinstance(node, Template):
            parts.append(_normal_template(node))
        else:
            parts.append(str(node))
    return collapse_spaces("".join(parts))


def _normal_template(node: Template) -> str:
    name = template_name(str(node.name)) or collapse_spaces(str(node.name))
    positional: dict[int, str] = {}
    named: dict[str, str] = {}
    for param in node.params:
        key = collapse_spaces(str(param.name))
        value = _normal_wikicode(param.value)
        if key.isdigit():
            positional[int(key)] = value
        else:
            named[key] = value
    out = [name]
    out.extend(f"{i}={positional[i]}" for i in sorted(positional))
    out.extend(f"{k}={named[k]}" for k in sorted(named))
    return "{{" + "|".join(out) + "}}"


@lru_cache(maxsize=2048)
def normal_form(value: str) -> str:
    """The form two spellings of one value share: ``{{X|a|2=b}}`` = ``{{X| a |b}}``, named
    parameters in any order, template names canonical, white space collapsed, comments gone."""
    try:
        return _normal_wikicode(mwparserfromhell.parse(value, skip_style_tags=True))
    except Exception:  # the parser's own errors are of several classes; any means "compare as text"
        return collapse_spaces(value)


def same_value(old: str, new: str) -> bool:
    """Equal but for white space, comments, parameter order and the spelling of template calls."""
    if old == new or collapse_spaces(old) == collapse_spaces(new):
        return True
    if "{{" not in old and "{{" not in new and "<!--" not in old and "<!--" not in new:
        return False
    return normal_form(old) == normal_form(new)
