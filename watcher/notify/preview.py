"""The digest a reader would get: what ``watcher digest`` prints and the demo shows.

For a digest channel the window is :func:`watcher.notify.digest.plan_window`'s, the one ``--send``
uses: the digest due now and not composed yet, exactly as ``--send`` composes it; where none is due,
the next one as it stands (since the last one ended, until now). With ``since``, everything queued
from then until now, which ``--send --since`` sends as it is shown. Each preview says which digest it
is and its window, in the channel's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watcher.base.values import BodyFormat
from watcher.config import Config, NotifyChannel
from watcher.notify.digest import DigestContent, compose, period_label, period_text, plan_window, window_now
from watcher.notify.filters import narrowed
from watcher.notify.render import Presenter
from watcher.notify.schedule import DigestTime
from watcher.store.db import iso_utc
from watcher.store.engine import Store
from watcher.store.open import open_store, store_settings


@dataclass(frozen=True)
class DigestPreview:
    channel: str | None
    heading: str  # one line: which digest, and its window
    window: str  # period_text, as `--send` prints it for the same digest
    content: DigestContent
    due: bool = False  # the scheduled digest due now: `watcher digest --send` sends exactly this


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def _channel_preview(
    db: Store, config: Config, channel: NotifyChannel, since: datetime | None, now: datetime
) -> DigestPreview:
    timing = DigestTime.parse(channel.digest_at, channel.timezone)
    presenter = Presenter(config, timing.zone)
    name = channel.name
    if since is not None:
        end = window_now(now)
        async with db.reading() as conn:
            content = await compose(conn, config, channel, presenter, since, end, db=db)
        window = period_text(since, end, timing.zone)
        heading = f"{name}: {window}; `watcher digest --send --since {iso_utc(since)}` sends these now"
        return DigestPreview(name, heading, window, content)
    if channel.mode == "immediate":
        last = await db.scalar("SELECT max(window_end) FROM notify_digests WHERE channel = ?", (name,))
        start = datetime.fromisoformat(str(last).replace("Z", "+00:00")) if last else now - timedelta(days=1)
        end = window_now(now)
        async with db.reading() as conn:
            content = await compose(conn, config, channel, presenter, start, end, db=db)
        window = period_text(start, end, timing.zone)
        return DigestPreview(
            name, f"{name}: {window} (this channel gets alerts, not digests)", window, content
        )
    async with db.reading() as conn:
        plan = await plan_window(conn, name, timing, now)
        content = await compose(
            conn, config, channel, presenter, plan.start, plan.end, period=plan.period,
            missed=plan.missed, db=db,
        )  # fmt: skip
    window = plan.text(timing.zone)
    label = period_label(plan.period)
    if plan.due:
        heading = (
            f"{name}: the digest for {label}, due since {_local(plan.fire, timing.zone)} and not sent yet: "
            f"{window}; `watcher digest --send` sends exactly this"
        )
    else:
        first = " first" if plan.composed is None else " next"
        heading = (
            f"{name}: the{first} digest, for {label}, goes out {_local(plan.fire, timing.zone)}; "
            f"so far: {window}"
        )
    return DigestPreview(name, heading, window, content, due=plan.due)


def digest_channels(config: Config, channel: NotifyChannel | None) -> list[NotifyChannel]:
    """The channels a preview shows: ``channel``, else every digest channel."""
    return [channel] if channel else [c for c in config.notify if c.mode in ("digest", "both")]


async def preview_digests(
    config: Config,
    channel: NotifyChannel | None,
    since: datetime | None,
    *,
    now: datetime | None = None,
    collections: Sequence[str] | None = None,
) -> list[DigestPreview]:
    """One preview for ``channel``, else one per digest channel (each with its own filters, time zone
    and schedule), else one of every change (no digest channel: nothing would send it).

    ``collections`` (`--collection`) narrows each channel to those of them it takes; a channel that
    takes none of them is left out (:func:`digest_channels` and ``narrowed`` tell which).
    """
    now = now or datetime.now(UTC)
    chosen = digest_channels(config, channel)
    selected = [n for n in (narrowed(c, collections) for c in chosen) if n is not None]
    async with open_store(config.store_location, settings=store_settings(config)) as db:
        if chosen:
            return [await _channel_preview(db, config, c, since, now) for c in selected]
        zone = ZoneInfo(next((c.timezone for c in config.notify), "UTC"))
        if since is None:
            last = await db.scalar("SELECT max(window_end) FROM notify_digests")
            since = (
                datetime.fromisoformat(str(last).replace("Z", "+00:00")) if last else now - timedelta(days=1)
            )
        end = window_now(now)
        everything = NotifyChannel(name="preview", collections=tuple(collections or ()))
        async with db.reading() as conn:
            content = await compose(conn, config, everything, Presenter(config, zone), since, end, db=db)
        window = period_text(since, end, zone)
        heading = f"{window} (no [[notify]] channel has mode digest or both: nothing sends a digest)"
        return [DigestPreview(None, heading, window, content)]


async def preview_digest(
    config: Config, channel: NotifyChannel | None, since: datetime | None, fmt: BodyFormat
) -> str:
    """The previews' bodies in ``fmt``, one after another (the demo's view)."""
    previews = await preview_digests(config, channel, since)
    return "\n".join(p.content.render(fmt) for p in previews)
