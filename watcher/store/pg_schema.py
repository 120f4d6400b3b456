"""The schema on PostgreSQL: the same numbered migrations as SQLite's, one history for both engines.

Each step of :data:`watcher.store.schema.MIGRATIONS` is applied statement by statement through
:meth:`watcher.store.dialect.Dialect.sql`, in one transaction together with the version bump, so the
version numbers mean the same schema on both engines and a failed step rolls back whole (PostgreSQL's
DDL is transactional). The version lives in a one-row table, :data:`VERSION_TABLE` (PostgreSQL has
no ``PRAGMA user_version``). Concurrent migrators (two nodes starting at once) serialise on a
transaction-level advisory lock taken first in each step's transaction, then re-read the version, as
:meth:`watcher.store.db.Database.migrate` re-reads ``user_version`` under SQLite's write lock.

The few statements of released steps the dialect refuses get their PostgreSQL text here, in
:data:`POSTGRESQL_TEXT`, each with why; the SQLite steps are never edited. Each entry names a piece of
the SQLite statement it replaces, checked when the step is built, so a mistyped position fails loudly.

After every step the identity counters are moved past the highest id (a step that copies rows with
their ids, as the table rebuilds do, would otherwise leave the counter behind the copied ids):
:func:`advance_identities`, which ``watcher db copy`` uses too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from watcher.store.db import DatabaseError
from watcher.store.dialect import POSTGRESQL, quote_identifier
from watcher.store.schema import MIGRATIONS, SCHEMA_VERSION
from watcher.store.tally_tables import POSTGRESQL_TRIGGERS
from watcher.store.trust_tables import ID_FLOOR_KEY

log = logging.getLogger("watcher.store")

VERSION_TABLE = "watcher_schema"  # one row: the schema version (SQLite's PRAGMA user_version)

# pg_advisory_xact_lock key of the migrators: the letters WATCHMIG as a number (beside the keys of
# watcher.store.pg, WATCHWRT and WATCHLDR).
MIGRATION_LOCK_KEY = int.from_bytes(b"WATCHMIG")

# SQLite's NOCASE as a nondeterministic ICU collation: level 2 compares letters and accents, not case.
# It folds the case of every script where NOCASE folds ASCII only, so two user names that differ only
# in non-ASCII case ("Åsa", "åsa") are one on PostgreSQL and two on SQLite; and it sorts by the ICU
# root order, not bytewise. PostgreSQL has no LIKE on such a column (before 18): none is used on it.
NOCASE_COLLATION = "CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"


@dataclass(frozen=True)
class Replacement:
    """PostgreSQL text for one SQLite statement: ``replaces`` is a piece of that statement (checked),
    ``postgresql`` the statements run instead (none: left out), ``why`` the reason."""

    replaces: str
    postgresql: tuple[str, ...]
    why: str


# Keyed by (step number, statement index in the step). Written in PostgreSQL's words (not translated).
POSTGRESQL_TEXT: dict[tuple[int, int], Replacement] = {
    (3, 0): Replacement(
        "name TEXT PRIMARY KEY COLLATE NOCASE",
        (
            NOCASE_COLLATION,
            """CREATE TABLE web_users (
        name TEXT COLLATE nocase PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'reviewer' CHECK (role IN ('reviewer', 'readonly')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
        ),
        "COLLATE NOCASE: the collation `nocase` (NOCASE_COLLATION), made where it is first needed",
    ),
    (9, 5): Replacement(
        "CREATE TRIGGER changes_fresh_ids",
        (),
        "the trigger keeps SQLite from giving a deleted change's id again (it reuses the highest id of a "
        "table whose last row went); an identity counter never goes back, and `watcher db copy` sets it "
        "past the id floor (advance_identities), so PostgreSQL needs none",
    ),
    (10, 0): Replacement(
        ") WITHOUT ROWID",
        (
            """CREATE TABLE entity_labels (
        entity TEXT NOT NULL,
        language TEXT NOT NULL,
        label TEXT,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (entity, language)
    )""",
        ),
        "WITHOUT ROWID is a SQLite storage hint; PostgreSQL tables have no rowid",
    ),
    (10, 2): Replacement(
        "instr(languages, '|') = 0",
        (
            """INSERT INTO entity_labels (entity, language, label, fetched_at)
        SELECT entity, languages, label, fetched_at FROM labels
        WHERE languages <> '' AND strpos(languages, '|') = 0""",
        ),
        "instr() is strpos() in PostgreSQL (same arguments, same 0 for none)",
    ),
    (11, 3): Replacement(
        "user TEXT NOT NULL COLLATE NOCASE",
        (
            """CREATE TABLE web_user_collections (
        "user" TEXT NOT NULL COLLATE nocase
            REFERENCES web_users(name) ON UPDATE CASCADE ON DELETE CASCADE,
        collection TEXT NOT NULL,
        PRIMARY KEY ("user", collection)
    )""",
        ),
        "COLLATE NOCASE: the collation made in step 3",
    ),
    (13, 2): Replacement(
        "CREATE TRIGGER change_tallies_insert",
        POSTGRESQL_TRIGGERS,
        "PostgreSQL's triggers run a function: one plpgsql function, for inserts and deletes run once "
        "a statement over its transition tables (SQLite has row triggers only)",
    ),
    (13, 3): Replacement("CREATE TRIGGER change_tallies_delete", (), "made with the insert trigger (13, 2)"),
    (13, 4): Replacement("CREATE TRIGGER change_tallies_update", (), "made with the insert trigger (13, 2)"),
}


class SchemaNewer(DatabaseError):
    """The database was migrated by a newer watcher: this one must not write to it."""


class MigrationFailed(DatabaseError):
    """A migration step failed on the server (rolled back whole: the version is the one before)."""


def postgres_step(version: int) -> tuple[str, ...]:
    """The statements of migration ``version`` as PostgreSQL runs them.

    Raises :class:`watcher.store.dialect.UntranslatableSQL` for a statement the dialect refuses and
    :data:`POSTGRESQL_TEXT` does not give (a new step written with a SQLite-only construct), and
    ``LookupError`` where an entry no longer matches its statement.
    """
    statements: list[str] = []
    for index, statement in enumerate(MIGRATIONS[version - 1]):
        replacement = POSTGRESQL_TEXT.get((version, index))
        if replacement is None:
            statements.append(POSTGRESQL.sql(statement))
        elif replacement.replaces not in statement:
            raise LookupError(
                f"POSTGRESQL_TEXT[{version}, {index}] replaces {replacement.replaces!r}, "
                f"which is not in that statement: {statement[:80]!r}"
            )
        else:
            statements.extend(replacement.postgresql)
    return tuple(statements)


async def postgres_version(conn: asyncpg.Connection) -> int:
    """The database's schema version; 0 for an empty database (no version table yet).

    It asks pg_class by a query, not ``to_regclass``: a migrator that waited for the lock while
    another made the table would find it missing in its session's catalog cache (stale until the
    backend next processes invalidations, which opening pg_class in a query makes it do).
    """
    exists = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relname = $1 AND n.nspname = current_schema())""",
        VERSION_TABLE,
    )
    if not exists:
        return 0
    return int(await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}"))


async def _where(conn: asyncpg.Connection) -> str:
    """The database for a message: its name and server, never a password."""
    try:
        row = await conn.fetchrow("SELECT current_database(), host(inet_server_addr()), inet_server_port()")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        row = None
    if row is None:
        return "the PostgreSQL database"
    server = f" on {row[1]}:{row[2]}" if row[1] is not None else ""
    return f"the PostgreSQL database {row[0]}{server}"


async def _refuse_newer(conn: asyncpg.Connection, found: int) -> None:
    if found > SCHEMA_VERSION:
        raise SchemaNewer(
            f"{await _where(conn)} has schema version {found}, newer than this watcher "
            f"({SCHEMA_VERSION}): upgrade watcher instead of downgrading the database"
        )


async def migrate_postgres(conn: asyncpg.Connection) -> int:
    """Bring the PostgreSQL schema to SCHEMA_VERSION inside one transaction per step; return the
    version found before. Raises :class:`SchemaNewer` (a DatabaseError) where the database's version
    is newer than this watcher knows, :class:`MigrationFailed` where a step fails on the server."""
    found = await postgres_version(conn)
    await _refuse_newer(conn, found)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
                # Under the lock: another migrator may have gone ahead while we waited.
                current = await postgres_version(conn)
                await _refuse_newer(conn, current)
                if current >= version:
                    continue
                if current == 0:
                    await conn.execute(
                        f"CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL, "
                        "one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one))"
                    )
                    await conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)")
                for statement in postgres_step(version):
                    await conn.execute(statement)
                await advance_identities(conn)
                await conn.execute(f"UPDATE {VERSION_TABLE} SET version = $1", version)
        except asyncpg.PostgresError as exc:
            raise MigrationFailed(
                f"{await _where(conn)}: migration to schema version {version} failed ({str(exc).splitlines()[0]}); "
                f"it stays at version {version - 1}"
            ) from exc
        log.info("PostgreSQL database migrated to schema version %d", version)
    return found


async def identity_columns(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(table, column) of every identity column of the watcher's tables (``id INTEGER PRIMARY KEY``)."""
    rows = await conn.fetch(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name"""
    )
    return [(str(row[0]), str(row[1])) for row in rows]


async def advance_identities(conn: asyncpg.Connection) -> None:
    """Set every identity counter past the highest id its table holds (and, for ``changes``, past the
    id floor in ``state``: the highest id of a change that left the queue, never to be given again).
    A counter is never moved back."""
    for table, column in await identity_columns(conn):
        highest = int(
            await conn.fetchval(f"SELECT coalesce(max({quote_identifier(column)}), 0) FROM {table}")
        )
        if table == "changes":
            floor = await conn.fetchval(
                "SELECT value FROM state WHERE key = $1 AND value ~ '^[0-9]+$'", ID_FLOOR_KEY
            )
            highest = max(highest, int(floor or 0))
        if highest <= 0:
            continue
        sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, $2)", table, column)
        await conn.execute(
            f"SELECT setval($1::regclass, greatest($2::bigint, (SELECT last_value FROM {sequence})))",
            sequence,
            highest,
        )


async def postgres_tables(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """The tables of the connection's schema (the version table left out), each with its columns."""
    rows = await conn.fetch(
        """SELECT t.table_name, c.column_name FROM information_schema.tables t
           JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
           WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND t.table_name <> $1
           ORDER BY t.table_name, c.ordinal_position""",
        VERSION_TABLE,
    )
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(str(table), []).append(str(column))
    return tables
