"""The recorded samples in tests/fixtures and their loaders (the one place their paths are spelled)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVENTS = FIXTURES / "events"
WIKITEXT = FIXTURES / "wikitext"
MEDIAINFO = FIXTURES / "mediainfo"


def wikitext(name: str) -> str:
    """One wikitext sample from tests/fixtures/wikitext."""
    return (WIKITEXT / name).read_text(encoding="utf-8")


def mediainfo(name: str) -> str:
    """One MediaInfo sample (raw JSON text) from tests/fixtures/mediainfo."""
    return (MEDIAINFO / name).read_text(encoding="utf-8")


def load_events(name: str) -> list[dict[str, Any]]:
    """The JSON payloads of one capture in tests/fixtures/events (json, jsonl or SSE transcript)."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if name.endswith(".json"):
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    return [data for _, data in sse_records(text)]


def sse_records(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(id, data) of every message record of an SSE transcript, the last one even without a blank line."""
    records: list[tuple[str, dict[str, Any]]] = []
    event_id = ""
    data: list[str] = []
    for line in [*text.splitlines(), ""]:
        if not line:
            if data:
                records.append((event_id, json.loads("\n".join(data))))
            data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            event_id = value
        elif name == "data":
            data.append(value)
    return records
