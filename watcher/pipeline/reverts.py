"""Which changes a later edit undid or changed again: the one place that decides it (pure, no I/O).

Everything known about one *field identity* (wiki, file, field, template, property, language) is a
list of observations, one per change an edit made to it: ``old`` → ``new`` at a revision. Queued
records and the changes of edits that undid earlier ones (kept out of the queue) are both
observations. :func:`settle` replays them in revision order, so the outcome depends only on which
edits are known, never on the order the worker met them in:

- An observation that puts the field back to the value it had before a run of standing (not yet
  undone) records is a **revert**: each record of the run gets ``reverted_by`` = its revision, and
  it makes no record of its own. The run is found by walking back from the value it replaces
  (``old``) through the records that made each value, until one whose ``old`` is the value restored:
  a rollback of three edits to one field withdraws all three, an undo of the middle one of three
  edits to different fields withdraws only that one (the others are other identities).
- Any other observation is a record. Where it replaces the value a standing record made, with a
  third value, that record gets ``superseded_by`` = its revision. When the later record is undone in
  turn, the earlier one stands again (its ``superseded_by`` is cleared).

Fields that hold a set of values (categories, statements, templates, licences, locations, file
versions) never walk back through "absent": removing category A undoes adding category A, and
nothing else. A record already undone on Commons stays undone (``reverted_by`` as stored) even where
later knowledge would read the history otherwise, so a withdrawal is never taken back silently.
Values compare by :func:`watcher.diff.comparable`, the diff's own notion of "the same value".
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from watcher.diff import comparable

__all__ = ["MULTI_VALUED_FIELDS", "Observation", "Verdict", "settle"]

# Fields whose identity holds several values at once: "absent" is not one state of them.
MULTI_VALUED_FIELDS = frozenset({"category", "statement", "template", "licence", "location", "file"})


@dataclass(frozen=True, slots=True)
class Observation:
    """One change an edit made to one field identity; ``ref`` is the caller's handle for it."""

    ref: Hashable
    revision: int
    old: str | None
    new: str | None
    # As stored: the revision that already undid this record (it stays undone).
    reverted_by: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an observation is, given everything known: a revert (no record of its own) or a record."""

    revert: bool
    reverted_by: int | None = None
    superseded_by: int | None = None


@dataclass(slots=True, eq=False)  # identity: the same value twice is two steps
class _Step:
    observation: Observation
    old: str | None  # comparable forms
    new: str | None
    reverted_by: int | None = None
    superseded_by: int | None = None
    built_on: _Step | None = None  # the record whose value this one replaced
    seen: bool = False  # replayed already


def _value(value: str | None) -> str | None:
    return None if value is None else comparable(value)


def settle(observations: Sequence[Observation], *, multi_valued: bool = False) -> dict[Hashable, Verdict]:
    """The verdict on each observation of one field identity (see the module's docstring)."""
    steps = [
        _Step(o, _value(o.old), _value(o.new))
        for o in sorted(observations, key=lambda o: (o.revision, str(o.ref)))
    ]
    standing: list[_Step] = []
    reverts: set[int] = set()  # positions in `steps`
    forced = sorted(
        (s for s in steps if s.observation.reverted_by is not None),
        key=lambda s: s.observation.reverted_by or 0,
    )
    for position, step in enumerate(steps):
        revision = step.observation.revision
        forced = _force(standing, forced, before=revision)
        run = _undone_run(standing, step, multi_valued)
        if run:
            reverts.add(position)
            for undone in run:
                undone.reverted_by = revision
                standing.remove(undone)
            for undone in run:
                base = undone.built_on
                if (
                    base is not None
                    and base in standing
                    and base.superseded_by == undone.observation.revision
                ):
                    base.superseded_by = None  # the value it made is back
        else:
            base = _maker_of(standing, step.old, revision, multi_valued)
            if base is not None and step.old != step.new:
                base.superseded_by = revision
                step.built_on = base
            standing.append(step)
        step.seen = True
    _force(standing, forced, before=None)
    return {
        s.observation.ref: Verdict(
            revert=position in reverts,
            reverted_by=None if position in reverts else s.reverted_by,
            superseded_by=None if position in reverts else s.superseded_by,
        )
        for position, s in enumerate(steps)
    }


def _force(standing: list[_Step], forced: list[_Step], *, before: int | None) -> list[_Step]:
    """Records stored as undone by a revision before ``before`` (None: any) leave the standing ones;
    returns those still to force (not met yet, or undone later)."""
    left: list[_Step] = []
    for step in forced:
        by = step.observation.reverted_by
        assert by is not None
        if step in standing and (before is None or by < before):
            step.reverted_by = by
            standing.remove(step)
        elif not step.seen or step in standing:
            left.append(step)
    return left


def _maker_of(standing: list[_Step], value: str | None, revision: int, multi_valued: bool) -> _Step | None:
    """The latest standing record, before ``revision``, that made the field ``value``."""
    if multi_valued and value is None:
        return None
    for step in reversed(standing):
        if step.observation.revision < revision and step.new == value:
            return step
    return None


def _undone_run(standing: list[_Step], step: _Step, multi_valued: bool) -> list[_Step]:
    """The standing records ``step`` undoes (latest first), or [] where it is no revert."""
    restored, value, revision = step.new, step.old, step.observation.revision
    if value == restored:  # tagged, or a change of qualifiers only: no value to go back to
        return []
    if multi_valued and value is None:  # adding A undoes only a removal of A
        for earlier in reversed(standing):
            if earlier.observation.revision < revision and earlier.new is None and earlier.old == restored:
                return [earlier]
        return []
    run: list[_Step] = []
    limit = len(standing)
    while True:
        maker = None
        for index in range(limit - 1, -1, -1):
            earlier = standing[index]
            if earlier.observation.revision < revision and earlier.new == value:
                maker, limit = earlier, index
                break
        if maker is None:
            return []
        run.append(maker)
        if maker.old == restored:
            return run
        if maker.old is None and multi_valued:
            return []
        value = maker.old
