"""`watcher accept`, `reject`, `reopen`, `undo`, `note`: curator review from the shell.

Each is a review event (``watcher.store.reviews``): who, when, what, the note, kept in the change's
history. What the curator must know is said on stderr: a change the collection system already has
(the next routine `watcher export` carries a retraction), a change Commons itself undid (withdrawn),
an undo with nothing to undo.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

import click

from watcher.base.values import ReviewAction
from watcher.cli.options import config_option, load_or_exit, open_database, run_async
from watcher.store import reviews
from watcher.store.reviews import ReviewOutcome

_DONE: dict[ReviewAction, str] = {
    "accept": "accepted",
    "reject": "rejected",
    "reopen": "put back to pending",
    "undo": "undid the latest decision of",
    "note": "noted",
}
_HELP: dict[ReviewAction, str] = {
    "accept": "Accept changes: the next routine `watcher export` writes them.",
    "reject": "Reject changes (an exported one is retracted by the next routine export).",
    "reopen": "Put changes back to pending (an exported one is retracted by the next routine export).",
    "undo": "Undo the latest decision of each change (again: the one before it); the history keeps both.",
    "note": "Set a reviewer note on changes without deciding (an empty --note clears it).",
}


def _ids(values: list[int]) -> str:
    return ", ".join(map(str, values))


def report(action: ReviewAction, asked: tuple[int, ...], outcome: ReviewOutcome) -> int:
    """Say what the review did and what the curator must know; the exit code (1: an id not found)."""
    done = [i for i in outcome.found if i not in outcome.nothing_to_undo]
    if done:
        click.echo(f"{_DONE[action]} {len(done)} change(s): {_ids(done)}")
    for notice in outcome.notices():
        click.echo(notice, err=True)
    missing = sorted(set(asked) - set(outcome.found))
    if missing:
        click.echo(f"no such change: {_ids(missing)}", err=True)
        return 1
    return 0


def review_command(action: ReviewAction) -> Callable[..., None]:
    @config_option
    @click.argument("ids", nargs=-1, type=int, required=True)
    # (click 8.5 takes an explicit default=None for a value given: a required option gets none.)
    @click.option(
        "--note", required=action == "note", **({} if action == "note" else {"default": None}),
        help="A short reviewer note kept with the decision in each change's history.",
    )  # fmt: skip
    @click.option("--reviewer", default=None, help="Who reviews (default: the shell user).")
    def command(
        config_path: str | None, ids: tuple[int, ...], note: str | None, reviewer: str | None
    ) -> None:
        config = load_or_exit(config_path, check_files=False)
        who = reviewer or getpass.getuser()

        async def body() -> ReviewOutcome:
            async with open_database(config) as db:
                return await reviews.review(db, ids, action, actor=who, note=note)

        sys.exit(report(action, ids, run_async(body())))

    command.__doc__ = _HELP[action]
    return command


REVIEW_COMMANDS: list[click.Command] = [
    click.command(name=action)(review_command(action))
    for action in ("accept", "reject", "reopen", "undo", "note")
]
