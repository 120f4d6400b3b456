"""Canonical spellings: what MediaWiki treats as one template, parameter, category or language."""

from __future__ import annotations

import pytest

from watcher.diff.names import category_name, language_of, param_name, remove_comments, template_name
from watcher.diff.noise import matches_any, pair_renames
from watcher.diff.normalise import comparable


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Information", "Information"),
        (" information <!-- c -->\n", "Information"),
        ("Template:Information", "Information"),
        ("template : Art_Photo", "Art Photo"),
        ("creator:Amedeo Modigliani", "Creator:Amedeo Modigliani"),
        ("User:XRay/Templates/Author", "User:XRay/Templates/Author"),
        ("int:filedesc", None),
        ("subst:Unc", None),
        ("safesubst:Information", None),
        ("#if:x", None),
        ("#invoke:Artwork", None),
        ("PAGENAME", None),
        ("DEFAULTSORT:Larsson", None),
        ("!", None),
        ("", None),
    ],
)
def test_template_names(raw: str, canonical: str | None) -> None:
    assert template_name(raw) == canonical


def test_parameter_category_and_language_spellings() -> None:
    assert param_name(" Other_versions ") == "other versions"
    assert param_name("accession_number<!-- x -->") == "accession number"
    assert category_name(" paintings_by  Carl_Larsson ") == "Paintings by Carl Larsson"
    assert [language_of(n) for n in ("En", "zh-Hans", "Be-tarask", "Own", "Unc", "Id", "Nds")] == [
        "en",
        "zh-hans",
        "be-tarask",
        None,
        None,
        "id",
        "nds",
    ]


def test_comments_go_but_not_inside_nowiki_and_unclosed_runs_to_the_end() -> None:
    assert remove_comments("a<!-- x -->b") == "ab"
    assert remove_comments("<nowiki><!-- kept --></nowiki>") == "<nowiki><!-- kept --></nowiki>"
    assert remove_comments("a<!-- never closed\n[[Category:X]]") == "a"


def test_normal_form_of_template_calls() -> None:
    assert comparable("{{X|a|2=b}}") == comparable("{{ x | a | b }}")
    assert comparable("{{Size|unit=cm|height=5}}") == comparable("{{Size|height=5|unit=cm}}")
    assert comparable("{{X|a|b}}") != comparable("{{X|b|a}}")


def test_fnmatch_patterns_are_case_insensitive() -> None:
    assert matches_any("Media contributed by LSH: 2015-11", ["media contributed by *"])
    assert not matches_any("Media of Stockholm", ["Media contributed by *"])
    assert not matches_any("Anything", [])


def test_rename_pairs_are_best_first_and_symmetric() -> None:
    removed = ["Chairs", "Paintings by Carl Larsson"]
    added = ["Paintings by Carl Larson", "Chairs in Sweden", "Dolls"]
    pairs = pair_renames(removed, added)
    assert sorted(pairs) == [
        ("Chairs", "Chairs in Sweden"),
        ("Paintings by Carl Larsson", "Paintings by Carl Larson"),
    ]
    assert sorted((b, a) for a, b in pair_renames(added, removed)) == sorted(pairs)
