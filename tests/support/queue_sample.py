"""Made-up queue contents for trying and measuring the review page (never used by the daemon).

``python -m tests.support.queue_sample --changes 10000`` fills a fresh database and prints how long the page
takes to render; ``--serve`` keeps it running with a user ``demo`` (password ``demo-password``) to look at.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watcher.base.values import Kind
from watcher.config import Config, parse_config
from watcher.config_collections import DEFAULT_COLLECTION
from watcher.diff.model import FieldChange
from watcher.store.db import Database, iso_utc
from watcher.store.engine import Store
from watcher.store.queue import Provenance, insert_changes

# Values a hostile editor could write on Commons: markup, attribute breakers, script URLs, template text.
HOSTILE_STRINGS = (
    "<script>window.__pwned = 1; alert(1)</script>",
    '"><img src=x onerror="window.__pwned=2;alert(2)">',
    "javascript:window.__pwned=3;alert(3)",
    "{{ config }}{% raw %}{{7*7}}{% endraw %} ${7*7} {{__import__('os')}}",
    "' onmouseover='window.__pwned=4' x='",
    "<style>body{display:none}</style><svg onload=window.__pwned=5>",
    "</textarea></pre><iframe src=javascript:window.__pwned=6></iframe>",
    "A" * 300,  # one unbreakable word
)

_FIELDS = (
    ("description", "Information", True),
    ("title", "Artwork", True),
    ("date", "Information", False),
    ("author", "Information", False),
    ("medium", "Artwork", False),
    ("category", None, False),
    ("caption", None, True),
    ("statement", None, False),
)
_LANGUAGES = ("en", "sv", "fr", "de", "fi")
_WORDS = [
    "portrait",
    "of",
    "a",
    "woman",
    "in",
    "a",
    "blue",
    "dress,",
    "oil",
    "on",
    "canvas,",
    "signed",
    "lower",
    "right,",
    "porträtt",
    "av",
    "en",
    "kvinna",
    "i",
    "blå",
    "klänning,",
    "olja",
    "på",
    "duk,",
    "signerad",
    "nere",
    "till",
    "höger,",
    "photograph",
    "of",
    "the",
    "harbour",
    "at",
    "dusk",
    "with",
    "sailing",
    "ships",
    "and",
    "a",
    "lighthouse",
]


def sample_config(folder: Path) -> Config:
    text = (
        '[watcher]\nuser_agent = "Sample/1.0 (sample@example.org)"\ndatabase = "w.sqlite3"\n'
        '[tracking]\ncategories = ["Category:X"]\n[web]\nlisten = "127.0.0.1:8750"\n'
    )
    return parse_config(text, folder / "config.toml")


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _change(rng: random.Random, hostile: bool) -> FieldChange:
    field, template, tagged = rng.choice(_FIELDS)
    language = rng.choice(_LANGUAGES) if tagged else None
    kind: Kind = "maintenance" if rng.random() < 0.05 else "content"
    if field == "category":
        old, new, action = (
            None,
            f"Portraits in {rng.choice(['oil', 'pencil', 'ink'])} {rng.randint(1, 999)}",
            "added",
        )
    elif field == "statement":
        old, new, action = None, f"Q{rng.randint(1, 10_000_000)}", "added"
        return FieldChange("statement", "added", old, new, property="P180", kind=kind)
    else:
        old = _sentence(rng, rng.randint(3, 25))
        words = old.split()
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(_WORDS)
        new = " ".join(words) + ("" if rng.random() < 0.7 else " " + _sentence(rng, 4))
        action = "changed"
        if old == new:
            new += " (corrected)"
    if hostile:
        new = f"{new} {rng.choice(HOSTILE_STRINGS)}"
    return FieldChange(field, action, old, new, template=template, language=language, kind=kind)  # type: ignore[arg-type]


async def fill_queue(
    db: Store,
    count: int,
    *,
    files: int | None = None,
    seed: int = 1,
    hostile: bool = False,
    collections: Sequence[str] = (DEFAULT_COLLECTION,),
    ties: int = 1,
) -> None:
    """Queue ``count`` made-up changes over ``files`` files (default count/5), a few per edit.

    With several ``collections`` each file is one collection's, and about a third of the edits are
    also queued for the next collection (a file in two collections); ``ties`` changes in a row share
    one timestamp (edits of several files at the same second)."""
    rng = random.Random(seed)
    files = files or max(1, count // 5)
    users = [f"Editor {n}" for n in range(40)] + ["203.0.113.7", "Bot-ish helper"]
    if hostile:
        users += list(HOSTILE_STRINGS[:3])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = 0
    revision = 100_000
    async with db.transaction() as conn:
        while made < count:
            number = rng.randrange(files)
            name = f"File:Example museum object {number:05d}.jpg"
            if hostile and number % 7 == 0:
                name = f"File:{HOSTILE_STRINGS[number % len(HOSTILE_STRINGS)][:120]} {number}.jpg"
            revision += rng.randint(1, 50)
            batch = [_change(rng, hostile) for _ in range(min(rng.randint(1, 3), count - made))]
            provenance = Provenance(
                wiki="commonswiki",
                file=name,
                revision=revision,
                old_revision=revision - rng.randint(1, 40),
                timestamp=iso_utc(start + timedelta(minutes=(made // ties) * 7)),
                user=rng.choice(users),
                comment=rng.choice(HOSTILE_STRINGS) if hostile and rng.random() < 0.3 else _sentence(rng, 5),
                object_id=f"EXM-{number:05d}" if number % 9 else None,
                source="history" if rng.random() < 0.2 else "live",
            )
            owners = [collections[number % len(collections)]]
            if len(collections) > 1 and rng.random() < 0.3:
                owners.append(collections[(number + 1) % len(collections)])
            for owner in owners:
                made += await insert_changes(
                    conn, replace(provenance, collection=owner), batch[: count - made]
                )


async def _measure(count: int, rounds: int, serve: bool) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from watcher.web import auth
    from watcher.web.app import create_app
    from watcher.web.kit import SESSION_COOKIE

    with tempfile.TemporaryDirectory() as folder:
        config = sample_config(Path(folder))
        async with Database.open(config.database) as db:
            began = time.perf_counter()
            await fill_queue(db, count)
            print(f"queued {count:,} changes in {time.perf_counter() - began:.1f} s")
            await auth.add_user(db, "demo", "demo-password")
            if serve:
                from watcher.web.app import run_web

                print(
                    "review page at http://127.0.0.1:8750/ (user demo, password demo-password); Ctrl-C stops"
                )
                await run_web(db, config)
                return
            user = (await auth.list_users(db))[0]
            token = await auth.create_session(db, user)
            async with TestClient(TestServer(create_app(db, config))) as client:
                client.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
                pages = {
                    "queue, first page (50)": "/",
                    "queue, page 100": "/?page=100",
                    "queue, 200 per page": "/?per_page=200",
                    "filtered by user and language": "/?user=Editor+3&language=sv",
                    "all statuses, maintenance too": "/?status=all&kind=all",
                    "detail page": "/changes/5000",
                }
                for label, path in pages.items():
                    times = []
                    for _ in range(rounds):
                        t0 = time.perf_counter()
                        response = await client.get(path)
                        body = await response.read()
                        times.append((time.perf_counter() - t0) * 1000)
                        assert response.status == 200, (path, response.status)
                    _report(label, times, len(body))
                csrf = await db.scalar("SELECT csrf_token FROM web_sessions")
                form = {"csrf": csrf, "status": "pending", "all": "1", "format": "csv"}
                times = []
                for _ in range(max(1, rounds // 2)):
                    t0 = time.perf_counter()
                    response = await client.post("/export", data=form)
                    body = await response.read()
                    times.append((time.perf_counter() - t0) * 1000)
                    assert response.status == 200, ("/export", response.status)
                _report(f"export, all {count:,} pending as CSV", times, len(body))


def _report(label: str, times: list[float], size: int) -> None:
    print(
        f"{label:34s} median {statistics.median(times):7.1f} ms  max {max(times):7.1f} ms  ({size // 1024} KiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--serve", action="store_true", help="serve the sample on 127.0.0.1:8750 instead")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_measure(args.changes, args.rounds, args.serve))


if __name__ == "__main__":
    main()
