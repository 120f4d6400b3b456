"""Issue 19, item 4: `[[notify]] collections` gives a channel only those collections' changes; a digest
of several collections lists its files under each collection's title (a digest of one looks as it
always did); `watcher digest --collection` narrows the preview and an extra digest."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from tests.support.config import MINIMAL_CONFIG, USER_AGENT
from tests.support.notify import SmtpSink, add_change, utc
from watcher.cli.notify import digest
from watcher.config import Config
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import build_channels
from watcher.notify.digest import compose, send_due_digests
from watcher.notify.filters import filter_sql
from watcher.notify.outbox import Outbox
from watcher.notify.render import Presenter
from watcher.notify.schedule import DigestTime
from watcher.store import Database
from watcher.store import tracked as store_tracked

# Hallwyl first: config order, not the alphabet, orders a digest's collections.
TWO_COLLECTIONS = f"""[watcher]
user_agent = "{USER_AGENT}"

[[collection]]
name = "hallwyl"
title = "The Hallwyl Museum"
categories = ["Category:Hallwyl"]

[[collection]]
name = "armoury"
title = "The Royal Armoury"
categories = ["Category:Armoury"]
"""
MONDAY_FIRE = utc(2026, 3, 2, 6, 30)  # 07:30 in Stockholm
SHARED_REVISION = 7_000_001


def _mail(port: int, mode: str, extra: str = "") -> str:
    return f"""
[[notify]]
name = "curators"
urls = ["mailto://127.0.0.1:{port}/?to=anna@museum.example&from=watcher@museum.example"]
mode = "{mode}"
coalesce_seconds = 0
{extra}
"""


async def _queue_both(db: Database, queued_at_offset: timedelta = -timedelta(hours=2)) -> None:
    """Two files of each collection; File:Shared.jpg is in both, one edit, each with its own object id."""
    at = MONDAY_FIRE + queued_at_offset
    for collection, file, object_id in (
        ("hallwyl", "File:Hallwyl vase.jpg", "HWY-1"),
        ("armoury", "File:Armoury sword.jpg", "LRK-1"),
    ):
        await add_change(db, file=file, object_id=object_id, collection=collection, queued_at=at)
    await add_change(
        db, file="File:Hallwyl vase.jpg", field="date", old="1900", new="1901", object_id="HWY-1",
        collection="hallwyl", queued_at=at,
    )  # fmt: skip
    for collection, object_id in (("hallwyl", "HWY-9"), ("armoury", "LRK-9")):
        await add_change(
            db, file="File:Shared.jpg", object_id=object_id, collection=collection,
            revision=SHARED_REVISION, queued_at=at,
        )  # fmt: skip


async def test_an_alert_channel_of_one_collection_never_sends_anothers_changes(
    db: Database, make_config: Callable[..., Config], smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    config = make_config(_mail(port, "immediate", 'collections = ["hallwyl"]'), base=TWO_COLLECTIONS)
    (channel,), problems = build_channels(config)
    assert problems == []
    watcher = AlertWatcher(db, config, channel, clock=lambda: utc(2026, 3, 2, 12), on_queued=lambda: None)
    after = await watcher.cursor()
    await _queue_both(db, timedelta(0))
    after, alerted = await watcher.flush(after)
    assert alerted == 3  # the vase's two changes and the shared file's hallwyl record
    assert await Outbox(db, [channel]).deliver_due() == 1
    (mail,) = sink.mails
    text = mail.part("text/plain")
    # Each change says whose it is: the deployment has several collections.
    assert "File:Hallwyl vase.jpg (object HWY-1), The Hallwyl Museum" in text
    assert "File:Shared.jpg (object HWY-9), The Hallwyl Museum" in text
    assert '<span class="meta">· The Hallwyl Museum</span>' in mail.part("text/html")
    assert "Armoury sword" not in text and "LRK-" not in text
    assert mail.message["Subject"] == "Commons Watcher: 3 new changes on 2 files"
    # The armoury goes on changing: nothing for this channel, however many pile up.
    await add_change(db, file="File:Armoury shield.jpg", collection="armoury")
    assert not await watcher.has_pending(after)
    assert (await watcher.flush(after))[1] == 0
    assert await Outbox(db, [channel]).deliver_due() == 0
    assert len(sink.mails) == 1


async def test_the_digest_of_several_collections_lists_files_under_each_title(
    db: Database, make_config: Callable[..., Config], smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    config = make_config(_mail(port, "digest"), base=TWO_COLLECTIONS)
    channels, problems = build_channels(config)
    assert problems == []
    await _queue_both(db)
    now = MONDAY_FIRE + timedelta(minutes=5)
    (outcome,) = await send_due_digests(db, config, channels, now)
    assert (outcome.changes, outcome.messages) == (5, 1)
    assert await Outbox(db, channels, clock=lambda: now).deliver_due() == 1
    (mail,) = sink.mails
    assert mail.message["Subject"].endswith(": 5 changes on 3 files")  # the shared file counts once
    text, html = mail.part("text/plain").replace("\r\n", "\n"), mail.part("text/html")
    hallwyl = "The Hallwyl Museum: 3 changes on 2 files\n----------------------------------------\n"
    armoury = "The Royal Armoury: 2 changes on 2 files\n---------------------------------------\n"
    order = [
        text.index(hallwyl),
        text.index("File:Hallwyl vase.jpg (object HWY-1)"),
        text.index("File:Shared.jpg (object HWY-9)"),
        text.index(armoury),
        text.index("File:Armoury sword.jpg (object LRK-1)"),
        text.index("File:Shared.jpg (object LRK-9)"),
    ]
    assert order == sorted(order)
    assert text.count("The Hallwyl Museum") == text.count("The Royal Armoury") == 1
    assert re.findall(r'<h2 class="collection"[^>]*>([^<]*)<', html) == [
        "The Hallwyl Museum ",
        "The Royal Armoury ",
    ]
    assert "<h3><a href=" in html and "<h2><a href=" not in html  # files a level below
    assert outcome.content is not None
    markdown = outcome.content.render("markdown")
    assert markdown.index("**The Hallwyl Museum** (3 changes on 2 files)\n\n- **[File:Hallwyl vase.jpg]") < (
        markdown.index("\n\n**The Royal Armoury** (2 changes on 2 files)\n\n- **[File:Armoury sword.jpg]")
    )


async def test_a_digest_of_one_collection_has_no_headings_and_reads_as_before(
    db: Database, make_config: Callable[..., Config]
) -> None:
    """A channel of one of several collections gives, word for word, the digest the `[tracking]` form
    gives for the same changes: no heading, files at the top level."""
    for n in range(3):
        await add_change(db, file=f"File:Hallwyl {n}.jpg", collection="hallwyl", queued_at=MONDAY_FIRE)
    narrowed = make_config('[[notify]]\nname = "d"\nurls = ["json://127.0.0.1/"]\ncollections = ["hallwyl"]\n',
                           base=TWO_COLLECTIONS)  # fmt: skip
    single = make_config('[[notify]]\nname = "d"\nurls = ["json://127.0.0.1/"]\n', base=MINIMAL_CONFIG)
    zone = DigestTime.parse("07:30", "Europe/Stockholm").zone
    start, end = MONDAY_FIRE - timedelta(days=1), MONDAY_FIRE + timedelta(hours=1)
    bodies = []
    for config in (narrowed, single):
        content = await compose(db.conn, config, config.notify[0], Presenter(config, zone), start, end)
        bodies.append([content.render(fmt) for fmt in ("text", "markdown", "html")])
    assert bodies[0] == bodies[1]
    text, markdown, html = bodies[0]
    assert "3 changes on 3 files" in text and "Hallwyl Museum" not in text + markdown + html
    assert "---" not in text and 'class="collection"' not in html and "<h3>" not in html
    # Where the config has one collection, whose changes the queue has none of (`default`'s): unchanged.
    assert [g.collection for g in (await compose(db.conn, single, single.notify[0], Presenter(single, zone),
                                                 start, end)).groups] == [None, None, None]  # fmt: skip


def _shell(tmp_path: Path, port: int, extra: str = "") -> Path:
    config_file = tmp_path / "config.toml"
    text = TWO_COLLECTIONS.replace("[watcher]\n", '[watcher]\ndatabase = "watcher.sqlite3"\n', 1)
    config_file.write_text(text + (_mail(port, "digest", extra) if port else ""), encoding="utf-8")

    async def queue() -> None:
        db = await Database.connect(tmp_path / "watcher.sqlite3")
        try:
            await _queue_both(db, timedelta(0))
        finally:
            await db.close()

    asyncio.run(queue())
    return config_file


def test_digest_command_by_collection(smtp: tuple[SmtpSink, int], tmp_path: Path) -> None:
    sink, port = smtp
    config = str(_shell(tmp_path, port))
    runner = CliRunner()
    preview = runner.invoke(digest, ["-c", config, "--since", "2000-01-01", "--collection", "armoury"])
    assert preview.exit_code == 0, preview.output
    assert "2 changes on 2 files" in preview.stdout and "File:Shared.jpg (object LRK-9)" in preview.stdout
    assert "Hallwyl" not in preview.stdout and "HWY-" not in preview.stdout
    assert "The Royal Armoury" not in preview.stdout  # one collection: no headings
    both = runner.invoke(digest, ["-c", config, "--since", "2000-01-01"])
    assert "The Hallwyl Museum: 3 changes on 2 files" in both.stdout and "The Royal Armoury" in both.stdout

    # The scheduled digest covers every collection of the channel: --collection needs --since.
    refused = runner.invoke(digest, ["-c", config, "--send", "--collection", "armoury"])
    assert refused.exit_code == 2 and "--since" in refused.stderr
    assert sink.mails == []
    unknown = runner.invoke(digest, ["-c", config, "--collection", "skokloster"])
    assert unknown.exit_code == 2
    assert "no collection 'skokloster' in the config; it has hallwyl, armoury" in unknown.stderr

    sent = runner.invoke(
        digest, ["-c", config, "--send", "--since", "2000-01-01", "--collection", "armoury", "--wait", "5"]
    )
    assert sent.exit_code == 0, sent.output
    (mail,) = sink.mails
    text = mail.part("text/plain")
    assert "File:Armoury sword.jpg" in text and "Hallwyl" not in text
    assert mail.message["Subject"].endswith(": 2 changes on 2 files")


def test_digest_command_leaves_out_a_channel_of_other_collections(
    smtp: tuple[SmtpSink, int], tmp_path: Path
) -> None:
    _, port = smtp
    config = str(_shell(tmp_path, port, 'collections = ["hallwyl"]'))
    result = CliRunner().invoke(digest, ["-c", config, "--since", "2000-01-01", "--collection", "armoury"])
    assert result.exit_code == 0, result.output
    assert "curators: takes none of armoury (its collections: hallwyl); left out" in result.stderr
    assert result.stdout == ""


def test_digest_preview_without_channels_by_collection(tmp_path: Path) -> None:
    config = str(_shell(tmp_path, 0))
    result = CliRunner().invoke(digest, ["-c", config, "--since", "2000-01-01", "--collection", "hallwyl"])
    assert result.exit_code == 0, result.output
    assert "3 changes on 2 files" in result.stdout and "Armoury" not in result.stdout


async def test_a_category_filter_holds_to_the_collection_that_tracks_the_file_for_it(
    db: Database, make_config: Callable[..., Config]
) -> None:
    """File:Shared.jpg is Hallwyl's for Category:Glass (through its subcategory Category:Glass bowls)
    and the armoury's for its uploader: a channel for Category:Glass gets Hallwyl's record of it, never
    the armoury's, and a channel of the armoury with that category gets nothing."""
    async with db.transaction() as conn:
        await store_tracked.set_categories(
            conn, "Category:Glass", [("Category:Glass", "Category:Glass", 0), ("Category:Glass bowls", "Category:Glass", 1)],
            collection="hallwyl",
        )  # fmt: skip
        await store_tracked.add_file(
            conn, "File:Shared.jpg", "category", "Category:Glass bowls", collection="hallwyl"
        )
        await store_tracked.add_file(conn, "File:Shared.jpg", "uploader", "Armoury bot", collection="armoury")
        await store_tracked.add_file(
            conn, "File:Vase.jpg", "category", "Category:Glass", collection="armoury"
        )
    hallwyl = await add_change(db, file="File:Shared.jpg", collection="hallwyl", revision=9_000_001)
    armoury = await add_change(db, file="File:Shared.jpg", collection="armoury", revision=9_000_001)
    vase = await add_change(db, file="File:Vase.jpg", collection="armoury")

    async def matching(extra: str) -> set[int]:
        config = make_config(
            f'[[notify]]\nname = "c"\nurls = ["json://127.0.0.1:9/x"]\n{extra}\n', base=TWO_COLLECTIONS
        )
        condition, params = filter_sql(config.notify[0])
        return {row[0] for row in await db.fetchall(f"SELECT id FROM changes WHERE {condition}", params)}

    assert await matching('categories = ["Category:Glass"]') == {hallwyl, vase}
    assert await matching('categories = ["Glass bowls"]') == {hallwyl}
    assert await matching('categories = ["Category:Glass"]\ncollections = ["armoury"]') == {vase}
    assert armoury not in await matching('categories = ["Category:Glass", "Category:Glass bowls"]')
