"""Edit summaries in words: Wikibase's machine summaries, section comments and tools' summaries.

A summary is what the editor (or their tool) typed, with MediaWiki's conventions inside it:

- ``/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q42]]`` is
  Wikibase's magic summary (wikimedia/mediawiki-extensions-Wikibase ``docs/topics/summaries.md``): a
  message key with its arguments (a count, a language), then the autosummary, then the editor's own
  words after a comma. It reads "added a statement: depicts Douglas Adams (Q42)".
- ``/* Summary */ fix`` names the section edited: "Summary: fix".
- Links show their text (``[[Help:Gadget-HotCat|HotCat]]`` "HotCat"), a category link names the
  category, an entity link names the entity (labels from the caller, built-in names otherwise).
- Rollback and undo read as what they did: "undid edits by X", "undid revision 123 by X".
- Tools named at the end ("using HotCat", "using [[Commons:CropTool|CropTool]]") as "(using HotCat)".

Templates are not expanded in summaries, so none are rendered here. Pure, and never raises.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from watcher.diff.plaintext import tidy
from watcher.diff.wikibase_words import item_words, property_name

# [[target]] / [[target|text]] in a summary (no nesting: summaries hold no templates or nested links).
_LINK = re.compile(r"\[\[([^\[\]|]*)(?:\|([^\[\]]*))?\]\]")
_EXTERNAL = re.compile(r"\[(https?://[^\s\]]+)(?: ([^\]]*))?\]")
# An entity link as Wikibase writes it on Commons (d:Special:EntityPage/P180), on Wikidata
# (Property:P180, Q42) or by hand (d:Q42, wikidata:Property:P180).
_ENTITY_TARGET = re.compile(
    r"^:?(?:(?:d|wikidata)\s*:\s*)?(?:Special:EntityPage/|Property:|Item:|Lexeme:)?([PQL]\d+)$", re.I
)
_AUTOCOMMENT = re.compile(r"^\s*/\*\s*(.*?)\s*\*/\s*(.*)$", re.DOTALL)
_WIKIBASE_KEY = re.compile(r"^(wb[a-z]+)(?:-([a-z-]+))?(?::(.*))?$")
_CATEGORY_TARGET = re.compile(r"^:?\s*category\s*:\s*(.+)$", re.I)
_USER_TARGET = re.compile(r"^:?\s*(?:special:contributions/|user:)\s*(.+)$", re.I)
_TALK = r"\s*\((?:talk|Talk|discussion)[^()]*\)"
_ROLLBACK = re.compile(
    rf"^Reverted (?:(\d+) )?edits? by (.+?)(?:{_TALK})? to (?:the )?last (?:revision|version) by (.+?)\.?$"
)
_UNDO = re.compile(rf"^(?:Undo|Undid|Undoing) revision (\d+) by (.+?)(?:{_TALK})?(?:[\s:,;-]+(.*))?$")
_RESTORE = re.compile(rf"^Restored? (?:revision|version) (\d+) by (.+?)(?:{_TALK})?(?:[\s:,;-]+(.*))?$")
# Tools that sign the end of their summaries "using X" (HotCat, AWB, VisualFileChange...).
_USING = re.compile(r"\s*\(?\busing ([A-Z][\w-]*(?: [A-Z][\w-]*)?)\)?\.?$")
_TOOL_PREFIX = re.compile(r"^(Cat-a-lot|HotCat|AWB|VisualFileChange|CropTool):\s*(.+)$")

_TERM_FIELDS = {"wbsetlabel": "a caption", "wbsetdescription": "a description", "wbsetaliases": "aliases"}
_TERM_VERBS = {"add": "added", "set": "changed", "remove": "removed", "update": "changed"}
# (key, sub-key) → words; a sub-key not listed falls back to the key's None entry.
_WIKIBASE_WORDS: dict[tuple[str, str | None], str] = {
    ("wbeditentity", "create"): "created structured data",
    ("wbeditentity", "create-item"): "created structured data",
    ("wbeditentity", "update"): "edited structured data",
    ("wbeditentity", "override"): "replaced all structured data",
    ("wbeditentity", None): "edited structured data",
    ("wbcreateclaim", None): "added a statement",
    ("wbsetclaim", "create"): "added a statement",
    ("wbsetclaim", "update"): "changed a statement",
    ("wbsetclaim", "update-qualifiers"): "changed the qualifiers of a statement",
    ("wbsetclaim", "update-references"): "changed the references of a statement",
    ("wbsetclaim", "update-rank"): "changed the rank of a statement",
    ("wbsetclaim", None): "changed a statement",
    ("wbremoveclaims", None): "removed a statement",
    ("wbsetclaimvalue", None): "changed the value of a statement",
    ("wbsetreference", "add"): "added a reference to a statement",
    ("wbsetreference", None): "changed a reference of a statement",
    ("wbremovereferences", None): "removed a reference from a statement",
    ("wbsetqualifier", "add"): "added a qualifier to a statement",
    ("wbsetqualifier", None): "changed a qualifier of a statement",
    ("wbremovequalifiers", None): "removed a qualifier from a statement",
    ("wbsetstatementrank", None): "changed the rank of a statement",
    ("wbsetlabeldescriptionaliases", None): "changed the caption, description and aliases",
}
_CLAIM_KEYS = frozenset(k for k, _ in _WIKIBASE_WORDS if "claim" in k or "qualifier" in k or "reference" in k)


def summary_words(comment: str | None, labels: Mapping[str, str] = {}) -> str | None:
    """The edit summary as a curator reads it; None where there is none (see the module docstring)."""
    if comment is None:
        return None
    text = tidy(comment).replace("\n", " ")
    if not text:
        return None
    try:
        return _words(text, labels) or None
    except Exception:  # never let a strange summary fail a message: its links rendered, or as it is
        return text


def _words(text: str, labels: Mapping[str, str]) -> str:
    text = text.lstrip("→").strip()
    match = _AUTOCOMMENT.match(text)
    if match is None:
        return _tools(links_as_text(text, labels))
    body, rest = match.group(1), match.group(2)
    key = _WIKIBASE_KEY.match(body)
    if key is None:  # a section name
        rest_words = _tools(links_as_text(rest, labels))
        return f"{body}: {rest_words}" if rest_words else body
    return _wikibase(key.group(1), key.group(2), (key.group(3) or "").split("|"), rest, labels)


def _wikibase(key: str, sub: str | None, args: list[str], rest: str, labels: Mapping[str, str]) -> str:
    if key in _TERM_FIELDS:
        verb = _TERM_VERBS.get((sub or "set").split("-")[0], "changed")
        language = args[1].strip() if len(args) > 1 and args[1].strip() else None
        words = f"{verb} {_TERM_FIELDS[key]}" + (f" ({language})" if language else "")
        shown = links_as_text(rest, labels)
        return f"{words}: {shown}" if shown else words
    if key == "wbeditentity" and sub and sub.startswith("update-languages"):
        return _languages_edit(sub, args, links_as_text(rest, labels))
    words = _WIKIBASE_WORDS.get((key, sub)) or _WIKIBASE_WORDS.get((key, None)) or "edited structured data"
    count = args[0].strip() if args else ""
    if key == "wbremoveclaims" and count.isdigit() and int(count) > 1:
        words = f"removed {count} statements"
    if key in _CLAIM_KEYS:
        # "[[P180]]: [[Q42]]" is "depicts Q42": the property names the statement, the colon is markup.
        rest = re.sub(r"(\[\[[^\[\]]*\]\])\s*:\s*", r"\1 ", rest, count=1)
    shown = links_as_text(rest, labels)
    return f"{words}: {shown}" if shown else words


def _languages_edit(sub: str, args: list[str], shown: str) -> str:
    """wbeditentity-update-languages[-and-other][-short]: captions (and more) in these languages."""
    others = " and other structured data" if "and-other" in sub else ""
    if sub.endswith("-short"):
        languages = ", ".join(a.strip() for a in args[2:] if a.strip()) or "?"
        words = f"changed captions ({languages}){others}"
    else:
        count = args[0].strip() if args and args[0].strip().isdigit() else "several"
        words = f"changed captions in {count} languages{others}"
    return f"{words}: {shown}" if shown else words


def _tools(text: str) -> str:
    """Rollback, undo and restore in words; a tool's signature as "(using X)"."""
    rollback = _ROLLBACK.match(text)
    if rollback:
        count, by, to = rollback.groups()
        edits = f"{count} edits" if count and count != "1" else "edits"
        return f"undid {edits} by {by} (back to the last version by {to})"
    for pattern, verb in ((_UNDO, "undid"), (_RESTORE, "restored")):
        found = pattern.match(text)
        if found:
            revision, by, reason = found.groups()
            words = f"{verb} revision {revision} by {by}"
            return f"{words}: {reason}" if reason else words
    prefix = _TOOL_PREFIX.match(text)
    if prefix:
        text = f"{prefix.group(2)} (using {prefix.group(1)})"
    return _USING.sub(lambda m: f" (using {m.group(1)})", text).strip()


def links_as_text(text: str, labels: Mapping[str, str] = {}) -> str:
    """A summary's links as what they show: entities named, categories named, users by name."""

    def internal(match: re.Match[str]) -> str:
        target, shown = match.group(1).strip(), match.group(2)
        entity = _ENTITY_TARGET.match(target)
        if shown is not None and shown.strip():
            return shown.strip()
        if entity:
            found = entity.group(1).upper()
            return property_name(found, labels) if found.startswith("P") else item_words(found, labels)
        category = _CATEGORY_TARGET.match(target)
        if category:
            return f"category {category.group(1).strip()}"
        user = _USER_TARGET.match(target)
        if user and shown is not None:  # the pipe trick: [[User:X|]]
            return user.group(1).strip()
        return target.lstrip(":").strip()

    text = _LINK.sub(internal, text)
    text = _EXTERNAL.sub(lambda m: (m.group(2) or m.group(1)).strip(), text)
    return tidy(html.unescape(text)) if "&" in text else tidy(text)


def summary_entity_ids(comment: str | None) -> list[str]:
    """The ids a summary links (Wikibase autosummaries): callers fetch their labels."""
    if not comment:
        return []
    ids = [
        m.group(1).upper() for m in (_ENTITY_TARGET.match(t.strip()) for t, _ in _LINK.findall(comment)) if m
    ]
    return list(dict.fromkeys(ids))
