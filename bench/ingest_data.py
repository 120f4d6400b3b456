"""What the ingest benchmark feeds the daemon: realistic events, the wiki they talk about, the config.

Events are varied from the real EventStreams captures in ``shared/samples/events`` (the copy in
``tests/fixtures/events`` where shared/ is not beside the checkout), with EventStreams' key order and
compact serialisation: about 45 % Commons (edits, structured-data edits, categorisations, upload log
entries of untracked files; a few titles need JSON escapes), the rest other wikis. A share of them
(0.05 % by default) are edits of tracked files, with real revision ids of the Action API stand-in's
wiki, so that the daemon's worker fetches and diffs them as it would in production.
"""

from __future__ import annotations

import json
import random
import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIRS = (ROOT.parent / "shared" / "samples" / "events", ROOT / "tests" / "fixtures" / "events")
UA = "WatcherBench/0.1 (https://museum.example; bench@museum.example)"
TOPIC = "eqiad.mediawiki.recentchange"
OTHER_TOPIC = "codfw.mediawiki.recentchange"
OTHER_WIKIS = ["enwiki", "wikidatawiki", "dewiki", "frwiki", "eswiki", "mgwiktionary", "rowiki", "jawiki"]
COMMONS_SHARE = 0.45
FIRST_REVID = 1001  # the stand-in wiki numbers revisions from here, in creation order

# EventStreams' key order (the raw captures); two sample sources re-ordered keys when printing them.
ORDER = [
    "$schema", "meta", "id", "type", "namespace", "title", "title_url", "comment", "timestamp", "user",
    "bot", "notify_url", "minor", "patrolled", "length", "revision", "log_id", "log_type", "log_action",
    "log_params", "log_action_comment", "server_url", "server_name", "server_script_path", "wiki",
    "parsedcomment",
]  # fmt: skip
META_ORDER = ["uri", "request_id", "id", "domain", "stream", "dt", "topic", "partition", "offset"]


def tracked_title(k: int) -> str:
    return f"File:Some museum object {k} - EXM {k}.jpg"


def page_text(k: int) -> str:
    return f"{{{{Information\n|description={{{{en|1=Object {k}}}}}\n|date=1890\n}}}}"


def edited_text(k: int) -> str:
    return f"{{{{Information\n|description={{{{en|1=Object {k}}}}}\n{{{{fr|1=Objet {k}}}}}\n|date=1890\n}}}}"


def samples_dir() -> Path:
    for folder in SAMPLE_DIRS:
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no EventStreams captures in {' or '.join(map(str, SAMPLE_DIRS))}")


def _canonical(ev: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(ORDER)}
    out = {k: ev[k] for k in sorted(ev, key=lambda k: rank.get(k, rank["server_url"] - 0.5)) if k != "_meta"}
    meta = ev["meta"]
    out["meta"] = {k: meta[k] for k in META_ORDER if k in meta} | meta
    return out


def samples() -> list[dict[str, Any]]:
    """Every recentchange event of the captures, keys in EventStreams' order."""
    out: list[dict[str, Any]] = []
    for path in sorted(samples_dir().iterdir()):
        raw = path.read_bytes()
        if path.suffix == ".sse":
            out += [json.loads(line[6:]) for line in raw.splitlines() if line.startswith(b"data: ")]
        elif path.suffix == ".jsonl":
            out += [json.loads(line) for line in raw.splitlines() if line.strip()]
        elif path.suffix == ".json":
            loaded = json.loads(raw)
            out += loaded if isinstance(loaded, list) else [loaded]
    return [_canonical(e) for e in out if isinstance(e, dict) and "wiki" in e and "meta" in e]


@dataclass(frozen=True)
class Plan:
    """How many events, how many tracked files, how many of the events are edits of tracked files."""

    events: int
    tracked: int
    matching: int
    seed: int = 42

    def matching_at(self) -> dict[int, int]:
        """Event index → tracked file number, for the events that edit a tracked file (one each)."""
        rng = random.Random(self.seed + 1)
        where = sorted(rng.sample(range(self.events), self.matching))
        files = rng.sample(range(self.tracked), self.matching)
        return dict(zip(where, files, strict=True))

    def revisions(self) -> dict[int, tuple[int, int]]:
        """Tracked file number → (old, new) revision id in the stand-in wiki :func:`wiki` builds."""
        edited = set(self.matching_at().values())
        out: dict[int, tuple[int, int]] = {}
        rev = FIRST_REVID
        for k in range(self.tracked):
            if k in edited:
                out[k] = (rev, rev + 1)
                rev += 2
            else:
                rev += 1
        return out


def record_id(index: int) -> str:
    """The SSE id of record ``index``: the offset of the next one, as the stand-in writes it."""
    return f'[{{"topic":"{TOPIC}","partition":0,"offset":{index + 1}}},{{"topic":"{OTHER_TOPIC}","partition":0,"offset":-1}}]'


def start_time(plan: Plan) -> datetime:
    """Events end about a minute before now (2 ms apart on average): a recent backlog, no catch-up."""
    return datetime.now(UTC) - timedelta(milliseconds=2 * plan.events) - timedelta(minutes=1)


def events(plan: Plan) -> Iterator[str]:
    """The plan's events as compact JSON lines, in stream order."""
    rng = random.Random(plan.seed)
    pool = samples()
    commons = [e for e in pool if e["wiki"] == "commonswiki"]
    others = [e for e in pool if e["wiki"] != "commonswiki"]
    edits = [e for e in commons if e.get("type") == "edit" and e.get("namespace") == 6 and "revision" in e]
    matching = plan.matching_at()
    revisions = plan.revisions()
    t = start_time(plan)
    for i in range(plan.events):
        r = rng.random()
        k = matching.get(i)
        template = (
            rng.choice(edits) if k is not None else rng.choice(commons if r < COMMONS_SHARE else others)
        )
        ev = dict(template)
        meta = dict(ev["meta"])
        meta["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        t += timedelta(milliseconds=rng.randint(0, 4))
        meta["dt"] = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        meta["offset"] = i
        ev["meta"] = meta
        ev["timestamp"] = int(t.timestamp())
        ev["id"] = 3_000_000_000 + i
        if k is not None:
            old, new = revisions[k]
            ev["title"] = tracked_title(k)
            ev["revision"] = {"old": old, "new": new}
            ev["user"] = "Volunteer"
            ev["bot"] = False
            ev["comment"] = "added a French description"
        elif r < COMMONS_SHARE:
            stem = str(ev["title"]).rsplit(".", 1)[0]
            quote = '"' if rng.random() < 0.003 else ""  # a title that needs a JSON escape
            ev["title"] = f"{stem} {quote}{i}.jpg" if ev["namespace"] == 6 else f"{stem} {i}"
        else:
            ev["wiki"] = rng.choice(OTHER_WIKIS)
            ev["title"] = f"{ev['title']} {i}"
        yield json.dumps(ev, ensure_ascii=False, separators=(",", ":"))


def write_body(plan: Plan, body: Path, index: Path) -> int:
    """The SSE records of the plan's events into ``body``, their byte offsets into ``index``; the size."""
    offsets = array("Q")
    pos = 0
    with body.open("wb") as out:
        for i, line in enumerate(events(plan)):
            record = f"event: message\nid: {record_id(i)}\ndata: {line}\n\n".encode()
            offsets.append(pos)
            out.write(record)
            pos += len(record)
    index.write_bytes(offsets.tobytes())
    return pos


def wiki(plan: Plan) -> dict[str, Any]:
    """The Action API stand-in's scenario: every tracked file, and one edit of each file edited."""
    edited = set(plan.matching_at().values())
    pages: list[dict[str, Any]] = []
    for k in range(plan.tracked):
        spec: dict[str, Any] = {"title": tracked_title(k), "wikitext": page_text(k)}
        if k in edited:
            spec["edits"] = [{"wikitext": edited_text(k), "user": "Volunteer", "comment": "fr"}]
        pages.append(spec)
    return {"pages": pages}


def titles_file(plan: Plan, path: Path) -> None:
    path.write_text("".join(f"{tracked_title(k)}\n" for k in range(plan.tracked)), encoding="utf-8")


def config_text(database: Path | str, stream_url: str, api_url: str, titles: Path) -> str:
    """The daemon's config: the firehose, the stand-in, the listed files; nothing else switched on."""
    return f"""[watcher]
database = "{database}"
user_agent = "{UA}"

[stream]
url = "{stream_url}"

[wiki]
name = "commonswiki"
api_url = "{api_url}"

[tracking]
files_from = "{titles}"

[[tracking.object_id]]
pattern = ' - EXM (\\d+)\\.\\w+$'

[labels]
languages = []
"""
