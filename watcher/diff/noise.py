"""What is noise, what is maintenance, and when two spellings are one value.

The rules here are recognised from the text, never guessed from who made the edit: maintenance
templates and categories make ``kind="maintenance"`` changes; a category swapped for a near-identical one
is one rename. When two spellings are one value is ``watcher.diff.normalise``'s business.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from fnmatch import translate
from functools import lru_cache

from watcher.diff.model import DiffSettings

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
# Categories that rename into each other at this similarity (2·LCS / total length) are one `changed`.
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
    return _matches(_maintenance_templates(tuple(settings.maintenance_templates)), name)


def is_maintenance_category(name: str, settings: DiffSettings) -> bool:
    return _matches(_maintenance_categories(tuple(settings.maintenance_categories)), name)


@lru_cache(maxsize=16)
def _maintenance_templates(extra: tuple[str, ...]) -> re.Pattern[str] | None:
    """The built-in and the configured patterns as one expression (one match a name: an edit may
    touch hundreds of categories)."""
    return _compiled(DEFAULT_MAINTENANCE_TEMPLATES + extra)


@lru_cache(maxsize=16)
def _maintenance_categories(extra: tuple[str, ...]) -> re.Pattern[str] | None:
    return _compiled(DEFAULT_MAINTENANCE_CATEGORIES + extra)


def _matches(compiled: re.Pattern[str] | None, name: str) -> bool:
    return compiled is not None and compiled.match(name.casefold()) is not None


def is_licence_template(name: str) -> bool:
    return matches_any(name, LICENCE_TEMPLATES)


_WORD = re.compile(r"\w+")
# A word held by more than this many names (both sides together) pairs nobody on its own (``in``,
# ``Paintings``): the other blocks (same folded name, word subset, sorted neighbours) still see them.
_COMMON_WORD = 8
# Sorted-neighbourhood window: near spellings share a long prefix or a long suffix, so names this
# many places apart in sorted order (forwards or backwards) are compared.
_WINDOW = 2
# Up to this many removed × added pairs (a usual edit) every pair is considered; beyond, the blocks.
_EXHAUSTIVE_UP_TO = 2500


# ASCII characters that are no part of a word (``\\w``), each as a space: ``translate`` and ``split``
# find an ASCII name's words faster than the expression does.
_ASCII_NON_WORD = {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}


def _words(name: str) -> frozenset[str]:
    folded = name.casefold()
    if folded.isascii():
        return frozenset(folded.translate(_ASCII_NON_WORD).split())
    return frozenset(_WORD.findall(folded))


def rename_score(old: str, new: str) -> float:
    """How surely ``new`` replaces ``old`` (0 = unrelated): a near spelling or a diffusion.

    A near spelling: the longest common subsequence of the two (case-folded) names covers at least
    :data:`RENAME_RATIO` of their letters (``2·LCS / (len a + len b)``). Diffusion: one name holds all
    the other's words (``Chairs`` → ``Chairs in Sweden``). Symmetric.
    """
    return _Scorer().score(old, new)


class _Name:
    """What scoring needs of one name, computed once: the folded form, its words and (on first use)
    its letter counts packed in one integer (:func:`_letter_counts`)."""

    __slots__ = ("_letters", "folded", "words")

    def __init__(self, name: str, words: frozenset[str] | None = None) -> None:
        self.folded = name.casefold()
        self.words = _words(name) if words is None else words
        self._letters: int | None = None

    @property
    def letters(self) -> int:
        if self._letters is None:
            self._letters = _letter_counts(self.folded)
        return self._letters


# Letter counts packed in one integer: a 16-bit field per group of letters (code point modulo
# _GROUPS), a count in its low byte (names longer than _LONGEST are not packed), bit 8 free for the
# subtraction below. Letters sharing a group only weaken the bound; it stays a bound.
_GROUPS = 32
_LONGEST = 255
_GUARDS = sum(1 << (16 * i + 8) for i in range(_GROUPS))


class _LetterUnits(dict[str, int]):
    """Letter → 1 in its group's field, filled as letters are met."""

    def __missing__(self, letter: str) -> int:
        unit = self[letter] = 1 << (16 * (ord(letter) % _GROUPS))
        return unit


_UNITS = _LetterUnits()


def _letter_counts(text: str) -> int:
    return sum(map(_UNITS.__getitem__, text)) if len(text) <= _LONGEST else -1


def _shared_letters(a: int, b: int, length_a: int) -> int:
    """At most how many letters a common subsequence of two packed names uses: each group as often as
    the side with fewer of it has it, ``length_a - Σ max(0, a_i - b_i)``. All fields at once: with the
    guard bit set in each of ``a``'s fields, ``b`` subtracts without borrowing across fields; the guard
    survives where ``a_i ≥ b_i``, and there the low byte is ``a_i - b_i``."""
    difference = (a | _GUARDS) - b
    kept = difference & _GUARDS
    excess = difference & (kept - (kept >> 8))
    return length_a - sum(excess.to_bytes(2 * _GROUPS, "little"))


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection on slices (string comparison runs in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence. A common prefix and suffix belong to it whole, so
    only what lies between them is compared, bit-parallel (Hyyrö 2004): one pass over one side."""
    prefix = _common_prefix(a, b)
    a, b = a[prefix:], b[prefix:]
    suffix = _common_prefix(a[::-1], b[::-1])
    if suffix:
        a, b = a[:-suffix], b[:-suffix]
    if not a or not b:
        return prefix + suffix
    if len(a) > len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, c in enumerate(a):
        masks[c] = masks.get(c, 0) | 1 << i
    full = (1 << len(a)) - 1
    row = full
    for c in b:
        matched = row & masks.get(c, 0)
        row = ((row + matched) | (row - matched)) & full
    return prefix + suffix + len(a) - row.bit_count()


class _Scorer:
    """:func:`rename_score` for many pairs, each name prepared once."""

    def __init__(self, words: dict[str, frozenset[str]] | None = None) -> None:
        self._names: dict[str, _Name] = {}
        self._words = words or {}

    def _name(self, name: str) -> _Name:
        known = self._names.get(name)
        if known is None:
            known = self._names[name] = _Name(name, self._words.get(name))
        return known

    def bound(self, old: str, new: str) -> float:
        """An upper bound of :meth:`score` from the lengths alone (0: surely no rename)."""
        a, b = self._name(old), self._name(new)
        total = len(a.folded) + len(b.folded)
        if not total:
            return 0.0
        return self._value(2 * min(len(a.folded), len(b.folded)) / total, a, b)

    def bounded(self, candidates: Iterable[tuple[str, str]]) -> list[tuple[float, str, str, int, str, str]]:
        """The heap entries of :func:`pair_renames` for the pairs whose :meth:`bound` is above 0: the
        same arithmetic in one loop (an edit of 500 categories has thousands of pairs)."""
        entries: list[tuple[float, str, str, int, str, str]] = []
        known, name_of, value = self._names, self._name, self._value
        for old, new in candidates:
            a = known.get(old) or name_of(old)
            b = known.get(new) or name_of(new)
            shorter, longer = len(a.folded), len(b.folded)
            if shorter > longer:
                shorter, longer = longer, shorter
            if not longer:
                continue
            ratio = 2 * shorter / (shorter + longer)
            bound = ratio if ratio >= RENAME_RATIO else value(ratio, a, b)
            if bound > 0:
                entries.append((-bound, min(old, new), max(old, new), 0, old, new))
        return entries

    def letter_bound(self, old: str, new: str) -> float:
        """A tighter upper bound of :meth:`score`: a common subsequence uses each letter at most as
        often as the side with fewer of it has it. It tells most unrelated names of like length apart
        at a tenth of the cost of their LCS."""
        a, b = self._name(old), self._name(new)
        total = len(a.folded) + len(b.folded)
        if not total:
            return 0.0
        if a.letters < 0 or b.letters < 0:
            return self.score(old, new, checked=True)
        return self._value(2 * _shared_letters(a.letters, b.letters, len(a.folded)) / total, a, b)

    def score(self, old: str, new: str, checked: bool = False) -> float:
        """The exact score; ``checked``: the bound is known to be above 0 already."""
        if not checked and self.bound(old, new) == 0.0:  # spares unrelated pairs the LCS
            return 0.0
        a, b = self._name(old), self._name(new)
        return self._value(2 * _lcs(a.folded, b.folded) / (len(a.folded) + len(b.folded)), a, b)

    @staticmethod
    def _value(ratio: float, a: _Name, b: _Name) -> float:
        if ratio >= RENAME_RATIO:
            return ratio
        diffusion = bool(a.words and b.words and (a.words <= b.words or b.words <= a.words))
        return 0.5 + 0.25 * ratio if diffusion else 0.0


class _CombiningMarks(dict[int, int | None]):
    """A ``str.translate`` table that drops combining marks, filled as letters are met (the check of
    each letter runs once, the translation in C)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_COMBINING = _CombiningMarks()


def _folded(name: str) -> str:
    """The blocking key: case, accents, dots and spacing gone (``K.W. Gullers`` ~ ``kw  gullers``)."""
    folded = name.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded).translate(_WITHOUT_COMBINING)
    return " ".join(folded.replace(".", "").split())


def _candidates(
    removed: list[str], added: list[str], words: dict[str, frozenset[str]]
) -> set[tuple[str, str]]:
    """Pairs worth scoring, in near-linear time: names in one block (same folded name, one name's words
    all in the other's, a shared uncommon word) or next to each other in sorted order. Symmetric: the
    same pairs either way round."""
    folded = {name: _folded(name) for name in (*removed, *added)}
    pairs: set[tuple[str, str]] = set()
    by_key: dict[str, list[str]] = {}
    for new in added:
        by_key.setdefault(folded[new], []).append(new)
    for old in removed:
        pairs.update((old, new) for new in by_key.get(folded[old], ()))
    # word → removed / added names
    holders: tuple[defaultdict[str, set[str]], defaultdict[str, set[str]]] = (
        defaultdict(set),
        defaultdict(set),
    )
    for side, names in zip(holders, (removed, added), strict=True):
        for name in names:
            for word in words[name]:
                side[word].add(name)
    # One name's words all in the other's (diffusion), from the rarest word; both ways round.
    for name in removed:
        for other in _holding_all(words[name], holders[1], words):
            pairs.add((name, other))
    for name in added:
        for other in _holding_all(words[name], holders[0], words):
            pairs.add((other, name))
    # A shared word that few names hold.
    for word, olds in holders[0].items():
        news = holders[1].get(word)
        if news and len(olds) + len(news) <= _COMMON_WORD:
            pairs.update((old, new) for old in olds for new in news)
    # Sorted neighbours: both sides in one list sorted by the folded name (and by its reverse, for
    # typos early in the name); names of different sides at most _WINDOW places apart are candidates.
    side_of = {name: 0 for name in removed} | {name: 1 for name in added}
    backwards = {name: key[::-1] for name, key in folded.items()}
    for key in (folded, backwards):
        merged = [name for _, name in sorted([(key[name], name) for name in side_of])]
        for gap in range(1, _WINDOW + 1):
            for name, other in zip(merged, merged[gap:], strict=False):
                where = side_of[name]
                if where != side_of[other]:
                    pairs.add((name, other) if where == 0 else (other, name))
    return pairs


def _holding_all(
    words: frozenset[str], postings: dict[str, set[str]], words_of: dict[str, frozenset[str]]
) -> set[str]:
    """The names (of ``postings``) that hold every one of ``words``: those of the rarest word's names
    whose words include them all."""
    if not words:
        return set()
    rarest: set[str] | None = None
    for word in words:
        holders = postings.get(word)
        if not holders:
            return set()
        if rarest is None or len(holders) < len(rarest):
            rarest = holders
    assert rarest is not None
    return {name for name in rarest if words <= words_of[name]}


def pair_renames(removed: Iterable[str], added: Iterable[str]) -> list[tuple[str, str]]:
    """Greedy best-first pairing of removed with added names that look like a rename.

    Near-linear: in a big edit only the pairs :func:`_candidates` proposes are considered (in a usual
    one, every pair), and those lazily: in order of a cheap upper bound of their score, the exact score
    computed only for a pair that could still be taken. The result is that of scoring every candidate
    and taking them best first. Deterministic: ties are broken by the names themselves.
    """
    removed_list = list(dict.fromkeys(removed))
    added_list = list(dict.fromkeys(added))
    if not removed_list or not added_list:
        return []
    words = {name: _words(name) for name in (*removed_list, *added_list)}
    scorer = _Scorer(words)
    if len(removed_list) * len(added_list) <= _EXHAUSTIVE_UP_TO:
        candidates: Iterable[tuple[str, str]] = ((a, b) for a in removed_list for b in added_list)
    else:
        candidates = _candidates(removed_list, added_list, words)
    # (-score or -bound, names for ties, stage, old, new); stage 0: a bound from the lengths, 1: from the
    # letters, 2: the exact score. A bound is never below the score, so a stage-2 entry on top of the
    # heap is the best of all that are left.
    heap = scorer.bounded(candidates)
    heapq.heapify(heap)
    used_old: set[str] = set()
    used_new: set[str] = set()
    pairs: list[tuple[str, str]] = []
    while heap:
        _, low, high, stage, old, new = heapq.heappop(heap)
        if old in used_old or new in used_new:
            continue
        if stage < 2:
            value = scorer.letter_bound(old, new) if stage == 0 else scorer.score(old, new, checked=True)
            if value > 0:
                heapq.heappush(heap, (-value, low, high, stage + 1, old, new))
            continue
        used_old.add(old)
        used_new.add(new)
        pairs.append((old, new))
    return pairs
