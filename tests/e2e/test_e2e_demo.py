"""`watcher demo --stop-after-replay`: the offline demo runs the whole loop and prints the queue."""

from __future__ import annotations

import subprocess
import sys

from tests.support.ports import free_port


def test_demo_replays_the_session_and_prints_the_queue() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "demo", "--stop-after-replay", "--port", str(free_port())],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "nothing goes to the internet" in out
    # The community's edits, as curators see them: object ids from the LSH template and file names.
    lines = [line for line in out.splitlines() if line[:1].isdigit()]
    assert any(
        "LRK 123" in line and "description" in line and "+ A bracelet of wooden beads" in line
        for line in lines
    )
    assert any("SKO 1775" in line and "date" in line and "between" in line for line in lines)
    assert any("other versions" in line and "Extracted from" in line for line in lines)
    assert sum(1 for line in lines if "Platichthys" in line and "removed" in line) == 3
    assert any("caption" in line and "Krassula i blom" in line for line in lines)
    assert any("statement (P180)" in line and "Q" in line for line in lines)
    # Noise made no records: the bot's reformatting, white space, the unrelated file.
    assert not any("TidyBot" in line or "Spacey" in line or "Dülmen" in line for line in lines)
    assert "The digest" in out
