"""A PostgreSQL server for the benchmarks: the tests' temporary cluster, made durable as a deployment is.

The tests' cluster (:mod:`tests.support.postgres`: Debian's binaries, a temporary folder, loopback
TCP only, trust for one role) runs with ``fsync = off`` and 32 MB of shared buffers, which would flatter
every write. Here the same cluster gets :data:`DEPLOYMENT_SETTINGS` by ``ALTER SYSTEM`` (which
``postgresql.auto.conf`` keeps over ``postgresql.conf``) and a restart, and the server is asked what
it runs with, so the benchmark prints settings read back rather than wished for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import asyncpg

from tests.support.postgres import PostgresServer, restart_postgres, start_postgres, stop_postgres

# PostgreSQL's own defaults for durability (what a managed or packaged server runs with), and its
# packaged default for the buffer pool; the tests' cluster switches the first two off.
DEPLOYMENT_SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "on",
    "shared_buffers": "128MB",
    "max_connections": "100",
}
SHOWN = ("server_version", *DEPLOYMENT_SETTINGS, "wal_level", "work_mem")


async def _configure(server: PostgresServer) -> None:
    conn = await asyncpg.connect(server.dsn())
    try:
        for name, value in DEPLOYMENT_SETTINGS.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        await conn.close()


async def settings(server: PostgresServer) -> dict[str, str]:
    """What the running server says it runs with (``SHOW``)."""
    conn = await asyncpg.connect(server.dsn())
    try:
        return {name: str(await conn.fetchval(f"SHOW {name}")) for name in SHOWN}
    finally:
        await conn.close()


async def create_database(server: PostgresServer, name: str) -> str:
    """A new empty database as the watcher wants it (UTF8, C collation); its URL."""
    conn = await asyncpg.connect(server.dsn())
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    finally:
        await conn.close()
    return server.dsn(name)


def describe(shown: dict[str, str]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in shown.items())


@contextlib.contextmanager
def deployment_server() -> Iterator[PostgresServer]:
    """A temporary cluster on loopback with :data:`DEPLOYMENT_SETTINGS`; stopped and removed after."""
    server = start_postgres()
    try:
        asyncio.run(_configure(server))
        restart_postgres(server)  # shared_buffers and max_connections take a restart
        yield server
    finally:
        stop_postgres(server)
