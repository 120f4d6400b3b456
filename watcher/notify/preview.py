"""The digest a reader would get now: what ``watcher digest`` prints and the demo shows.

Everything since the last digest sent (to one channel, or to any) or since a given time, up to now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watcher.base.values import BodyFormat
from watcher.config import Config, NotifyChannel
from watcher.notify.digest import compose
from watcher.notify.render import Presenter
from watcher.store.db import Database


async def preview_digest(
    config: Config, channel: NotifyChannel | None, since: datetime | None, fmt: BodyFormat
) -> str:
    """The digest of everything since the last digest (or ``since``) up to now, from a reader's view."""
    # Queue times have whole seconds: the window ends after the current second, so it holds them all.
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    filters = channel or NotifyChannel(name="preview")
    zone_name = channel.timezone if channel else next((c.timezone for c in config.notify), "UTC")
    presenter = Presenter(config, ZoneInfo(zone_name))
    async with Database.open(config.database) as db:
        if since is None:
            sql = "SELECT max(window_end) FROM notify_digests"
            params: list[str] = []
            if channel is not None:
                sql += " WHERE channel = ?"
                params.append(channel.name)
            last = await db.scalar(sql, params)
            since = (
                datetime.fromisoformat(str(last).replace("Z", "+00:00")) if last else now - timedelta(days=1)
            )
        content = await compose(db.conn, config, filters, presenter, since, now)
    return content.render(fmt)
