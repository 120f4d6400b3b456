"""A template converted into another: values that moved unchanged between parameters are no change.

Converting ``{{Flickr}}`` or an institution's own template into ``{{Information}}``/``{{Artwork}}`` moves
the same values to other parameter names (``taken`` → ``date``). Field by field that reads as one removal
and one addition per value; here such a value is a *move*: no record of its own, listed once in the
``template`` record's ``detail["moved"]``. What is left is compared field by field as usual, with one
generic rule on top: values that left their fields and reappear inside a new field's value (``flickr_url``
and ``title`` → ``source = [URL title]``; ``taken = 2006-07-30`` → ``date = {{Taken on|2006-07-30}}``),
or one that holds all of it, make one ``changed`` record on the new field (``old``: their values, one a
line; ``detail["moved from"]``: their fields) instead of a removal each plus an addition.

Only for conversions (two templates of different names paired by the engine): within one template a
value moved to another field changes what it says, and stays a removal plus an addition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from watcher.diff.normalise import comparable, same_value
from watcher.diff.redirects import TemplateRedirects
from watcher.diff.wikitext import InfoParam, Values

# A value contained in another counts as "the same value, rewritten" only from this many characters:
# shorter ones ("1", "own") turn up inside unrelated values by chance.
MIN_CONTAINED = 4

Entry = tuple[str, str | None, str]  # (field, language, raw text)


@dataclass(frozen=True, slots=True)
class Rewritten:
    """Values that left ``sources`` and live on, rewritten, in ``target`` (``old``: theirs, one a line)."""

    sources: tuple[str, ...]
    target: str
    language: str | None
    old: str
    new: str


@dataclass(slots=True)
class Conversion:
    """The two templates' values with the moved ones taken out."""

    old: dict[str, dict[str | None, str]]
    new: dict[str, dict[str | None, str]]
    moved: list[dict[str, str | None]] = field(default_factory=list)
    rewritten: list[Rewritten] = field(default_factory=list)

    def old_values(self, name: str) -> Values:
        return tuple(self.old.get(name, {}).items())

    def new_values(self, name: str) -> Values:
        return tuple(self.new.get(name, {}).items())


def _table(params: Iterable[InfoParam]) -> dict[str, dict[str | None, str]]:
    return {p.name: dict(p.values) for p in params}


def _left(
    mine: dict[str, dict[str | None, str]],
    theirs: dict[str, dict[str | None, str]],
    redirects: TemplateRedirects,
) -> list[Entry]:
    """Entries that do not stay where they are with the same value."""
    out: list[Entry] = []
    for name, values in mine.items():
        for lang, text in values.items():
            other = theirs.get(name, {}).get(lang)
            if other is None or not same_value(text, other, redirects):
                out.append((name, lang, text))
    return out


def convert(
    old_params: Iterable[InfoParam], new_params: Iterable[InfoParam], redirects: TemplateRedirects
) -> Conversion:
    """Take out of both sides every value that moved to another field, unchanged or rewritten."""
    result = Conversion(_table(old_params), _table(new_params))
    old_left = _left(result.old, result.new, redirects)
    new_left = _left(result.new, result.old, redirects)
    by_value: dict[tuple[str | None, str], list[Entry]] = {}
    for entry in old_left:
        by_value.setdefault((entry[1], comparable(entry[2], redirects)), []).append(entry)
    unmatched: list[Entry] = []
    for target, lang, text in new_left:
        bucket = by_value.get((lang, comparable(text, redirects)), [])
        source = next((e for e in bucket if e[0] != target), None)
        if source is None:
            unmatched.append((target, lang, text))
            continue
        bucket.remove(source)
        del result.old[source[0]][lang]
        del result.new[target][lang]
        result.moved.append({"from": source[0], "to": target, "language": lang})
    remaining = [e for bucket in by_value.values() for e in bucket]
    remaining.sort(key=old_left.index)
    split_from: list[Entry] = []
    for target, lang, text in unmatched:
        if lang in result.old.get(target, {}):
            continue  # the field had this language before: an ordinary change of it
        new_form = comparable(text, redirects)
        vanished = [
            e for e in remaining if e[1] == lang and e[0] != target and lang not in result.new.get(e[0], {})
        ]
        # the new value holds old values (``[URL title]`` from ``flickr_url`` and ``title``), or one old
        # value holds all of the new one (``date = 2006-09-18`` from ``taken = 2006-09-18 20:07``)
        sources = [e for e in vanished if _within(comparable(e[2], redirects), new_form)]
        split = not sources  # then one old value may feed several new ones: it stays available
        if split:
            sources = [e for e in vanished + split_from if _within(new_form, comparable(e[2], redirects))][:1]
        if not sources:
            continue
        for source in sources:
            if source in remaining:
                remaining.remove(source)
                del result.old[source[0]][lang]
                if split:
                    split_from.append(source)
        del result.new[target][lang]
        result.rewritten.append(
            Rewritten(tuple(e[0] for e in sources), target, lang, "\n".join(e[2] for e in sources), text)
        )
    return result


def _within(part: str, whole: str) -> bool:
    """``part`` is long enough to mean something and occurs in ``whole`` as a whole (case aside): not as
    the start of a longer word or path (``…/N00`` is not in ``…/N00/535916329``)."""
    if len(part) < MIN_CONTAINED or part.casefold() not in whole.casefold():
        return False
    return re.search(r"(?<![\w/])" + re.escape(part) + r"(?![\w/])", whole, re.IGNORECASE) is not None
