"""Tables of `watcher history` (runs and per-file progress); a migration step of watcher.store.schema."""

from __future__ import annotations

HISTORY_TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS history_runs (
        id INTEGER PRIMARY KEY,
        options TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'abandoned')),
        phase TEXT NOT NULL DEFAULT 'start',
        requests INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    )""",
    # state: new → current → walking → walked → planned → done, or skipped (note says why) from any.
    # walk: the file's revisions as JSON, newest first, from the current one back to the baseline.
    # museum: the museum's newest revision of the page found in its contributions (a walk shortcut).
    # plan: {"baseline": revid, "new": revid} of the diff to make.
    """CREATE TABLE IF NOT EXISTS history_progress (
        run_id INTEGER NOT NULL REFERENCES history_runs(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        pageid INTEGER,
        state TEXT NOT NULL DEFAULT 'new'
            CHECK (state IN ('new', 'current', 'walking', 'walked', 'planned', 'done', 'skipped')),
        walk TEXT,
        museum TEXT,
        plan TEXT,
        note TEXT,
        records INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, title)
    )""",
    "CREATE INDEX IF NOT EXISTS history_progress_state ON history_progress(run_id, state)",
)
