"""SQLite at the heart: schema and migrations, the change queue, the tracked set, daemon state."""

from watcher.store.db import Database, DatabaseError, iso_utc, utcnow

__all__ = ["Database", "DatabaseError", "iso_utc", "utcnow"]
