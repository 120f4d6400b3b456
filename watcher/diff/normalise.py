"""The one normalisation of a value: :func:`comparable`, what two spellings of one value share.

Every comparison in the diff goes through it (``same_value``); records keep the raw wikitext in
``old``/``new``. A readable text rendering of a value is to be built on the same function, so that what a
curator reads and what the diff compares never disagree.

Equal under it (each is a rendering MediaWiki shows the same, or a routine clean-up):

- white space: runs of any Unicode space (``\\u00a0``, ``\\u2009``, ``\\u3000``...) and ``&nbsp;`` are one
  space; leading and trailing space and line breaks (``<br>``) at either end of a value go; space around
  ``<br>`` goes; invisible characters (zero-width space, BOM, word joiner, left-to-right/right-to-left
  marks, soft hyphen) go. ZWJ/ZWNJ stay: they change how some scripts render.
- ``<br>``, ``<br/>``, ``<br />``, ``</br>``, ``<BR>`` are one line break.
- HTML entities, named and numeric (``&eacute;``, ``&#233;``, ``&#xE9;``), are the character; text is
  compared in NFC (MediaWiki saves NFC, but ``&#101;&#769;`` decodes to the decomposed form).
- comments are gone; HTML attributes compare by name (lower case) and value, in any order and quoting.
- template calls: the canonical name after redirects, ``{{en|x}}`` = ``{{en|1=x}}`` = ``{{en| x }}``,
  named parameters in any order, empty parameters as if absent, the last of duplicated parameters.
- links: ``[[Foo_bar|x]]`` = ``[[foo bar|x]]`` (the target is a title); ``[[Foo]]`` = ``[[Foo|Foo]]``.
- the phrases pywikibot's Commons clean-up (``cosmetic_changes.py``, ``commonsfiledesc``) replaces by
  ``{{own}}``: a whole value "Own work", "Own work by uploader" or "Eigene Arbeit" is ``{{own}}``.

Not equal: any change of visible text, of a parameter's value or position, of link targets, of
bold/italics, and a line break against a space.
"""

from __future__ import annotations

import re
import unicodedata
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

from watcher.diff.names import remove_comments, upper_first
from watcher.diff.redirects import BUILTIN_REDIRECTS, TemplateRedirects

# Characters that render as nothing (and that clean-up tools remove).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200e\u200f\u2060\ufeff\u00ad"), None)
_SPACE = re.compile(r"\s+")
_BR = "<br>"
_AROUND_BR = re.compile(r" ?<br> ?")
_ENDS = re.compile(r"^(?:<br>| )+|(?:<br>| )+$")
_LAYOUT_ONLY = re.compile(r"<br>|<p>|</p>| ")
# What may be all there is in a blank value: tags, comments, space entities, spaces, invisibles.
_HIDDEN = re.compile(
    "<!--.*?(?:-->|$)|</?[A-Za-z][^<>]*>|&(?:nbsp|ensp|emsp|thinsp|#160|#x0*a0|#32|#x0*20);"
    "|[\\s\u200b\u200e\u200f\u2060\ufeff\u00ad]+",
    re.IGNORECASE | re.DOTALL,
)
# Values without any of these characters are plain text: no parse needed.
_MARKUP = re.compile(r"[{}<>&\[\]]")
_TITLE_SPACES = re.compile(r"[\s_]+")


# Whole values that pywikibot's cosmetic_changes.py (commonsfiledesc) rewrites as {{own}}.
_OWN_WORK = frozenset({"own work", "own work by uploader", "eigene arbeit"})
_OWN = "{{Own}}"


def _text(value: str) -> str:
    """Plain-text part of the normalisation: NFC, invisibles gone, white space collapsed, <br> tidied."""
    if not value.isascii():
        value = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    value = _SPACE.sub(" ", value)
    if _BR in value:
        value = _AROUND_BR.sub(_BR, value)
        return _ENDS.sub("", value)
    return value.strip()


@lru_cache(maxsize=4096)
def comparable(value: str, redirects: TemplateRedirects = BUILTIN_REDIRECTS) -> str:
    """The form in which two spellings of one value are equal (see the module docstring)."""
    if not _MARKUP.search(value):
        return _phrase(_text(value))
    value = remove_comments(value)
    try:
        code = mwparserfromhell.parse(value, skip_style_tags=True)
        return _phrase(_text(_render(code, redirects)))
    except Exception:  # the parser's errors are of several classes (and RecursionError): compare as text
        return _text(value)


def _phrase(value: str) -> str:
    return _OWN if len(value) < 21 and value.casefold() in _OWN_WORK else value


def same_value(old: str, new: str, redirects: TemplateRedirects = BUILTIN_REDIRECTS) -> bool:
    """Equal under :func:`comparable`."""
    return old == new or comparable(old, redirects) == comparable(new, redirects)


def is_blank(value: str, redirects: TemplateRedirects = BUILTIN_REDIRECTS) -> bool:
    """Nothing but white space and line breaks: a parameter holding only this is empty."""
    if _HIDDEN.sub("", value):
        return False  # something visible is left beside tags, spaces and comments: no parse needed
    return not _LAYOUT_ONLY.sub("", comparable(value, redirects))


def _render(code: Wikicode, redirects: TemplateRedirects) -> str:
    return "".join(_node(node, redirects) for node in code.nodes)


def _node(node: Node, redirects: TemplateRedirects) -> str:
    if isinstance(node, Text):
        return node.value
    if isinstance(node, Comment):
        return ""
    if isinstance(node, HTMLEntity):
        try:
            return str(node.normalize())
        except ValueError:  # an entity the parser kept but cannot decode
            return str(node)
    if isinstance(node, Template):
        return _template(node, redirects)
    if isinstance(node, Tag):
        return _tag(node, redirects)
    if isinstance(node, Wikilink):
        return _wikilink(node, redirects)
    if isinstance(node, ExternalLink):
        url = _text(_render(node.url, redirects))
        if node.title is None:
            return f"[{url}]" if node.brackets else url
        return f"[{url} {_text(_render(node.title, redirects))}]"
    if isinstance(node, Heading):
        marks = "=" * node.level
        return f"\n{marks}{_text(_render(node.title, redirects))}{marks}\n"
    if isinstance(node, Argument):
        return _text(str(node))
    return str(node)


def _template(node: Template, redirects: TemplateRedirects) -> str:
    raw_name = str(node.name)
    name = redirects.canonical(raw_name) or _text(raw_name)
    positional: dict[int, str] = {}
    named: dict[str, str] = {}
    for param in node.params:
        key = _text(str(param.name))
        value = _text(_render(param.value, redirects))
        if key.isdigit():
            if value:
                positional[int(key)] = value
            else:
                positional.pop(int(key), None)
        elif value:
            named[key] = value
        else:
            named.pop(key, None)
    parts = [name]
    parts.extend(f"{i}={positional[i]}" for i in sorted(positional))
    parts.extend(f"{k}={named[k]}" for k in sorted(named))
    return "{{" + "|".join(parts) + "}}"


def _tag(node: Tag, redirects: TemplateRedirects) -> str:
    name = _text(str(node.tag)).lower()
    if name == "br":
        return _BR
    if node.wiki_markup:  # list items, definition lists, tables, horizontal rules: as written
        return str(node)
    attributes = sorted(
        (_text(str(a.name)).lower(), _text(_render(a.value, redirects)) if a.value is not None else None)
        for a in node.attributes
    )
    opening = name + "".join(f' {k}="{v}"' if v is not None else f" {k}" for k, v in attributes)
    if node.self_closing:
        return f"<{opening}/>"
    contents = _render(node.contents, redirects) if node.contents is not None else ""
    return f"<{opening}>{contents}</{name}>"


def _title(raw: str) -> str:
    """A link target as a title: ``_`` and white space as one space, first letter upper case."""
    title = _TITLE_SPACES.sub(" ", _text(raw)).strip()
    if title.startswith(":"):
        return ":" + upper_first(title[1:].lstrip())
    return upper_first(title)


def _wikilink(node: Wikilink, redirects: TemplateRedirects) -> str:
    """Target and shown text: ``[[A_b|A b]]`` = ``[[A b]]``; ``[[A_b]]`` shows "A_b" and stays apart."""
    written = _render(node.title, redirects)
    shown = _render(node.text, redirects) if node.text is not None else written
    return f"[[{_title(written)}|{_text(shown)}]]"
