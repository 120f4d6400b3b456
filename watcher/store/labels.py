"""The Wikidata label cache (``entity_labels``): one row per entity and language, with when it was fetched.

Readers (the review page, exports, notifications) call :func:`cached_labels`: it reads the cache only,
never the network, and takes a label however old it is (an old label beats a bare id). The labels task
(:mod:`watcher.pipeline.labels`) decides what is missing or expired with :func:`fresh_entities` and
:func:`expired_entities`, and stores what Wikidata answered with :func:`store_labels`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from watcher.store.db import iso_utc
from watcher.store.engine import Row, Store

__all__ = [
    "MAX_AGE",
    "cached_labels",
    "expired_entities",
    "fresh_entities",
    "statement_rows",
    "store_labels",
]

# How long a fetched label (or the absence of one) is taken as current before it is asked for again.
MAX_AGE = timedelta(days=30)
_CHUNK = 500  # ids per SQL statement, well under SQLite's variable limit


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


async def cached_labels(db: Store, ids: Iterable[str], languages: Sequence[str]) -> dict[str, str]:
    """id → its label in the first of ``languages`` that has one, for the ids the cache has a label of.

    Reads the cache only (a page view never waits for Wikidata); ids without a cached label are absent.
    """
    wanted = list(dict.fromkeys(i for i in ids if i))
    order = {language: rank for rank, language in enumerate(dict.fromkeys(languages))}
    if not wanted or not order:
        return {}
    best: dict[str, tuple[int, str]] = {}
    language_marks = ",".join("?" * len(order))
    for chunk in _chunks(wanted):
        rows = await db.fetchall(
            f"SELECT entity, language, label FROM entity_labels WHERE label IS NOT NULL "
            f"AND language IN ({language_marks}) AND entity IN ({','.join('?' * len(chunk))})",
            [*order, *chunk],
        )
        for entity, language, label in rows:
            rank = order[language]
            if entity not in best or rank < best[entity][0]:
                best[entity] = (rank, label)
    return {entity: best[entity][1] for entity in wanted if entity in best}


async def fresh_entities(db: Store, ids: Iterable[str], languages: Sequence[str], now: datetime) -> set[str]:
    """The ids whose cache rows are younger than :data:`MAX_AGE` for every one of ``languages``."""
    wanted = list(dict.fromkeys(ids))
    needed = list(dict.fromkeys(languages))
    if not wanted or not needed:
        return set(wanted)
    fresh_after = iso_utc(now - MAX_AGE)
    fresh: set[str] = set()
    for chunk in _chunks(wanted):
        rows = await db.fetchall(
            f"SELECT entity FROM entity_labels WHERE fetched_at >= ? AND language IN "
            f"({','.join('?' * len(needed))}) AND entity IN ({','.join('?' * len(chunk))}) "
            "GROUP BY entity HAVING count(*) = ?",
            [fresh_after, *needed, *chunk, len(needed)],
        )
        fresh.update(row[0] for row in rows)
    return fresh


async def expired_entities(db: Store, now: datetime) -> set[str]:
    """The entities with a cache row older than :data:`MAX_AGE`: asked for again by the labels task."""
    rows = await db.fetchall(
        "SELECT DISTINCT entity FROM entity_labels WHERE fetched_at < ?", [iso_utc(now - MAX_AGE)]
    )
    return {row[0] for row in rows}


async def store_labels(
    db: Store,
    labels: Mapping[str, Mapping[str, str]],
    languages: Sequence[str],
    now: datetime,
) -> None:
    """Store what Wikidata answered: for each entity, a row per language, NULL where it has no label in
    that language (so that it is not asked for again before it expires). One transaction."""
    stamp = iso_utc(now)
    rows = [
        (entity, language, found.get(language), stamp)
        for entity, found in labels.items()
        for language in dict.fromkeys(languages)
    ]
    if rows:
        await db.write_many(
            "INSERT INTO entity_labels (entity, language, label, fetched_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(entity, language) DO UPDATE SET label = excluded.label, "
            "fetched_at = excluded.fetched_at",
            rows,
        )


async def statement_rows(db: Store, after: int, upto: int, limit: int) -> Sequence[Row]:
    """Statement records with ``after < id <= upto``, oldest first, at most ``limit``: the rows whose
    property, values and detail (qualifiers, references, units) name Wikidata entities."""
    return await db.fetchall(
        "SELECT id, property, old, new, detail FROM changes "
        "WHERE field = 'statement' AND id > ? AND id <= ? ORDER BY id LIMIT ?",
        [after, upto, limit],
    )
