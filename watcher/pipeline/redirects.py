"""The wiki's own template redirects (issue 16): names that redirect to the templates the diff reads.

The diff ships a short list of confirmed Commons redirects (``watcher.diff.redirects``); the wiki knows
many more, and they change. The daemon asks once a day for the redirects to the info and location
templates (``prop=redirects`` on the Template namespace, 50 titles a request, continued) and keeps
them in the state table; the fetch worker and `watcher history` read the stored list and give it to
the diff as ``DiffSettings.template_redirects``, so that a page using an old or local name diffs
field by field. A failed look-up keeps the last list (or the built-in one): a redirect list is never
worth losing an edit for, and the stream is never held up for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import aiohttp

from watcher.diff.wikitext import BUILTIN_INFO_TEMPLATES, LOCATION_TEMPLATES
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.mediawiki.types import Unanswered
from watcher.mediawiki.wire import chunks, query_part
from watcher.store import iso_utc
from watcher.store import state as store_state
from watcher.store.engine import Store

log = logging.getLogger("watcher.pipeline")

STATE_KEY = "template_redirects"
MAX_AGE = timedelta(days=1)
RETRY_AFTER = timedelta(hours=1)  # after a failed look-up; the stored (or built-in) list serves meanwhile
TEMPLATE_PREFIX = "Template:"


def redirect_targets(info_templates: Iterable[str]) -> list[str]:
    """The templates whose redirects matter, as ``Template:`` titles: the info templates (built-in
    and configured) and the location templates, each once."""
    names = [*BUILTIN_INFO_TEMPLATES, *info_templates, *LOCATION_TEMPLATES]
    return list(dict.fromkeys(f"{TEMPLATE_PREFIX}{n[:1].upper()}{n[1:]}" for n in names if n))


async def fetch_redirects(api: ActionApi, targets: list[str]) -> dict[str, str]:
    """Redirect name → target name (both without ``Template:``) for every redirect to ``targets``."""
    found: dict[str, str] = {}
    for batch in chunks(targets):
        params: dict[str, str | int] = {
            "action": "query",
            "prop": "redirects",
            "titles": "|".join(batch),
            "rdnamespace": 10,
            "rdprop": "title",
            "rdlimit": "max",
        }
        async for data in api.query_continue(params):
            pages = query_part(data).get("pages")
            if not isinstance(pages, list):  # `{}` is no answer, not "no redirects" (issue 13)
                raise Unanswered("the answer to prop=redirects named none of the templates asked for")
            for page in pages:
                target = str(page.get("title", "")).removeprefix(TEMPLATE_PREFIX)
                for redirect in page.get("redirects", []) or []:
                    name = str(redirect.get("title", "")).removeprefix(TEMPLATE_PREFIX)
                    if name and target and name != target:
                        found[name] = target
    return found


async def stored_redirects(db: Store) -> tuple[dict[str, str], datetime | None]:
    """The stored list and when it was fetched; empty (and None) where there is none or it is unreadable."""
    raw = await store_state.get_state(db, STATE_KEY)
    if not raw:
        return {}, None
    try:
        data = json.loads(raw)
        mapping = {str(k): str(v) for k, v in dict(data["redirects"]).items()}
        return mapping, datetime.fromisoformat(str(data["fetched_at"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        log.warning("the stored template redirect list is unreadable; it is asked for again")
        return {}, None


async def refresh_redirects(db: Store, api: ActionApi, targets: list[str], now: datetime) -> datetime:
    """Fetch and store the list where it is older than a day; when to look again."""
    mapping, fetched_at = await stored_redirects(db)
    if fetched_at is not None and now - fetched_at < MAX_AGE:
        return fetched_at + MAX_AGE
    try:
        mapping = await fetch_redirects(api, targets)
    except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning(
            "cannot fetch the wiki's template redirects (%s); keeping the %d known", exc, len(mapping)
        )
        return now + RETRY_AFTER
    async with db.transaction() as conn:
        value = json.dumps({"fetched_at": iso_utc(now), "redirects": mapping}, ensure_ascii=False)
        await store_state.set_state(conn, STATE_KEY, value)
    log.info(
        "template redirects: %d names redirect to the %d templates the diff reads", len(mapping), len(targets)
    )
    return now + MAX_AGE


async def keep_redirects_current(db: Store, api: ActionApi, info_templates: Iterable[str]) -> None:
    """The daemon's task: the stored list refreshed once a day, until cancelled."""
    targets = redirect_targets(info_templates)
    while True:
        due = await refresh_redirects(db, api, targets, datetime.now(UTC))
        await asyncio.sleep(max(60.0, (due - datetime.now(UTC)).total_seconds()))
