"""Tables of the review page (reviewers, sessions); a migration step of watcher.store.schema."""

from __future__ import annotations

WEB_TABLES: tuple[str, ...] = ()
