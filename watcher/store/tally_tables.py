"""The change tallies: how many changes each collection has of each status, kind, field and language
(a migration step of watcher.store.schema; issue 20).

The review page shows figures of the whole queue on every load: the status tabs, the page count, the
fields and languages the filter form offers. Counted from ``changes`` each is a scan of every change
(about 100 ms each at 1,000,000 changes, on either engine). ``change_tallies`` holds the same figures,
kept by triggers in the transaction that writes the change, so it cannot disagree with ``changes``
whoever writes them (the daemon, a review, a migration, ``watcher db copy``). A key whose changes
all moved away loses its row, so the table is a function of ``changes`` alone: ``watcher db copy``
leaves it to the target's triggers (:data:`DERIVED_TABLES`), and the counts still agree.

A language of NULL is kept as ``''`` (:data:`NO_LANGUAGE`): a primary key takes no NULL. The step
counts what the store holds when it runs, so an existing deployment starts with true figures.

On PostgreSQL inserts and deletes are kept by statement triggers (:data:`POSTGRESQL_TRIGGERS`, given
by watcher.store.pg_schema in place of the SQLite text): a COPY of 100,000 rows moves each tally once. Every write transaction there holds the store's write lock (watcher.store.pg), so no two update
the same tally at once: opposite moves (accept one change, reopen another) cannot deadlock. A later step that rebuilds ``changes`` (SQLite
drops a table's triggers with it) must make them again.
"""

from __future__ import annotations

TALLY_TABLE = "change_tallies"
# The triggers that keep it, on SQLite (on PostgreSQL the first is for inserts and deletes).
TALLY_TRIGGERS = ("change_tallies_insert", "change_tallies_delete", "change_tallies_update")
_ON_INSERT, _ON_DELETE, _ON_UPDATE = TALLY_TRIGGERS
# Tables the triggers fill from ``changes``: a copy of the store copies ``changes`` and not these.
DERIVED_TABLES = (TALLY_TABLE,)
NO_LANGUAGE = ""  # the tallies' language of a change with none
# The columns a tally is kept by, in its primary key's order (the collection first: an account of
# some collections reads its own range).
TALLY_KEYS = ("collection", "kind", "status", "field", "language")

_KEY_LIST = ", ".join(TALLY_KEYS)


def _keyed(row: str = "") -> str:
    """The tally's key of a change: its columns (of ``row``, NEW or OLD, in a trigger), the language
    as ``''`` where it has none."""
    prefix = f"{row}." if row else ""
    return ", ".join(
        f"coalesce({prefix}language, '{NO_LANGUAGE}')" if key == "language" else f"{prefix}{key}"
        for key in TALLY_KEYS
    )


_KEYED = _keyed()


def _matches(row: str) -> str:
    return " AND ".join(
        f"language = coalesce({row}.language, '{NO_LANGUAGE}')"
        if key == "language"
        else f"{key} = {row}.{key}"
        for key in TALLY_KEYS
    )


_ADD_NEW = (
    f"INSERT INTO {TALLY_TABLE} ({_KEY_LIST}, total) VALUES ({_keyed('NEW')}, 1) "
    f"ON CONFLICT ({_KEY_LIST}) DO UPDATE SET total = {TALLY_TABLE}.total + 1"
)
_TAKE_OLD = (
    f"UPDATE {TALLY_TABLE} SET total = total - 1 WHERE {_matches('OLD')}; "
    f"DELETE FROM {TALLY_TABLE} WHERE {_matches('OLD')} AND total = 0"
)
_MOVED = " OR ".join(f"OLD.{key} IS NOT NEW.{key}" for key in TALLY_KEYS)

TALLY_TABLES: tuple[str, ...] = (
    f"""CREATE TABLE {TALLY_TABLE} (
        collection TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        field TEXT NOT NULL,
        language TEXT NOT NULL,
        total INTEGER NOT NULL,
        PRIMARY KEY ({_KEY_LIST})
    )""",
    f"INSERT INTO {TALLY_TABLE} ({_KEY_LIST}, total) SELECT {_KEYED}, count(*) FROM changes GROUP BY {_KEYED}",
    f"CREATE TRIGGER {_ON_INSERT} AFTER INSERT ON changes BEGIN {_ADD_NEW}; END",
    f"CREATE TRIGGER {_ON_DELETE} AFTER DELETE ON changes BEGIN {_TAKE_OLD}; END",
    f"CREATE TRIGGER {_ON_UPDATE} AFTER UPDATE OF {_KEY_LIST} ON changes "
    f"WHEN {_MOVED} BEGIN {_TAKE_OLD}; {_ADD_NEW}; END",
)

# PostgreSQL: inserts and deletes by statement triggers over transition tables, so that a statement
# of many rows (COPY of a whole store by `watcher db copy`) moves each tally once, by the sum of its
# rows; updates by a row trigger that fires only when a change moves to another tally (a review), as
# on SQLite: most updates of changes (exports, reverts) move none. One function for the three.
_PG_UPSERT = (
    f"INSERT INTO {TALLY_TABLE} ({_KEY_LIST}, total) {{moves}} "
    f"ON CONFLICT ({_KEY_LIST}) DO UPDATE SET total = {TALLY_TABLE}.total + excluded.total"
)
_PG_ADDED = _PG_UPSERT.format(moves=f"SELECT {_KEYED}, count(*) FROM added GROUP BY {_KEYED}")
_PG_GONE = _PG_UPSERT.format(moves=f"SELECT {_KEYED}, -count(*) FROM gone GROUP BY {_KEYED}")
POSTGRESQL_TRIGGERS: tuple[str, ...] = (
    f"""CREATE FUNCTION change_tallies_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_PG_ADDED};
        ELSIF TG_OP = 'DELETE' THEN
            {_PG_GONE};
            DELETE FROM {TALLY_TABLE} WHERE total = 0;
        ELSE
            {_TAKE_OLD};
            {_ADD_NEW};
        END IF;
        RETURN NULL;
    END
    $$""",
    f"CREATE TRIGGER {_ON_INSERT} AFTER INSERT ON changes REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION change_tallies_keep()",
    f"CREATE TRIGGER {_ON_DELETE} AFTER DELETE ON changes REFERENCING OLD TABLE AS gone "
    "FOR EACH STATEMENT EXECUTE FUNCTION change_tallies_keep()",
    f"CREATE TRIGGER {_ON_UPDATE} AFTER UPDATE OF {_KEY_LIST} ON changes "
    f"FOR EACH ROW WHEN ({_MOVED.replace(' IS NOT ', ' IS DISTINCT FROM ')}) EXECUTE FUNCTION change_tallies_keep()",
)
