"""Titles, namespaces, timestamps and links of the stand-in wiki (:mod:`watcher.demo.standins.action_api_wiki`),
as MediaWiki spells them: the pure helpers the stand-in's modules share."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from functools import lru_cache

NAMESPACES = {0: "", 2: "User", 4: "Commons", 6: "File", 10: "Template", 14: "Category"}
NS_BY_NAME = {"user": 2, "commons": 4, "project": 4, "file": 6, "image": 6, "template": 10, "category": 14}
INVALID_CHARS = "<>[]{}|"

_CATEGORY_RE = re.compile(r"\[\[\s*category\s*:\s*([^\]|]+?)\s*(?:\|([^\]]*))?\]\]", re.IGNORECASE)
_TEMPLATE_RE = re.compile(r"\{\{\s*([^{}|#<>\[\]\n]+?)\s*(?:\||\}\})")
REDIRECT_RE = re.compile(r"^\s*#REDIRECT\s*:?\s*\[\[([^\]|#]+)", re.IGNORECASE)


class InvalidTitle(ValueError):
    """A title the real wiki would refuse; the message is MediaWiki's ``invalidreason``."""


@lru_cache(maxsize=65536)
def split_title(raw: str) -> tuple[int, str]:
    """Namespace and normalised full title: underscores to spaces, known prefixes canonical, first
    letter capitalised (Commons' ``$wgCapitalLinks``)."""
    text = " ".join(raw.replace("_", " ").split())
    bad = next((c for c in text if c in INVALID_CHARS), None)
    if bad is not None:
        raise InvalidTitle(f'The requested page title contains invalid characters: "{bad}".')
    ns = 0
    head, sep, rest = text.partition(":")
    if sep and head.strip().lower() in NS_BY_NAME:
        ns = NS_BY_NAME[head.strip().lower()]
        text = rest.strip()
    if not text:
        raise InvalidTitle("The requested page title is empty or contains only the name of a namespace.")
    text = text[0].upper() + text[1:]
    return ns, f"{NAMESPACES[ns]}:{text}" if ns else text


def normalize_title(raw: str, default_ns: int = 0) -> str:
    """The title as the wiki spells it; ``default_ns`` applies where no namespace prefix is given."""
    ns, title = split_title(raw)
    if ns == 0 and default_ns:
        return f"{NAMESPACES[default_ns]}:{title}"
    return title


def namespace_of(title: str) -> int:
    return split_title(title)[0]


def text_of(title: str) -> str:
    """The title without its namespace prefix (what sort keys default to)."""
    return title.split(":", 1)[1] if namespace_of(title) else title


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 or MediaWiki's ``YYYYMMDDHHMMSS``, as the API accepts both."""
    value = value.strip()
    if re.fullmatch(r"\d{14}", value):
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@lru_cache(maxsize=65536)
def compact(timestamp: str) -> str:
    return parse_timestamp(timestamp).strftime("%Y%m%d%H%M%S")


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def base36(hex_digest: str) -> str:
    """The base-36 form MediaWiki keeps in the database and in upload log params."""
    number = int(hex_digest, 16)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return (out or "0").rjust(31, "0")


@lru_cache(maxsize=65536)
def parse_links(wikitext: str) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """Categories (title, sort key) and transcluded templates of a wikitext, as the parser would see them."""
    categories: dict[str, str] = {}
    for match in _CATEGORY_RE.finditer(wikitext):
        try:
            title = normalize_title(match.group(1), 14)
        except InvalidTitle:
            continue
        categories.setdefault(title, (match.group(2) or "").strip())
    templates: set[str] = set()
    for match in _TEMPLATE_RE.finditer(wikitext):
        name = match.group(1).strip()
        head, sep, _ = name.partition(":")
        if sep and head.strip().lower() != "template":
            continue  # parser functions and magic words such as {{int:...}} or {{DEFAULTSORT:...}}
        try:
            templates.add(normalize_title(name, 10) if not sep else normalize_title(name))
        except InvalidTitle:
            continue
    return tuple(categories.items()), frozenset(templates)
