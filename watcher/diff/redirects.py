"""Template redirects: ``{{Painting}}`` is ``{{Artwork}}``, so it must diff as ``{{Artwork}}``.

MediaWiki follows a redirect in the Template namespace before it expands a call, so two spellings that
reach one template through a redirect are one template: its fields compare by name under the canonical
(target) name, and an edit that only bypasses a redirect (AWB's "template redirect" fixes) is no change.

The built-in table is the offline default: only redirects a source confirms, each named below. The wiki
knows many more (every Commons language template has a few). ``DiffSettings.template_redirects`` takes
them at run time, filled from ``list=allredirects&arnamespace=10`` or ``prop=redirects`` on the info,
language, date and location templates; entries given there extend the built-in table and win over it.
Names may be given with or without ``Template:``, with ``_`` or spaces; chains (A → B → C) are followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from watcher.diff.names import template_name

# (redirect, target, where that is confirmed). Compared after ``template_name`` (first letter upper,
# ``_`` as space, no ``Template:``); after the first letter, case counts, as it does in MediaWiki titles.
_BUILTIN: tuple[tuple[str, str, str], ...] = (
    # Info templates.
    ("Painting", "Artwork", "issue 16 (Commons); Commons Template:Information/doc once pointed to"
     " {{Painting}} where it now points to {{Artwork}} (wikieducator.org's copy of that page)"),
    ("Art photo", "Art Photo", "Commons Template:Information/doc: 'Please use template {{Artwork}} or"
     " {{Art photo}}' (copy on en.wikisource.org Template:Information)"),
    # Date templates.
    ("Otherdate", "Other date", "commons.wikimedia.org/wiki/Template:Otherdate: '(Redirected from"
     " Template:Otherdate)'"),
    # Language templates: MediaWiki's renamed language codes, the same language under its current code
    # (mediawiki includes/language/LanguageCode.php DEPRECATED_LANGUAGE_CODE_MAPPING; meta.wikimedia.org
    # Special_language_codes).
    ("Als", "Gsw", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T25215)"),
    ("Bat-smg", "Sgs", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T27522)"),
    ("Be-x-old", "Be-tarask", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T11823)"),
    ("Fiu-vro", "Vro", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T31186)"),
    ("Roa-rup", "Rup", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T17988)"),
    ("Zh-classical", "Lzh", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T30443)"),
    ("Zh-min-nan", "Nan", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T30442)"),
    ("Zh-yue", "Yue", "LanguageCode::DEPRECATED_LANGUAGE_CODE_MAPPING (T30441)"),
)  # fmt: skip
BUILTIN_TEMPLATE_REDIRECTS: Mapping[str, str] = MappingProxyType({alias: to for alias, to, _ in _BUILTIN})
# Longest chain followed; a longer one (or a cycle) stops where it was.
_MAX_HOPS = 8


class TemplateRedirects:
    """A resolved redirect table: canonical name → canonical target, chains already followed.

    Hashable in O(1) (the hash is computed once) so that cached functions can take it as an argument.
    """

    __slots__ = ("_hash", "_key", "_table")

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table: Mapping[str, str] = MappingProxyType(dict(table))
        self._key = frozenset(self._table.items())
        self._hash = hash(self._key)

    @classmethod
    def build(cls, extra: Mapping[str, str] | None = None) -> TemplateRedirects:
        """The built-in table extended by ``extra`` (which wins where both name one redirect)."""
        if not extra:
            return BUILTIN_REDIRECTS
        return _build(tuple(BUILTIN_TEMPLATE_REDIRECTS.items()) + tuple(extra.items()))

    def resolve(self, name: str) -> str:
        """The canonical target of an already canonical template name (itself where no redirect)."""
        return self._table.get(name, name)

    def canonical(self, raw: str) -> str | None:
        """The name a call resolves to: ``template_name`` then the redirect; None for magic words."""
        name = template_name(raw)
        return None if name is None else self._table.get(name, name)

    def aliases_of(self, targets: Iterable[str]) -> tuple[str, ...]:
        """Every redirect that leads to one of ``targets`` (compared case-insensitively)."""
        wanted = {t.casefold() for t in targets}
        return tuple(sorted(a for a, t in self._table.items() if t.casefold() in wanted))

    def items(self) -> Iterable[tuple[str, str]]:
        return self._table.items()

    def __len__(self) -> int:
        return len(self._table)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, TemplateRedirects) and self._key == other._key

    def __repr__(self) -> str:
        return f"TemplateRedirects({len(self._table)} redirects)"


@lru_cache(maxsize=16)
def _build(pairs: tuple[tuple[str, str], ...]) -> TemplateRedirects:
    direct: dict[str, str] = {}
    for raw_alias, raw_target in pairs:
        alias, target = template_name(str(raw_alias)), template_name(str(raw_target))
        if alias and target and alias != target:
            direct[alias] = target
    resolved: dict[str, str] = {}
    for alias, target in direct.items():
        seen = {alias}
        for _ in range(_MAX_HOPS):
            following = direct.get(target)
            if following is None or following in seen:
                break
            seen.add(target)
            target = following
        if target != alias:
            resolved[alias] = target
    return TemplateRedirects(resolved)


BUILTIN_REDIRECTS = _build(tuple(BUILTIN_TEMPLATE_REDIRECTS.items()))
