"""SQLite at the heart: schema and migrations, the change queue, the tracked set, daemon state."""

from watcher.store.db import (
    DaemonLock,
    Database,
    DatabaseError,
    DatabaseLocked,
    LockHolder,
    iso_utc,
    utcnow,
)

__all__ = ["DaemonLock", "Database", "DatabaseError", "DatabaseLocked", "LockHolder", "iso_utc", "utcnow"]
