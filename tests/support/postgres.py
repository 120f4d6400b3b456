"""A real PostgreSQL server for the tests: Debian's binaries, a temporary cluster, loopback TCP only.

The server is one session-wide cluster (``initdb`` is the slow part, a few seconds); each test gets a
fresh empty database made from ``template0``, dropped afterwards. Trust authentication for one role,
``listen_addresses = '127.0.0.1'`` on a free port, no Unix socket, so nothing outside this machine
(nor another user's socket folder) is involved.

PostgreSQL refuses to run as root, so under root (CI) ``initdb`` and ``postgres`` run as the
``postgres`` system account where the package made one, else as ``nobody``, in a folder under the
system temporary directory that this account owns (pytest's own temporary folders are 0700 root's).
As a normal user they run as that user. Whatever a test does, the server is stopped and its folder
removed (``pg_ctl stop -m fast``, then SIGKILL of the postmaster if it did not stop).

Under CI (``$CI`` set) a server that cannot start fails the tests that need it, with the reason;
elsewhere they skip with it (the pattern of tests/mediawiki_real/conftest.py).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.support.ports import free_port
from watcher.store.db import Database
from watcher.store.engine import Store
from watcher.store.pg import PgDatabase

ROLE = "watcher"  # the cluster's superuser, trusted on 127.0.0.1
HOST = "127.0.0.1"
BINARIES = ("initdb", "pg_ctl", "postgres")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
START_SECONDS = 60  # pg_ctl -w waits this long for "ready" (a slow CI disk; normally under a second)
START_TRIES = 3  # a free port can be taken between free_port() and the bind: try another
SKIP_ENV = "WATCHER_SKIP_POSTGRES"
INSTALL_HINT = "apt-get install postgresql (Debian's package; `make postgres` does it as root)"

# Settings for a throwaway cluster. fsync off: nothing here must survive an OS crash, and a killed
# postgres (the take-over and restart tests) still loses nothing, the kernel keeps its writes.
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
    "log_statement": "'none'",
}


class PostgresUnavailable(Exception):
    """No server could be started here; the message says why and how to get one."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and who may connect."""

    host: str
    port: int
    user: str
    folder: Path  # holds data/ (the cluster) and server.log

    def dsn(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for ``database`` (the form the config will take)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"


def find_bindir() -> Path:
    """The folder with initdb, pg_ctl and postgres: ``pg_config --bindir``, else the newest Debian
    ``/usr/lib/postgresql/N/bin``, else wherever ``initdb`` is on the PATH."""
    candidates: list[Path] = []
    if (pg_config := shutil.which("pg_config")) is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
    if DEBIAN_ROOT.is_dir():
        versions = [p for p in DEBIAN_ROOT.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: int(p.name), reverse=True)]
    if (initdb := shutil.which("initdb")) is not None:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() and os.access(folder / name, os.X_OK) for name in BINARIES):
            return folder
    raise PostgresUnavailable(f"no PostgreSQL server binaries ({', '.join(BINARIES)}) found: {INSTALL_HINT}")


def _server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as when this is root; None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable("running as root and neither a `postgres` nor a `nobody` account exists")


def _environment() -> dict[str, str]:
    """This environment without PG* variables (a developer's PGDATA or PGPORT must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run(
    command: list[str], account: pwd.struct_passwd | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a server binary, as ``account`` when given (setuid/setgid with no extra groups)."""
    if account is None:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=_environment(), cwd="/"
        )
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_environment() | {"HOME": account.pw_dir, "USER": account.pw_name},
        cwd="/",
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
    )


def _tail(path: Path, limit: int = 3000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-limit:]
    return ""


def start_postgres() -> PostgresServer:
    """initdb a cluster in a new temporary folder and start it; raise :class:`PostgresUnavailable`.

    The caller owns the server: :func:`stop_postgres` it (``postgres_server()`` does that for you).
    """
    bindir = find_bindir()
    account = _server_account()
    folder = Path(tempfile.mkdtemp(prefix="watcher-postgres-"))
    try:
        if account is not None:
            os.chown(folder, account.pw_uid, account.pw_gid)
        server = PostgresServer(HOST, 0, ROLE, folder)
        init = _run(
            [
                str(bindir / "initdb"),
                f"--pgdata={server.data}",
                f"--username={ROLE}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            account,
            timeout=120,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(
                f"initdb exited {init.returncode}:\n{(init.stderr + init.stdout)[-3000:]}"
            )
        base_conf = (server.data / "postgresql.conf").read_text()
        for _ in range(START_TRIES):
            server = PostgresServer(HOST, free_port(), ROLE, folder)
            settings = {**SETTINGS, "port": str(server.port)}
            extra = "".join(f"{key} = {value}\n" for key, value in settings.items())
            (server.data / "postgresql.conf").write_text(
                base_conf + "\n# tests/support/postgres.py\n" + extra
            )
            started = _run(
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "--wait",
                    f"--timeout={START_SECONDS}",
                    f"--pgdata={server.data}",
                    f"--log={server.log}",
                ],
                account,
                timeout=START_SECONDS + 30,
            )
            if started.returncode == 0:
                return server
            log = _tail(server.log)
            if "could not bind" not in log and "already in use" not in log:
                break
        raise PostgresUnavailable(
            f"pg_ctl start exited {started.returncode}: {started.stderr.strip()}\nserver log:\n{log}"
        )
    except BaseException:
        _kill_postmaster(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _kill_postmaster(data: Path) -> None:
    """SIGKILL the postmaster this cluster's ``postmaster.pid`` names (ours: we started it)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


def stop_postgres(server: PostgresServer) -> None:
    """Stop the server (fast shutdown: sessions are cut, nothing waits) and remove its folder."""
    try:
        if (server.data / "postmaster.pid").exists():
            stopped = subprocess.CompletedProcess[str]([], 1)
            with contextlib.suppress(OSError, subprocess.SubprocessError, PostgresUnavailable):
                stopped = _run(
                    [
                        str(find_bindir() / "pg_ctl"),
                        "stop",
                        "--wait",
                        "--mode=fast",
                        f"--pgdata={server.data}",
                    ],
                    _server_account(),
                    timeout=60,
                )
            if stopped.returncode != 0:
                _kill_postmaster(server.data)
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


def restart_postgres(server: PostgresServer, down_seconds: float = 0.0) -> None:
    """Stop the server (fast: every session cut, as a real restart or failover does), stay down for
    ``down_seconds``, and start it again on the same port with the same data."""
    bindir, account = find_bindir(), _server_account()
    stopped = _run(
        [str(bindir / "pg_ctl"), "stop", "--wait", "--mode=fast", f"--pgdata={server.data}"],
        account,
        timeout=60,
    )
    if stopped.returncode != 0:
        raise PostgresUnavailable(f"pg_ctl stop exited {stopped.returncode}: {stopped.stderr.strip()}")
    time.sleep(down_seconds)
    started = _run(
        [
            str(bindir / "pg_ctl"), "start", "--wait", f"--timeout={START_SECONDS}",
            f"--pgdata={server.data}", f"--log={server.log}",
        ],
        account,
        timeout=START_SECONDS + 30,
    )  # fmt: skip
    if started.returncode != 0:
        raise PostgresUnavailable(f"pg_ctl start exited {started.returncode}: {_tail(server.log)}")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running server for the ``with`` block; stopped and removed however the block ends."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


_database_numbers = itertools.count(1)


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


@contextlib.asynccontextmanager
async def fresh_database(server: PostgresServer, name: str | None = None) -> AsyncIterator[str]:
    """A new empty database (UTF8, C collation, from template0) for the block; its DSN. Dropped after,
    with its sessions cut (``WITH (FORCE)``), so a test that leaks a connection cannot block the next."""
    database = _identifier(name or f"test_{os.getpid()}_{next(_database_numbers)}")
    admin = await asyncpg.connect(server.dsn())
    try:
        await admin.execute(
            f"CREATE DATABASE {database} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    finally:
        await admin.close()
    try:
        yield server.dsn(database)
    finally:
        admin = await asyncpg.connect(server.dsn())
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        finally:
            await admin.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the PostgreSQL test server could not be started under CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL test server: {reason}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's server. ``WATCHER_SKIP_POSTGRES=1`` skips (locally) the tests that need it."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"PostgreSQL tests switched off ({SKIP_ENV}=1)")
    try:
        server = start_postgres()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        _unavailable(str(exc))
        raise  # not reached: _unavailable skips or fails
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture
async def postgres_dsn(postgres: PostgresServer) -> AsyncIterator[str]:
    """A fresh empty database on the session's server, as a ``postgresql://`` URL."""
    async with fresh_database(postgres) as dsn:
        yield dsn


# What a broken constraint raises, on either engine (the store does not translate it yet).
CONSTRAINT_VIOLATIONS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


@contextlib.asynccontextmanager
async def store_on(engine: str, request: pytest.FixtureRequest, sqlite_path: Path) -> AsyncIterator[Store]:
    """A fresh, migrated store of ``engine`` ("sqlite": a file at ``sqlite_path``; "postgresql": a new
    database of the session's server, which ``request`` asks for): what the suites run on both."""
    if engine == "sqlite":
        database = await Database.connect(sqlite_path)
        try:
            yield database
        finally:
            await database.close()
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    async with fresh_database(server) as dsn, PgDatabase.open(dsn) as served:
        await served.migrate()
        yield served


@pytest.fixture
async def pg_conn(postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection to a fresh database of the session's server."""
    conn = await asyncpg.connect(postgres_dsn)
    try:
        yield conn
    finally:
        await conn.close()
