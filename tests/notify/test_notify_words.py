"""Alerts and digests speak words, not Wikimedia internals (issue 15): the field by name, item values
with their cached labels and ids, dates as Commons shows them, the summary in words; the raw wikitext
only where the words lose the change. Mail goes to a loopback SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.notify import SmtpSink, utc
from watcher.config import Config, NotifyChannel
from watcher.diff import FieldChange
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import build_channels
from watcher.notify.digest import compose
from watcher.notify.outbox import Outbox
from watcher.notify.render import Presenter
from watcher.store import Database
from watcher.store.queue import Provenance, insert_changes

LABELS = '[labels]\nlanguages = ["sv", "en"]\n'
DEPICTS_SUMMARY = (
    "/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q17199752]]"
)
_revision = iter(range(7_000_000, 8_000_000))


async def queue(db: Database, change: FieldChange, comment: str, file: str = "File:Stol.jpg") -> None:
    revision = next(_revision)
    provenance = Provenance(
        wiki="commonswiki", file=file, revision=revision, old_revision=revision - 1,
        timestamp="2026-03-02T10:00:00Z", user="Editor", comment=comment, object_id="SKO 1775",
    )  # fmt: skip
    async with db.transaction() as conn:
        await insert_changes(conn, provenance, [change])


async def fill(db: Database) -> None:
    await db.write_many(
        "INSERT INTO entity_labels (entity, language, label, fetched_at) VALUES (?, ?, ?, ?)",
        [
            ("Q17199752", "sv", "Krassulor", "2026-03-01T00:00:00Z"),
            ("P180", "sv", "avbildar", "2026-03-01T00:00:00Z"),
        ],
    )
    await queue(db, FieldChange("statement", "added", None, "Q17199752", property="P180"), DEPICTS_SUMMARY)
    await queue(
        db,
        FieldChange("date", "changed", "1750", "{{other date|ca|1750}}", template="LSH artwork"),
        "/* Summary */ date",
    )
    # Only the link target changed: the words read the same, so the wikitext says what changed.
    await queue(
        db,
        FieldChange(
            "description",
            "changed",
            "Eine [[:de:Flunder|Flunder]]",
            "Eine [[:de:Scholle|Flunder]]",
            template="Information",
            language="de",
        ),
        "Undo revision 123 by [[Special:Contributions/Vandal|Vandal]] ([[User talk:Vandal|talk]])",
    )
    await queue(db, FieldChange("statement", "changed", "59.3,18.0", "59.3293,18.0686", property="P1259"), "")
    # A template shown by name only: its parameters are in the wikitext line.
    await queue(
        db,
        FieldChange("accession number", "added", None, "{{Nationalmuseum Stockholm link|17907|NM 2785}}", template="Artwork"),
        "id",
    )  # fmt: skip


def mail_channel(port: int) -> str:
    return (
        f'[[notify]]\nname = "mail"\nurls = ["mailto://127.0.0.1:{port}/?to=anna@museum.example'
        '&from=watcher@museum.example"]\nmode = "immediate"\ncoalesce_seconds = 0\n'
    )


async def test_an_alert_reads_in_words_with_cached_labels(
    db: Database, make_config: Callable[[str], Config], smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    config = make_config(LABELS + mail_channel(port))
    (channel,), problems = build_channels(config)
    assert problems == []
    watcher = AlertWatcher(db, config, channel, clock=lambda: datetime.now(UTC), on_queued=lambda: None)
    after = await watcher.cursor()
    await fill(db)
    _, alerted = await watcher.flush(after)
    assert alerted == 5 and await Outbox(db, [channel]).deliver_due() == 1
    (mail,) = sink.mails
    text, page = mail.part("text/plain").replace("\r\n", "\n"), mail.part("text/html")
    assert "avbildar added: Krassulor (Q17199752)\n" in text
    assert ": “added a statement: avbildar Krassulor (Q17199752)”" in text
    assert "date 1750 → circa 1750\n" in text
    assert "{{other date" not in text  # the words say it all: no raw wikitext
    assert "statement P180" not in text and "/* wbsetclaim" not in text and "[Information]" not in text
    assert "description [de] Eine Flunder → Eine Flunder\n" in text
    assert "wikitext: Eine [[:de:Flunder|Flunder]] → Eine [[:de:Scholle|Flunder]]\n" in text
    assert ": “undid revision 123 by Vandal”" in text
    assert (
        "coordinates of the point of view 59.3, 18.0 (map: https://www.openstreetmap.org/?mlat=59.3&mlon=18.0"
        in text
    )
    assert "accession number added: {{Nationalmuseum Stockholm link}}\n" in text
    assert "wikitext: {{Nationalmuseum Stockholm link|17907|NM 2785}}\n" in text
    assert '<a href="https://www.wikidata.org/wiki/Q17199752">Krassulor (Q17199752)</a>' in page
    assert "<code>Eine [[:de:Scholle|Flunder]]</code>" in page


async def test_the_digest_reads_in_words_and_falls_back_to_the_records_own_labels(
    db: Database, make_config: Callable[[str], Config]
) -> None:
    config = make_config(LABELS)
    await fill(db)
    await queue(
        db,
        FieldChange(
            "statement", "added", None, "Q42", property="P180", detail={"new_label": "Douglas Adams"}
        ),
        "x",
    )
    presenter = Presenter(config, ZoneInfo("Europe/Stockholm"))
    start, end = utc(2000, 1, 1), datetime.now(UTC) + timedelta(minutes=1)
    content = await compose(db.conn, config, NotifyChannel(name="x"), presenter, start, end, db=db)
    text = content.render("text")
    assert "  - avbildar added: Krassulor (Q17199752)" in text
    assert "  - avbildar added: Douglas Adams (Q42)" in text  # not cached: the label it was queued with
    assert "    by Editor, 2026-03-02 11:00 CET: “added a statement: avbildar Krassulor (Q17199752)”" in text
    # Without the database (a caller that has none), the built-in names and the records' own labels.
    bare = (await compose(db.conn, config, NotifyChannel(name="x"), presenter, start, end)).render("html")
    assert (
        '<b>depicts</b>: <span class="action">added</span> <ins><a href="https://www.wikidata.org/wiki/Q17199752">Q17199752</a>'
        in bare
    )
    assert '<a href="https://www.wikidata.org/wiki/Q42">Douglas Adams (Q42)</a>' in bare
