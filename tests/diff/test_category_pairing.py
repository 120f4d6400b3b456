"""Category renames paired in near-linear time: blocked candidates, the same pairs as scoring all."""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections import Counter
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.diff import diff_text
from tests.support.fixtures import wikitext
from watcher.diff.names import category_name, upper_first
from watcher.diff.noise import (
    _candidates,
    _folded,
    _lcs,
    _letter_counts,
    _Scorer,
    _shared_letters,
    _words,
    pair_renames,
    rename_score,
)

SUBJECTS = ("Photographs", "Paintings", "Chairs", "Portraits", "Drawings", "Ceramics", "Maps")
PLACES = ("Stockholm", "Uppsala", "Skokloster", "Göteborg", "Kalmar", "Visby", "Lund")


def replaced(count: int) -> tuple[list[str], list[str]]:
    """``count`` categories, each replaced: respelled, diffused or swapped for an unrelated one."""
    old: list[str] = []
    new: list[str] = []
    for i in range(count):
        name = f"{SUBJECTS[i % 7]} in {PLACES[i // 7 % 7]} by the Nordic workshop no. {i}"
        old.append(name)
        if i % 3 == 0:
            new.append(name.replace("workshop", "worshop"))
        elif i % 3 == 1:
            new.append(f"{name} in {1700 + i}")
        else:
            new.append(f"Objects of the {i}th collection survey, {PLACES[i % 7]}")
    return old, new


def exhaustive(removed: list[str], added: list[str]) -> list[tuple[str, str]]:
    """The quadratic reference: every pair scored, taken best first (the engine's rule before issue 16)."""
    scored = [
        (-score, min(a, b), max(a, b), a, b)
        for a, b in product(removed, added)
        if (score := rename_score(a, b)) > 0
    ]
    heapq.heapify(scored)
    used: set[str] = set()
    pairs: list[tuple[str, str]] = []
    while scored:
        *_, a, b = heapq.heappop(scored)
        if a not in used and b not in used:
            used.update((a, b))
            pairs.append((a, b))
    return pairs


def test_500_replaced_categories_pair_each_rename_with_its_own_successor() -> None:
    """Every respelled and every diffused name finds its successor and none of the unrelated names is
    taken for one. (Scoring all 250,000 pairs does worse here: "no. 278" → "no. 82 in 1782" scores
    high enough to be taken first.)"""
    old, new = replaced(500)
    pairs = pair_renames(old, new)
    assert len(pairs) == 334
    assert all(
        b == f"{a} in {1700 + int(a.rsplit(' ', 1)[1])}" or b == a.replace("workshop", "worshop")
        for a, b in pairs
    )
    assert sorted((b, a) for a, b in pair_renames(new, old)) == sorted(pairs)


def test_candidates_grow_linearly_with_the_names() -> None:
    """What makes it near-linear: the number of pairs scored per name stays flat as the edit grows."""
    per_name = []
    for count in (100, 500, 1000):
        old, new = replaced(count)
        words = {n: _words(n) for n in (*old, *new)}
        per_name.append(len(_candidates(old, new, words)) / count)
    assert max(per_name) < 8, per_name
    assert per_name[2] < 1.5 * per_name[0], per_name


NAME_WORDS = ["Chairs", "in", "Sweden", "Oak", "furniture", "by", "Carl", "Larsson", "Dolls", "art", "1750"]


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(NAME_WORDS), min_size=1, max_size=4).map(" ".join), max_size=12),
    st.lists(st.lists(st.sampled_from(NAME_WORDS), min_size=1, max_size=4).map(" ".join), max_size=12),
)
def test_pairing_matches_the_exhaustive_one_and_the_blocks_miss_no_rename(
    removed: list[str], added: list[str]
) -> None:
    """A usual edit pairs as scoring every pair did; and the blocks a big edit uses propose every
    diffusion (one name's words all in the other's) and every respelling of case, accents or dots.
    Symmetric either way."""
    removed = list(dict.fromkeys(removed))
    added = [a for a in dict.fromkeys(added) if a not in removed]
    pairs = pair_renames(removed, added)
    assert sorted(pairs) == sorted(exhaustive(removed, added))
    assert sorted((b, a) for a, b in pair_renames(added, removed)) == sorted(pairs)
    words = {n: _words(n) for n in (*removed, *added)}
    proposed = _candidates(removed, added, words)
    must = {
        (a, b)
        for a, b in product(removed, added)
        if words[a] <= words[b] or words[b] <= words[a] or _folded(a) == _folded(b)
    }
    assert must <= proposed
    assert {(b, a) for a, b in proposed} == _candidates(added, removed, words)


def test_typo_case_and_accents_pair_even_among_many_lookalikes() -> None:
    old, new = replaced(300)
    old += ["Paintings by Carl Larsson", "Göteborgs konstmuseum", "Chairs"]
    new += ["Paintings by Carl Larson", "Goteborgs Konstmuseum", "Chairs in Sweden"]
    pairs = set(pair_renames(old, new))
    assert {
        ("Paintings by Carl Larsson", "Paintings by Carl Larson"),
        ("Göteborgs konstmuseum", "Goteborgs Konstmuseum"),
        ("Chairs", "Chairs in Sweden"),
    } <= pairs


def test_a_real_page_with_its_categories_replaced_gives_changed_records() -> None:
    page = wikitext("dreykh_crassula_information.wikitext")
    renamed = page.replace("[[Category:", "[[Category:Botany of ").replace(
        "[[category:", "[[category:Botany of "
    )
    changes = diff_text(page, renamed)
    assert changes and all(c.field == "category" and c.action == "changed" for c in changes)
    assert all(c.new == f"Botany of {c.old}" for c in changes)


def scored_candidates(removed: list[str], added: list[str]) -> list[tuple[str, str]]:
    """The big edit's reference: every candidate the blocks propose scored exactly, best first."""
    words = {n: _words(n) for n in (*removed, *added)}
    scored = [
        (-score, min(a, b), max(a, b), a, b)
        for a, b in _candidates(removed, added, words)
        if (score := rename_score(a, b)) > 0
    ]
    heapq.heapify(scored)
    used: set[str] = set()
    pairs: list[tuple[str, str]] = []
    while scored:
        *_, a, b = heapq.heappop(scored)
        if a not in used and b not in used:
            used.update((a, b))
            pairs.append((a, b))
    return pairs


def test_a_big_edit_pairs_as_scoring_every_candidate_does() -> None:
    """The lazy order (a bound from the lengths, then from the letters, then the exact score) takes the
    pairs that scoring every candidate and taking them best first takes, in the same order."""
    old, new = replaced(400)
    old += ["Paintings by Carl Larsson", "Göteborgs konstmuseum", "Chairs", "x" * 300]
    new += ["Paintings by Carl Larson", "Goteborgs Konstmuseum", "Chairs in Sweden", "x" * 299 + "y"]
    assert len(old) * len(new) > 2500  # the blocked path
    assert pair_renames(old, new) == scored_candidates(old, new)


NAME_LETTERS = st.text(alphabet="abcdeéß .,-_0123456789ÅÄÖåäöΩω", max_size=40)


@settings(max_examples=300, deadline=None)
@given(NAME_LETTERS, NAME_LETTERS)
def test_the_letter_bound_is_never_below_the_exact_score(a: str, b: str) -> None:
    scorer = _Scorer()
    assert scorer.letter_bound(a, b) >= rename_score(a, b)
    counts_a, counts_b = _letter_counts(a), _letter_counts(b)
    assert _shared_letters(counts_a, counts_b, len(a)) >= _lcs(a, b)
    # the packed arithmetic is the plain count of letters per group
    groups_a = Counter(ord(c) % 32 for c in a)
    groups_b = Counter(ord(c) % 32 for c in b)
    assert _shared_letters(counts_a, counts_b, len(a)) == sum((groups_a & groups_b).values())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_the_fast_spellings_of_words_folding_and_category_names_are_the_expressions_ones(
    text: str,
) -> None:
    """``_words``, ``_folded`` and ``category_name`` take shortcuts (``translate``, ``split``); they give
    what the plain expressions gave, on any text."""
    assert _words(text) == frozenset(re.findall(r"\w+", text.casefold()))
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert _folded(text) == " ".join(folded.replace(".", "").split())
    assert category_name(text) == upper_first(re.sub(r"[\s_]+", " ", text).strip())
