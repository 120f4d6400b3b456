"""The matching of reverts and later edits on its own (watcher.pipeline.reverts): no database, no API."""

from __future__ import annotations

import itertools
import random
from collections.abc import Hashable

from hypothesis import given
from hypothesis import strategies as st

from watcher.pipeline.reverts import Observation, Verdict, settle

Obs = Observation


def reverted(verdicts: dict[Hashable, Verdict]) -> dict[Hashable, int]:
    return {ref: v.reverted_by for ref, v in verdicts.items() if v.reverted_by is not None}


def superseded(verdicts: dict[Hashable, Verdict]) -> dict[Hashable, int]:
    return {ref: v.superseded_by for ref, v in verdicts.items() if v.superseded_by is not None}


def reverts(verdicts: dict[Hashable, Verdict]) -> set[Hashable]:
    return {ref for ref, v in verdicts.items() if v.revert}


def test_a_change_put_back_is_undone_and_the_revert_is_no_record() -> None:
    verdicts = settle([Obs("vandal", 10, "A chair", "A CHAIR LOL"), Obs("rv", 12, "A CHAIR LOL", "A chair")])
    assert reverted(verdicts) == {"vandal": 12}
    assert reverts(verdicts) == {"rv"}
    assert verdicts["rv"] == Verdict(revert=True)


def test_a_rollback_of_a_run_of_edits_to_one_field_undoes_the_whole_run() -> None:
    run = [Obs("v1", 10, "1900", "1901"), Obs("v2", 11, "1901", "1999"), Obs("v3", 12, "1999", "2099")]
    verdicts = settle([Obs("earlier", 5, "1899", "1900"), *run, Obs("rollback", 13, "2099", "1900")])
    assert reverted(verdicts) == {"v1": 13, "v2": 13, "v3": 13}
    assert "earlier" not in reverted(verdicts) and reverts(verdicts) == {"rollback"}


def test_undoing_the_last_of_a_run_leaves_the_earlier_ones() -> None:
    verdicts = settle([Obs("a", 1, "A", "B"), Obs("b", 2, "B", "C"), Obs("undo-b", 3, "C", "B")])
    assert reverted(verdicts) == {"b": 3}
    # `a` stood under `b`; with `b` undone its value is back, so it is no longer superseded.
    assert superseded(verdicts) == {}


def test_a_third_value_supersedes_and_twice_makes_a_chain() -> None:
    verdicts = settle([Obs("a", 1, "A", "B"), Obs("b", 2, "B", "C"), Obs("c", 3, "C", "D")])
    assert superseded(verdicts) == {"a": 2, "b": 3}
    assert reverted(verdicts) == {} and reverts(verdicts) == set()


def test_a_record_superseded_and_then_everything_undone_keeps_both_facts() -> None:
    verdicts = settle([Obs("a", 1, "A", "B"), Obs("b", 2, "B", "C"), Obs("rv", 3, "C", "A")])
    assert reverted(verdicts) == {"a": 3, "b": 3}
    assert superseded(verdicts) == {"a": 2}


def test_added_then_removed_single_valued() -> None:
    verdicts = settle([Obs("add", 1, None, "Une chaise"), Obs("remove", 2, "Une chaise", None)])
    assert reverted(verdicts) == {"add": 2} and reverts(verdicts) == {"remove"}


def test_a_value_restored_after_removal_undoes_both_steps() -> None:
    # A → B → (removed) → A: the field is back where it was before the two records.
    verdicts = settle([Obs("ab", 1, "A", "B"), Obs("gone", 2, "B", None), Obs("back", 3, None, "A")])
    assert reverted(verdicts) == {"ab": 3, "gone": 3}


def test_categories_are_a_set_removing_one_undoes_only_its_addition() -> None:
    observations = [
        Obs("add-x", 1, None, "Chairs"),
        Obs("add-y", 2, None, "Tables"),
        Obs("remove-y", 3, "Tables", None),
        Obs("remove-z", 4, "Lamps", None),  # never added here: a plain record
    ]
    verdicts = settle(observations, multi_valued=True)
    assert reverted(verdicts) == {"add-y": 3}
    assert reverts(verdicts) == {"remove-y"} and superseded(verdicts) == {}


def test_a_category_removed_and_added_back() -> None:
    verdicts = settle(
        [Obs("rm", 1, "Chairs", None), Obs("other-rm", 2, "Lamps", None), Obs("re", 3, None, "Chairs")],
        multi_valued=True,
    )
    assert reverted(verdicts) == {"rm": 3} and reverts(verdicts) == {"re"}


def test_a_set_value_renamed_and_renamed_back() -> None:
    verdicts = settle(
        [Obs("rename", 1, "Chairs", "Seats"), Obs("back", 2, "Seats", "Chairs")], multi_valued=True
    )
    assert reverted(verdicts) == {"rename": 2}


def test_a_single_valued_removal_then_addition_of_another_value_supersedes() -> None:
    verdicts = settle([Obs("gone", 1, "A", None), Obs("new", 2, None, "B")])
    assert reverted(verdicts) == {} and superseded(verdicts) == {"gone": 2}


def test_tagging_and_qualifier_changes_are_never_reverts() -> None:
    verdicts = settle([Obs("add", 1, None, "x"), Obs("tagged", 2, "x", "x")])
    assert reverts(verdicts) == set() and reverted(verdicts) == {} and superseded(verdicts) == {}


def test_changes_of_one_edit_never_undo_each_other() -> None:
    verdicts = settle([Obs("rm", 5, "Chairs", None), Obs("add", 5, None, "Chairs")], multi_valued=True)
    assert reverts(verdicts) == set() and reverted(verdicts) == {}


def test_values_compare_as_the_diff_compares_them() -> None:
    verdicts = settle([Obs("v", 1, "{{en|1=A chair}}", "x"), Obs("rv", 2, "x", "{{en| A chair }}")])
    assert reverted(verdicts) == {"v": 2}


def test_edit_war_each_revert_undoes_the_edit_before_it() -> None:
    observations = [
        Obs("v1", 1, "A", "B"),
        Obs("rv1", 2, "B", "A"),
        Obs("v2", 3, "A", "B"),
        Obs("rv2", 4, "B", "A"),
    ]
    verdicts = settle(observations)
    assert reverted(verdicts) == {"v1": 2, "v2": 4} and reverts(verdicts) == {"rv1", "rv2"}


def test_a_stored_withdrawal_is_kept_even_where_the_history_reads_otherwise() -> None:
    # Stored: `a` undone by r9; the only edit known now at r9 undoes nothing (a missed edit between).
    verdicts = settle([Obs("a", 1, "A", "B", reverted_by=9), Obs("other", 9, "Q", "R")])
    assert reverted(verdicts) == {"a": 9}
    # …and an earlier revert that does undo it takes its place.
    verdicts = settle([Obs("a", 1, "A", "B", reverted_by=9), Obs("rv", 4, "B", "A")])
    assert reverted(verdicts) == {"a": 4}


def test_an_undone_record_is_not_undone_twice() -> None:
    verdicts = settle([Obs("v", 1, "A", "B"), Obs("rv", 2, "B", "A"), Obs("again", 3, "B", "A")])
    # `again` (a stale parent) finds nothing standing with value B: it is a record of its own.
    assert reverted(verdicts) == {"v": 2} and reverts(verdicts) == {"rv"}


VALUES = st.sampled_from(["A", "B", "C", "D", None])


@given(st.lists(VALUES, min_size=2, max_size=9), st.randoms(use_true_random=False))
def test_the_verdict_depends_on_what_is_known_not_on_its_order(
    values: list[str | None], shuffler: random.Random
) -> None:
    """A field's successive values as edits (consecutive equal values are no edit): any order of the
    same observations settles alike, and the field's final value is made by a standing record or
    restored by a revert."""
    edits = [(old, new) for old, new in itertools.pairwise(values) if old != new]
    observations = [Obs(f"e{i}", 100 + i, old, new) for i, (old, new) in enumerate(edits)]
    first = settle(observations)
    shuffled = list(observations)
    shuffler.shuffle(shuffled)
    assert settle(shuffled) == first
    standing = [o for o in observations if not first[o.ref].revert and first[o.ref].reverted_by is None]
    if standing:
        # The latest standing record made the current value, and nothing superseded it.
        assert standing[-1].new == values[-1] and first[standing[-1].ref].superseded_by is None
    # Every undone record was undone by a later revert of the same field.
    for o in observations:
        by = first[o.ref].reverted_by
        if by is not None:
            assert by > o.revision and first[f"e{by - 100}"].revert
