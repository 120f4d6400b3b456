"""The museum's own object id of a file, from its page or its name (``[[tracking.object_id]]``).

A template rule returns the parameter's wikitext, stripped, comments removed, as written. Where that
value is itself an ID template (``accession number = {{Nationalmuseum Stockholm link|17880|NMGrh 1234}}``)
it is returned whole rather than guessed at: which positional holds the id differs from template to
template. Because templates are searched at any depth, a rule naming the ID template itself
(``template = "Nationalmuseum Stockholm link"``, ``param = "2"``) reads the clean id; put it first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from watcher.diff.names import param_name
from watcher.diff.redirects import BUILTIN_REDIRECTS, TemplateRedirects
from watcher.diff.wikitext import parse_wikicode

if TYPE_CHECKING:  # config imports the diff's model; the diff needs config's rule type for hints only
    from watcher.config import ObjectIdRule

_FILE_PREFIX = re.compile(r"^\s*(?:file|image)\s*:\s*", re.IGNORECASE)


def find_object_id(
    title: str,
    new_wikitext: str | None,
    old_wikitext: str | None,
    rules: Sequence[ObjectIdRule],
    redirects: TemplateRedirects = BUILTIN_REDIRECTS,
) -> str | None:
    """The first rule that matches wins; a template rule reads the new revision, and the old one
    where the edit removed the value. Never raises (a bad pattern is a rule that does not match).
    A rule's template matches its redirects too (``template = "Artwork"`` reads ``{{Painting}}``)."""
    for rule in rules:
        if rule.pattern is not None:
            value = _from_title(title, rule.pattern)
        elif rule.template and rule.param:
            value = _from_page(new_wikitext, rule.template, rule.param, redirects) or _from_page(
                old_wikitext, rule.template, rule.param, redirects
            )
        else:
            continue
        if value:
            return value
    return None


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def file_name(title: str) -> str:
    """``File:A_b.jpg`` → ``A b.jpg``: what a pattern rule is matched against."""
    return _FILE_PREFIX.sub("", title.replace("_", " "), count=1).strip()


def _from_title(title: str, pattern: str) -> str | None:
    compiled = _compile(pattern)
    if compiled is None:
        return None
    match = compiled.search(file_name(title))
    if match is None:
        return None
    value = match.group(1) if compiled.groups else match.group(0)
    return value.strip() if value else None


def _from_page(wikitext: str | None, template: str, param: str, redirects: TemplateRedirects) -> str | None:
    if not wikitext:
        return None
    wanted = redirects.canonical(template)
    code = parse_wikicode(wikitext)
    if wanted is None or code is None:
        return None
    wanted_key, wanted_param = wanted.casefold(), param_name(param)
    for node in code.filter_templates(recursive=True):
        name = redirects.canonical(str(node.name))
        if name is None or name.casefold() != wanted_key:
            continue
        value = None
        for candidate in node.params:  # the last of duplicated parameters, as MediaWiki shows
            if param_name(str(candidate.name)) == wanted_param:
                value = str(candidate.value).strip()
        if value:
            return value
    return None
