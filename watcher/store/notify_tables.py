"""Tables of the notification layer (outbox, digest ledger); a migration step of watcher.store.schema."""

from __future__ import annotations

NOTIFY_TABLES: tuple[str, ...] = ()
