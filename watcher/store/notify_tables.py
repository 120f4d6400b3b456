"""Tables of the notification layer (outbox, digest ledger); a migration step of watcher.store.schema."""

from __future__ import annotations

NOTIFY_TABLES: tuple[str, ...] = (
    # Every notification is a row here before it is sent: one row per message and apprise URL (target),
    # so that a retry never repeats a message to a target that already took it. Times the sender
    # compares (next_attempt_at, lease_until, give_up_at) are Unix seconds; the rest are ISO 8601 UTC.
    """CREATE TABLE notify_outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        target_label TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('alert', 'digest')),
        ref TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        body_format TEXT NOT NULL CHECK (body_format IN ('text', 'markdown', 'html')),
        text_body TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        give_up_at REAL NOT NULL,
        lease_owner TEXT,
        lease_until REAL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (channel, ref, target)
    )""",
    "CREATE INDEX notify_outbox_due ON notify_outbox(state, next_attempt_at, id)",
    # Immediate alerts: the last change id each channel has dealt with (alerted or filtered out).
    """CREATE TABLE notify_cursors (
        channel TEXT PRIMARY KEY,
        last_change_id INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # The digest ledger: one row per channel and period (the local date of the digest), written in the
    # transaction that queues the digest's outbox rows, so a period is composed exactly once. The
    # window is [window_start, window_end) over changes.queued_at.
    """CREATE TABLE notify_digests (
        channel TEXT NOT NULL,
        period TEXT NOT NULL,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        changes INTEGER NOT NULL,
        missed INTEGER NOT NULL DEFAULT 0,
        messages INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (channel, period)
    )""",
)
