"""E-mail through a real SMTP server on loopback: alerts and digests, multipart, hostile text escaped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from tests.support.config import MINIMAL_CONFIG
from tests.support.notify import HOSTILE_ATTR, HOSTILE_SCRIPT, SmtpSink, add_change, utc
from watcher.cli.notify import digest
from watcher.config import Config
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import build_channels
from watcher.notify.outbox import Outbox
from watcher.notify.schedule import DigestTime
from watcher.store import Database


def _mail_channel(port: int, mode: str) -> str:
    return f"""
[web]
listen = "127.0.0.1:8750"
public_url = "https://watcher.museum.example"

[[notify]]
name = "curators"
urls = ["mailto://127.0.0.1:{port}/?to=anna@museum.example,bo@museum.example&from=watcher@museum.example"]
mode = "{mode}"
coalesce_seconds = 0
"""


async def test_alert_mail_has_text_and_escaped_html_parts(
    db: Database, make_config: Callable[[str], Config], smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    config = make_config(_mail_channel(port, "immediate"))
    (channel,), problems = build_channels(config)
    assert problems == []
    watcher = AlertWatcher(db, config, channel, clock=lambda: utc(2026, 3, 2, 12), on_queued=lambda: None)
    after = await watcher.cursor()
    hostile = await add_change(
        db, old="A vase", new=f"Vase {HOSTILE_SCRIPT}", language="en", user=HOSTILE_ATTR
    )
    await add_change(db, file="File:Bowl.jpg", field="title", old=None, new="Bowl", action="added")
    _, alerted = await watcher.flush(after)
    assert alerted == 2
    assert await Outbox(db, [channel]).deliver_due() == 1

    assert len(sink.mails) == 2  # apprise sends one message per recipient
    assert sorted(r for mail in sink.mails for r in mail.recipients) == [
        "anna@museum.example",
        "bo@museum.example",
    ]
    mail = sink.mails[0]
    assert mail.sender == "watcher@museum.example"
    assert mail.message["Subject"] == "Commons Watcher: 2 new changes on 2 files"
    assert mail.message.get_content_type() == "multipart/alternative"
    text, html = mail.part("text/plain"), mail.part("text/html")
    # Our own text part: links with their addresses, the values as written.
    assert "File:Vase.jpg (object EXM-1)" in text
    assert f"A vase → Vase {HOSTILE_SCRIPT}" in text
    assert f"https://watcher.museum.example/changes/{hostile}" in text
    assert "https://commons.wikimedia.org/w/index.php?diff=" in text
    # The HTML part: every user-supplied value escaped.
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img onerror=x&gt;" in html
    assert f'href="https://watcher.museum.example/changes/{hostile}"' in html


def test_digest_command_previews_and_sends_once(smtp: tuple[SmtpSink, int], tmp_path: Path) -> None:
    sink, port = smtp
    config_file = tmp_path / "config.toml"
    # The default database path is relative to the working directory; keep it in tmp_path.
    text = MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "watcher.sqlite3"\n', 1)
    config_file.write_text(text + _mail_channel(port, "digest"), encoding="utf-8")

    # Queued an hour before the latest digest time: inside the window of the digest due now.
    timing = DigestTime.parse("07:30", "Europe/Stockholm")
    queued = timing.latest_due(datetime.now(UTC))[1] - timedelta(hours=1)

    async def queue_some() -> None:
        db = await Database.connect(tmp_path / "watcher.sqlite3")
        try:
            await add_change(db, new=f"Glass {HOSTILE_SCRIPT}", language="sv", queued_at=queued)
            await add_change(db, field="date", old="1900", new="1901", queued_at=queued)
            await add_change(
                db, file="File:Bowl.jpg", field="category", template=None, old=None, new="Bowls",
                action="added", queued_at=queued,
            )  # fmt: skip
        finally:
            await db.close()

    asyncio.run(queue_some())
    runner = CliRunner()
    preview = runner.invoke(digest, ["-c", str(config_file), "--since", "2000-01-01"])
    assert preview.exit_code == 0, preview.output
    assert "3 changes on 2 files" in preview.output
    assert "File:Vase.jpg (object EXM-1)" in preview.output
    assert "  date ×1, description [sv] ×1\n" in preview.output  # counts per field and language
    assert sink.mails == []  # a preview sends nothing

    first = runner.invoke(digest, ["-c", str(config_file), "--send"])
    assert first.exit_code == 0, first.output
    assert len(sink.mails) == 2  # one per recipient
    mail = sink.mails[0]
    assert mail.message["Subject"].startswith("Commons Watcher digest, ")
    assert mail.message["Subject"].endswith(": 3 changes on 2 files")
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert "File:Bowl.jpg" in text and "category added: Bowls" in text
    assert "Review them: https://watcher.museum.example/" in text
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "3 changes on 2 files" in first.stdout  # what was sent, rendered to stdout

    second = runner.invoke(digest, ["-c", str(config_file), "--send"])
    assert second.exit_code == 0, second.output
    assert "composed before; not again" in second.output
    assert len(sink.mails) == 2
