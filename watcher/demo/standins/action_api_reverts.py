"""Reverts on the stand-in wiki as MediaWiki 1.39 makes them: rollback, undo, manual revert, revision deletion.

The shapes were taken from a real MediaWiki 1.39 (``tests/mediawiki_real/test_real_mediawiki_reverts.py``
makes each there and compares):

- **rollback** (``action=rollback``): one new revision with the content of the last revision by
  another user than the top editor, minor, tagged ``mw-rollback``; summary "Reverted edits by … to
  last revision by …" unless one is given.
- **undo** (``action=edit&undo=R``): the change ``parent(R) → R`` taken back out of the current text
  (a three-way merge; a conflict is ``undofailure``), tagged ``mw-undo``.
- **manual revert**: an ordinary edit whose content equals one of the last 15 revisions
  (``$wgManualRevertSearchRadius``) is tagged ``mw-manual-revert``.
- the edits a revert undid get ``mw-reverted``, later, from a job (``RevertedTagUpdateJob``), and only
  when the revert is "approved" (its author may autopatrol); ``approved=False`` leaves them untagged.
- **revision deletion** (``action=revisiondelete``): ``texthidden`` (slots: ``texthidden``,
  ``sha1hidden``), ``commenthidden``, ``userhidden``; a ``delete``/``revision`` log entry in recent
  changes (stream ``log_params``: ``type``, ``ids``, ``ofield``, ``nfield``). **Suppression** adds
  ``suppressed: true`` and writes nothing to the public logs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from watcher.demo.standins.action_api_wiki import FakePage, FakeRevision, Wiki

__all__ = ["UndoFailure", "manual_revert", "revision_delete", "rollback", "undo"]

MANUAL_REVERT_RADIUS = 15  # $wgManualRevertSearchRadius
ROLLBACK_SUMMARY = (
    "Reverted edits by [[Special:Contributions/{top}|{top}]] ([[User talk:{top}|talk]]) "
    "to last revision by [[User:{to}|{to}]]"
)
CONFLICT = "The edit could not be undone due to conflicting intermediate edits."  # undofailure
UNDO_SUMMARY = "Undo revision {revid} by [[Special:Contributions/{user}|{user}]] ([[User talk:{user}|talk]])"
# RevisionRecord::DELETED_* bits, as the log entry's bitmask has them.
DELETED_TEXT, DELETED_COMMENT, DELETED_USER, DELETED_RESTRICTED = 1, 2, 4, 8


class UndoFailure(ValueError):
    """The undo conflicts with later edits (MediaWiki's ``undofailure``)."""


def _mark_reverted(revisions: Iterable[FakeRevision]) -> None:
    for revision in revisions:
        if "mw-reverted" not in revision.tags:
            revision.tags = (*revision.tags, "mw-reverted")


def rollback(
    wiki: Wiki,
    title: str,
    *,
    user: str = "Example Patroller",
    comment: str | None = None,
    approved: bool = True,
    timestamp: str | None = None,
) -> int:
    """Roll back the top editor's consecutive edits; returns the new revid."""
    page = wiki.page(title)
    top = page.latest.user
    undone = _run_of(page, top)
    if len(undone) == len(page.revisions):
        raise ValueError(f"{page.title}: no earlier revision by another user than {top} (onlyauthor)")
    target = page.revisions[-len(undone) - 1]
    summary = comment if comment is not None else ROLLBACK_SUMMARY.format(top=top, to=target.user)
    revid = wiki.edit(
        page.title, target.wikitext, target.mediainfo, user=user, comment=summary, minor=True,
        timestamp=timestamp, tags=("mw-rollback",),
    )  # fmt: skip
    if approved:
        _mark_reverted(undone)
    return revid


def _run_of(page: FakePage, user: str) -> list[FakeRevision]:
    run: list[FakeRevision] = []
    for revision in reversed(page.revisions):
        if revision.user != user:
            break
        run.append(revision)
    return run


def undo(
    wiki: Wiki,
    title: str,
    revid: int,
    *,
    user: str = "Example Patroller",
    comment: str | None = None,
    approved: bool = True,
    timestamp: str | None = None,
) -> int:
    """Undo one revision (its change taken out of the current text); returns the new revid."""
    page = wiki.page(title)
    undone = wiki.revisions[revid]
    parent = wiki.revisions[undone.parentid]
    text = merge3(undone.wikitext, page.latest.wikitext, parent.wikitext)
    mediainfo = page.latest.mediainfo
    if undone.mediainfo != parent.mediainfo:
        if page.latest.mediainfo != undone.mediainfo:
            raise UndoFailure(CONFLICT)
        mediainfo = parent.mediainfo
    summary = comment if comment is not None else UNDO_SUMMARY.format(revid=revid, user=undone.user)
    new = wiki.edit(
        page.title, text, mediainfo, user=user, comment=summary, timestamp=timestamp, tags=("mw-undo",)
    )
    if approved:
        _mark_reverted([undone])
    return new


def manual_revert(
    wiki: Wiki,
    title: str,
    to_revid: int,
    *,
    user: str = "Example Editor",
    comment: str = "",
    approved: bool = False,
    timestamp: str | None = None,
) -> int:
    """An ordinary edit back to an earlier revision's content; returns the new revid."""
    page = wiki.page(title)
    target = wiki.revisions[to_revid]
    recent = page.revisions[-MANUAL_REVERT_RADIUS:]
    position = next((i for i, r in enumerate(recent) if r.revid == to_revid), None)
    tags = ("mw-manual-revert",) if position is not None else ()
    revid = wiki.edit(
        page.title, target.wikitext, target.mediainfo, user=user, comment=comment, timestamp=timestamp,
        tags=tags,
    )  # fmt: skip
    if approved and position is not None:
        _mark_reverted(recent[position + 1 : -1])
    return revid


def revision_delete(
    wiki: Wiki,
    title: str,
    revids: Sequence[int],
    *,
    content: bool = True,
    comment: bool = False,
    user: bool = False,
    suppress: bool = False,
    by: str = "Example Admin",
    reason: str = "",
    timestamp: str | None = None,
) -> None:
    """Hide parts of revisions; the log entry goes to recent changes unless it is a suppression."""
    page = wiki.page(title)
    if page.latest.revid in revids and content:
        raise ValueError("the current revision's content cannot be hidden (revdelete-hide-current)")
    before = [_bits(wiki.revisions[r]) for r in revids]
    for revid in revids:
        wiki.hide(revid, text=content, user=user, comment=comment)
        wiki.revisions[revid].suppressed |= suppress
    if suppress:
        return
    after = _bits(wiki.revisions[revids[0]])
    params: dict[str, Any] = {
        "type": "revision",
        "ids": list(revids),
        "old": _field_flags(min(before) if before else 0),
        "new": _field_flags(after),
    }
    # The wiki's own log writer (it also makes the recent change the stream carries).
    wiki._log("delete", "revision", page.title, page.pageid, by, wiki._stamp(timestamp), reason, params)


def _bits(revision: FakeRevision) -> int:
    return (
        (DELETED_TEXT if revision.texthidden else 0)
        | (DELETED_COMMENT if revision.commenthidden else 0)
        | (DELETED_USER if revision.userhidden else 0)
        | (DELETED_RESTRICTED if revision.suppressed else 0)
    )


def _field_flags(bitmask: int) -> dict[str, Any]:
    """A log entry's ``old``/``new`` as ``list=recentchanges&rcprop=loginfo`` shows them."""
    return {
        "bitmask": bitmask,
        "content": bool(bitmask & DELETED_TEXT),
        "comment": bool(bitmask & DELETED_COMMENT),
        "user": bool(bitmask & DELETED_USER),
        "restricted": bool(bitmask & DELETED_RESTRICTED),
    }


def merge3(base: str, ours: str, theirs: str) -> str:
    """``ours`` with the change ``base`` → ``theirs`` applied, line by line; UndoFailure on a conflict."""
    base_lines, our_lines, their_lines = base.splitlines(True), ours.splitlines(True), theirs.splitlines(True)
    mapped: dict[int, int] = {}  # base line → the same line in ours, where ours kept it
    for block in difflib.SequenceMatcher(None, base_lines, our_lines, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            mapped[block.a + k] = block.b + k
    hunks = [
        op
        for op in difflib.SequenceMatcher(None, base_lines, their_lines, autojunk=False).get_opcodes()
        if op[0] != "equal"
    ]
    result = list(our_lines)
    for _tag, i1, i2, j1, j2 in reversed(hunks):  # from the end: earlier positions stay valid
        if i2 > i1:  # base lines replaced or deleted: ours must still have them, together
            start = mapped.get(i1)
            if start is None or any(mapped.get(i) != start + (i - i1) for i in range(i1, i2)):
                raise UndoFailure(CONFLICT)
            stop = start + (i2 - i1)
        else:  # an insertion between base lines i1 - 1 and i1: both must still be neighbours in ours
            before = mapped.get(i1 - 1) if i1 > 0 else -1
            after = mapped.get(i1) if i1 < len(base_lines) else len(our_lines)
            if before is None or after is None or after != before + 1:
                raise UndoFailure(CONFLICT)
            start = stop = before + 1
        result[start:stop] = their_lines[j1:j2]
    return "".join(result)
