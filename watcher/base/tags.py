"""Change tags in words: how an edit was made (mobile, an app, machine translation) and with which tool.

A curator reads "made with CropTool" or "machine translation", never ``OAuth CID: 1352``. Three
sources, in this order: the built-in table of tags Wikimedia wikis set (:data:`KNOWN_TAGS`), patterns
that recognise a tool by its tag's name (a gadget's own tag, ``cat-a-lot``), and, for the tags OAuth
sets (``OAuth CID: N``), the tag's display name or description as the wiki's ``list=tags`` gives them
(the OAuth extension names the consumer there, e.g. "CropTool"). A tag that none of them names stays
out of the words (it is still in the record's ``tags``).

Pure: no I/O. The pipeline computes the words when it queues a record (with the descriptions it has
cached); the review page and the messages read them back from the record.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

OAUTH_PREFIX: Final = "OAuth CID:"

# What the words say about the way an edit was made; they are shown as they are. Every other word is
# a tool's name, shown as "made with <name>".
MANNER_WORDS: Final = frozenset(
    {
        "mobile edit",
        "mobile app edit",
        "machine translation",
        "undo",
        "rollback",
        "manual revert",
        "reverted later on Commons",
        "suggested edit",
        "computer-aided tagging",
    }
)

# Tags MediaWiki core and the extensions Commons runs set, by name (Special:Tags).
KNOWN_TAGS: Final[Mapping[str, str]] = {
    "mobile edit": "mobile edit",
    "mobile web edit": "mobile edit",
    "mobile app edit": "mobile app edit",
    "android app edit": "mobile app edit",
    "ios app edit": "mobile app edit",
    "apps-suggested-edits": "suggested edit",
    "app-suggestededit": "suggested edit",
    "contenttranslation": "Content Translation",
    "contenttranslation-v2": "Content Translation",
    "sectiontranslation": "Content Translation",
    "mw-undo": "undo",
    "mw-rollback": "rollback",
    "mw-manual-revert": "manual revert",
    "mw-reverted": "reverted later on Commons",
    "computer-aided tagging": "computer-aided tagging",
    "computer-aided-tagging": "computer-aided tagging",
}

# A tool recognised in a tag's name, display name or description (case does not matter).
TOOL_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.IGNORECASE), word)
    for pattern, word in (
        (r"\bcrop ?tool\b", "CropTool"),
        (r"\bcat-?a-?lot\b", "Cat-a-lot"),
        (r"(?-i:\bISA\b)|\bISA tool\b", "ISA"),
        (r"\bcontent ?translation\b", "Content Translation"),
        (r"\bmachine[- ]translat|\bunmodified[- ]mt\b|\bmt[- ]only\b", "machine translation"),
        (r"\bhot ?cat\b", "HotCat"),
        (r"\bopen ?refine\b", "OpenRefine"),
        (r"\bquick ?statements\b", "QuickStatements"),
        (r"\bpattypan\b", "Pattypan"),
        (r"\bupload ?wizard\b", "UploadWizard"),
        (r"\bmobile\b", "mobile edit"),
    )
)
_MARKUP = re.compile(r"<[^>]*>")
_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_EXTERNAL = re.compile(r"\[(?:https?:)?//[^\s\]]+ ([^\]]*)\]")
NO_DESCRIPTIONS: Final[Mapping[str, str]] = MappingProxyType({})
NAME_CHARS = 60  # a display name longer than this is a sentence, not a name


def is_oauth(tag: str) -> bool:
    return tag.startswith(OAUTH_PREFIX)


def plain_text(value: str) -> str:
    """A display name or description as text: HTML tags dropped, wiki and external links as their
    text (``[https://… change the content model]``), entities decoded."""
    text = _EXTERNAL.sub(r"\1", _LINK.sub(r"\1", _MARKUP.sub("", value)))
    return " ".join(html.unescape(text).split())


def _matched(text: str) -> str | None:
    for pattern, word in TOOL_PATTERNS:
        if pattern.search(text):
            return word
    return None


def tag_word(tag: str, descriptions: Mapping[str, str] = NO_DESCRIPTIONS) -> str | None:
    """The word for one tag, or None where nothing names it.

    ``descriptions`` maps a tag to its display name and description as text (``list=tags``). An OAuth
    tag whose description names no known tool is called by its display name (the consumer's name).
    """
    known = KNOWN_TAGS.get(tag)
    if known is not None:
        return known
    if not is_oauth(tag):
        return _matched(tag.replace("_", " "))
    text = descriptions.get(tag, "")
    matched = _matched(text)
    if matched is not None:
        return matched
    name = text.split("\n", 1)[0].strip()
    return name if name and len(name) <= NAME_CHARS and not is_oauth(name) else None


def tool_words(tags: Iterable[str], descriptions: Mapping[str, str] = NO_DESCRIPTIONS) -> list[str]:
    """The words for a revision's tags, each once, in the order of the tags."""
    words: list[str] = []
    for tag in tags:
        word = tag_word(tag, descriptions)
        if word is not None and word not in words:
            words.append(word)
    return words


def describe(word: str) -> str:
    """A word as the page and the messages show it: manners as they are, tools as "made with X"."""
    return word if word in MANNER_WORDS else f"made with {word}"


def needs_description(tag: str) -> bool:
    """Whether only the wiki's description of the tag can name it (an OAuth tag outside the table)."""
    return is_oauth(tag) and tag not in KNOWN_TAGS
