"""Async client for the MediaWiki Action API (Commons, and Wikidata for labels).

Wikimedia's API etiquette is part of correctness here: one connection, strictly serial requests,
``maxlag=5`` on non-interactive calls, an identifying User-Agent, gzip, and patient backoff on
lag, 429 and 5xx. A daemon that ignores these gets blocked, which is a worse outage than a slow one.

What comes back is not trusted to be MediaWiki's: no redirect is followed (the answer would come from
another server), a body is read up to :data:`MAX_BODY_BYTES` and no further, and an answer that leaves
out what was asked without saying it is gone raises :class:`Unanswered` (see :mod:`.wire`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp

from watcher.base.retry import EQUAL_JITTER, Backoff, parse_retry_after
from watcher.mediawiki.answers import first_error, labels_by_language, log_warnings, snippet, thumbnail_of
from watcher.mediawiki.parse import page_info_of, page_ref, parse_revision
from watcher.mediawiki.types import (
    ApiError,
    ApiStats,
    PageInfo,
    PageRef,
    Revision,
    Revisions,
    Thumbnail,
    Unanswered,
)
from watcher.mediawiki.wire import (
    BATCH_SIZE,
    chunks,
    gone_revids,
    listed,
    named_pages,
    query_part,
    revision_entries,
)

__all__ = [
    "ActionApi", "ApiError", "ApiStats", "PageInfo", "PageRef", "Revision", "Revisions", "Thumbnail", "Unanswered",
]  # fmt: skip

log = logging.getLogger(__name__)

Params = Mapping[str, str | int]
SleepFn = Callable[[float], Awaitable[None]]

MAX_GET_URL = 2000  # longer requests go as POST; reads are fine either way
MAXLAG_MIN_PAUSE = 5.0  # Manual:Maxlag parameter: pause at least 5 s
BACKOFF_BASE = 1.0
BACKOFF_MAX = 120.0
BACKOFF_CODES = frozenset({"ratelimited", "apierror-concurrency-limit"})
REVISION_PROPS = "ids|timestamp|user|comment|tags|flags|size|slotsha1|content|contentmodel|roles"
RC_PROPS = "title|ids|sizes|flags|user|timestamp|comment|loginfo|sha1"
# The largest answer read: 50 revisions with both slots are a few MB at most; past this, reading on
# only fills memory (a hostile or broken server streaming without end), so the attempt fails instead.
MAX_BODY_BYTES = 64 * 1024 * 1024
READ_CHUNK = 64 * 1024


class _Retry(Exception):
    """A failed attempt worth repeating; ``wait`` is the server's demand, if it made one."""

    def __init__(self, code: str, info: str, http_status: int | None, wait: float | None = None) -> None:
        super().__init__(f"{code}: {info}")
        self.code = code
        self.info = info
        self.http_status = http_status
        self.wait = wait


def _stop_if_cancelling() -> None:
    """Raise CancelledError when the running task is being cancelled.

    A cancel (SIGINT, shutdown) can be swallowed below us: aiohttp may surface it as a connection error
    or a timeout, and under CPU load a SIGINT'ed `watcher history` once ran on to the end. A task being
    cancelled is therefore stopped at its next request, and a "network error" it meets is no retry.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _prefixed(title: str, namespace: str) -> str:
    """``X`` or ``namespace:X`` with underscores as spaces and a capital first letter (Commons' rule)."""
    title = " ".join(title.replace("_", " ").split())
    head, sep, rest = title.partition(":")
    if sep and head.strip().lower() == namespace.lower():
        title = rest.strip()
    return f"{namespace}:{title[:1].upper()}{title[1:]}"


class ActionApi:
    """One wiki's ``api.php``: serial, polite, retrying. Use one instance per wiki and share it."""

    def __init__(
        self,
        api_url: str,
        user_agent: str,
        *,
        session: aiohttp.ClientSession | None = None,
        maxlag: int | None = 5,
        max_retries: int = 6,
        sleep: SleepFn = asyncio.sleep,
        timeout: float = 60,
        backoff_base: float = BACKOFF_BASE,
        backoff_max: float = BACKOFF_MAX,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("a User-Agent is required by Wikimedia's policy")
        self.api_url = api_url
        self.user_agent = user_agent
        self.maxlag = maxlag
        self.max_retries = max_retries
        self.max_body = max_body
        self.stats = ApiStats()
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._backoff = Backoff(backoff_base, backoff_max, jitter=EQUAL_JITTER)
        self._lock = asyncio.Lock()
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip"}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily so that constructing the client needs no running loop.
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the ClientSession given to ActionApi is closed")
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
        return self._session

    # -- one call ---------------------------------------------------------------------------------

    async def request(self, params: Params, *, interactive: bool = False) -> dict[str, Any]:
        """One API call with the shared parameters, serialised with every other call, retried politely.

        ``interactive`` leaves out ``maxlag``, for calls a person is waiting on.
        """
        full = {key: str(value) for key, value in params.items()}
        full["format"] = "json"
        full["formatversion"] = "2"
        if interactive:
            full.pop("maxlag", None)
        elif self.maxlag is not None:
            full["maxlag"] = str(self.maxlag)
        async with self._lock:
            return await self._with_retries(full)

    async def _with_retries(self, params: dict[str, str]) -> dict[str, Any]:
        retries = 0
        while True:
            try:
                return await self._attempt(params)
            except _Retry as failure:
                self._note_error(f"{failure.code}: {failure.info}")
                if retries >= self.max_retries:
                    raise ApiError(
                        failure.code, f"{failure.info} (gave up after {retries} retries)", failure.http_status
                    ) from None
                delay = self._delay(failure, retries)
                retries += 1
                self.stats.retries += 1
                log.warning(
                    "%s: %s; retry %d/%d in %.1f s",
                    params.get("action"),
                    failure,
                    retries,
                    self.max_retries,
                    delay,
                )
                await self._sleep(delay)
            except ApiError as error:
                self._note_error(f"{error.code}: {error.info}")
                raise

    def _note_error(self, text: str) -> None:
        self.stats.errors += 1
        self.stats.last_error = text

    def _delay(self, failure: _Retry, retries: int) -> float:
        """Exponential backoff with jitter, but never shorter than what the server asked for."""
        if failure.code == "maxlag":
            return max(MAXLAG_MIN_PAUSE, failure.wait or 0.0) + random.uniform(0, 1)
        if failure.wait is not None:
            return failure.wait + random.uniform(0, min(1.0, failure.wait / 10 + 0.1))
        return self._backoff.delay(retries)

    async def _attempt(self, params: dict[str, str]) -> dict[str, Any]:
        _stop_if_cancelling()
        session = self._get_session()
        query = urlencode(params)
        use_post = len(self.api_url) + 1 + len(query) > MAX_GET_URL
        started = time.perf_counter()
        self.stats.requests += 1
        # Redirects are never followed, to the same host either: api_url is meant to be the final
        # address, and a redirected answer would come from a server nobody configured (see _interpret).
        options: dict[str, Any] = {
            "headers": self._headers,
            "timeout": self._timeout,
            "allow_redirects": False,
        }
        try:
            if use_post:
                response_cm = session.post(self.api_url, data=params, **options)
            else:
                response_cm = session.get(self.api_url, params=params, **options)
            async with response_cm as response:
                status = response.status
                headers = response.headers
                body = await self._read_capped(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            _stop_if_cancelling()
            raise _Retry("network", f"{type(exc).__name__}: {exc}".rstrip(": "), None) from exc
        finally:
            self.stats.total_latency += time.perf_counter() - started
        return self._interpret(status, headers, body)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytearray:
        """The (decompressed) body, read in chunks; more than ``max_body`` bytes fail the attempt and the
        rest is never read, so no answer can hold more than the cap in memory."""
        declared = response.content_length
        limit = f"the {self.max_body:,}-byte limit of an answer"
        if declared is not None and declared > self.max_body:
            raise ApiError(
                "toolarge",
                f"the API at {self.api_url} announced {declared:,} bytes, more than {limit}; not read",
                response.status,
            )
        body = bytearray()
        async for chunk in response.content.iter_chunked(READ_CHUNK):
            if len(body) + len(chunk) > self.max_body:
                raise ApiError(
                    "toolarge",
                    f"the API at {self.api_url} sent more than {limit}; stopped reading",
                    response.status,
                )
            body += chunk
        return body

    def _interpret(self, status: int, headers: Mapping[str, str], body: bytes | bytearray) -> dict[str, Any]:
        """The JSON object of an answer, or the failure it is: _Retry where waiting helps, else ApiError.

        A 3xx is an ApiError: the client follows no redirect (not even to the same host), because the
        answer would come from a server that is not the configured api_url.
        """
        wait = parse_retry_after(headers.get("Retry-After"))
        header_code = headers.get("MediaWiki-API-Error")
        if 300 <= status < 400:
            target = headers.get("Location") or "an unnamed address"
            raise ApiError(
                "redirect", f"the API at {self.api_url} redirected to {target}; not followed", status
            )
        if status == 503 and headers.get("X-Database-Lag"):  # how MediaWiki before 1.27 sent maxlag
            raise _Retry("maxlag", f"HTTP 503 with X-Database-Lag: {headers['X-Database-Lag']}", status, wait)
        if status == 429 or status >= 500:
            raise _Retry(f"http-{status}", snippet(body) or f"HTTP {status}", status, wait)
        if status != 200:
            raise ApiError(header_code or f"http-{status}", snippet(body) or f"HTTP {status}", status)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if header_code == "maxlag":
                raise _Retry("maxlag", "replication lag (unreadable body)", status, wait)
            raise _Retry("badjson", f"not a JSON object: {snippet(body)!r}", status, wait)
        error = first_error(data)
        if error is not None:
            code, info = error
            if code == "maxlag":
                lag = headers.get("X-Database-Lag")
                raise _Retry(code, f"{info} (X-Database-Lag: {lag})" if lag else info, status, wait)
            if code in BACKOFF_CODES:
                raise _Retry(code, info, status, wait)
            raise ApiError(code, info, status)
        log_warnings(data)
        return data

    # -- continuation -----------------------------------------------------------------------------

    async def query_continue(
        self, params: Params, *, interactive: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Each response of a continued query (API:Continue): every ``continue`` key merged into the
        original request, until a response has none. Continue values are never built by hand."""
        previous: dict[str, Any] | None = None
        request: dict[str, str | int] = dict(params)
        while True:
            data = await self.request(request, interactive=interactive)
            yield data
            cont = data.get("continue")
            if not isinstance(cont, dict) or not cont:
                return
            if cont == previous:
                raise ApiError("continueloop", f"the API returned the same continuation twice: {cont}")
            previous = cont
            request = {**params, **{str(k): str(v) for k, v in cont.items()}}

    # -- revisions --------------------------------------------------------------------------------

    async def revisions(
        self, revids: Sequence[int], *, thumb_width: int | None = None
    ) -> Revisions[Revision]:
        """Both slots of each revision, keyed by revid; ``gone`` holds the revids the API named as
        deleted or unknown (``badrevids``). Revids in neither were not answered (``unanswered()``):
        the caller retries those rather than taking them for deleted.

        With ``thumb_width``, the same request asks for each page's thumbnail of that width
        (``prop=imageinfo&iiprop=url&iiurlwidth=N``, the current file version), in ``thumbnails``:
        no request of its own, and at most 50 pages a request, the API's limit for scaled images.
        """
        wanted = list(dict.fromkeys(int(r) for r in revids))
        found: dict[int, Revision] = {}
        gone: set[int] = set()
        thumbnails: dict[str, Thumbnail] = {}
        for batch in chunks(wanted):
            params: dict[str, str | int] = {
                "action": "query",
                "prop": "revisions",
                "revids": "|".join(str(r) for r in batch),
                "rvslots": "*",
                "rvprop": REVISION_PROPS,
            }
            if thumb_width is not None:
                params.update(prop="revisions|imageinfo", iiprop="url", iiurlwidth=int(thumb_width))
            async for data in self.query_continue(params):
                for page, raw in revision_entries(data):
                    revision = parse_revision(page, raw)
                    found[revision.revid] = revision
                gone |= gone_revids(data)
                if thumb_width is not None:
                    thumbnails.update((t.title, t) for t in map(thumbnail_of, named_pages(data)) if t)
        return Revisions(found, gone & set(wanted), thumbnails)

    # -- tracked-set resolution -------------------------------------------------------------------

    async def subcategories(self, category: str, depth: int) -> list[str]:
        """The category and its subcategories down to ``depth`` levels, each once (graphs have cycles)."""
        root = _prefixed(category, "Category")
        found = [root]
        visited = {root}
        frontier = [root]
        for _ in range(max(depth, 0)):
            next_frontier: list[str] = []
            for parent in frontier:
                params = {
                    "action": "query",
                    "list": "categorymembers",
                    "cmtitle": parent,
                    "cmtype": "subcat",
                    "cmprop": "ids|title",
                    "cmlimit": "max",
                }
                async for data in self.query_continue(params):
                    for member in listed(data, "categorymembers"):
                        title = member.get("title") if isinstance(member, dict) else None
                        if isinstance(title, str) and title not in visited:
                            visited.add(title)
                            found.append(title)
                            next_frontier.append(title)
            if not next_frontier:
                break
            frontier = next_frontier
        return found

    async def category_members(
        self, category: str, *, depth: int = 0, progress: Callable[[int], None] | None = None
    ) -> AsyncIterator[PageRef]:
        """Files in the category (and its subcategories to ``depth``), each once; ``progress`` gets the
        running count after every response, for a start-up log line on large categories."""
        categories = (
            await self.subcategories(category, depth) if depth > 0 else [_prefixed(category, "Category")]
        )
        seen: set[str] = set()
        for cat in categories:
            params = {
                "action": "query",
                "list": "categorymembers",
                "cmtitle": cat,
                "cmtype": "file",
                "cmprop": "ids|title",
                "cmlimit": "max",
            }
            async for data in self.query_continue(params):
                for member in listed(data, "categorymembers"):
                    ref = page_ref(member)
                    if ref is not None and ref.title not in seen:
                        seen.add(ref.title)
                        yield ref
                if progress is not None:
                    progress(len(seen))

    async def uploads_by(self, user: str) -> AsyncIterator[PageRef]:
        """Files the user first uploaded (``action == "upload"``; overwrites and reverts are not theirs).

        Titles are as logged (a later move is not followed); ``pageid`` is the page created by the
        upload, which survives moves.
        """
        name = user.split(":", 1)[1] if user.lower().startswith("user:") else user
        params = {
            "action": "query",
            "list": "logevents",
            "letype": "upload",
            "leuser": name.replace("_", " ").strip(),
            "leprop": "ids|title|type",
            "lelimit": "max",
        }
        seen: set[str] = set()
        async for data in self.query_continue(params):
            for entry in listed(data, "logevents"):
                if not isinstance(entry, dict) or entry.get("action") != "upload":
                    continue
                title = entry.get("title")
                if not isinstance(title, str) or title in seen:
                    continue
                seen.add(title)
                pageid = entry.get("logpage") or entry.get("pageid") or None
                yield PageRef(title, int(pageid) if pageid else None)

    async def embedded_in(self, template: str) -> AsyncIterator[PageRef]:
        """File pages that transclude the template, directly or through other templates."""
        params: dict[str, str | int] = {
            "action": "query",
            "list": "embeddedin",
            "eititle": _prefixed(template, "Template"),
            "einamespace": 6,
            "eilimit": "max",
        }
        async for data in self.query_continue(params):
            for member in listed(data, "embeddedin"):
                ref = page_ref(member)
                if ref is not None:
                    yield ref

    async def page_info(self, titles: Sequence[str], *, batch_size: int = BATCH_SIZE) -> dict[str, PageInfo]:
        """Page id, existence and redirect target of each title, keyed by the title as requested.

        ``missing`` only where the API said so (a page flagged missing or invalid, an interwiki title);
        an answer that does not name a requested title raises :class:`Unanswered`. ``batch_size``
        titles a request: 50, or up to 500 for an account with ``apihighlimits``.
        """
        wanted = list(dict.fromkeys(titles))
        result: dict[str, PageInfo] = {}
        for batch in chunks(wanted, batch_size):
            params: dict[str, str | int] = {
                "action": "query",
                "prop": "info",
                "titles": "|".join(batch),
                "redirects": 1,
            }
            normalized: dict[str, str] = {}
            redirects: dict[str, str] = {}
            pages: dict[str, dict[str, Any]] = {}
            async for data in self.query_continue(params):
                query = query_part(data)
                normalized.update({n["from"]: n["to"] for n in query.get("normalized", [])})
                redirects.update({r["from"]: r["to"] for r in query.get("redirects", [])})
                pages.update({p["title"]: p for p in named_pages(data) if "title" in p})
                for interwiki in query.get("interwiki", []):  # not a page here: missing, as named
                    if isinstance(interwiki, dict) and isinstance(interwiki.get("title"), str):
                        pages.setdefault(interwiki["title"], {"title": interwiki["title"], "missing": True})
            for asked in batch:
                result[asked] = page_info_of(asked, normalized, redirects, pages)
        return result

    async def file_sha1(self, title: str) -> str | None:
        """SHA-1 (40 hex digits) of the file's latest version, or None where the answer says there is no
        file; an answer that names no page at all raises :class:`Unanswered`."""
        params = {"action": "query", "prop": "imageinfo", "iiprop": "sha1", "titles": title}
        data = await self.request(params)
        pages = named_pages(data)
        if not pages:
            raise Unanswered(f"the API answer named neither {title} nor its absence")
        for page in pages:
            for info in page.get("imageinfo") or []:
                sha1 = info.get("sha1") if isinstance(info, dict) else None
                if isinstance(sha1, str) and sha1:
                    return sha1
        return None

    async def recent_changes(
        self,
        *,
        start: str,
        end: str | None = None,
        namespace: int | Sequence[int] | None = 6,
        types: Sequence[str] = ("edit", "new", "log", "categorize"),
    ) -> AsyncIterator[dict[str, Any]]:
        """Recent changes from ``start`` onwards, oldest first, for catch-up after a long outage.

        Note that ``categorize`` rows belong to the category page (namespace 14), so pass
        ``namespace=(6, 14)`` or ``None`` to see them.
        """
        params: dict[str, str | int] = {
            "action": "query",
            "list": "recentchanges",
            "rcstart": start,
            "rcdir": "newer",
            "rcprop": RC_PROPS,
            "rctype": "|".join(types),
            "rclimit": "max",
        }
        if end is not None:
            params["rcend"] = end
        if isinstance(namespace, int):
            params["rcnamespace"] = namespace
        elif namespace is not None:
            params["rcnamespace"] = "|".join(str(n) for n in namespace)
        async for data in self.query_continue(params):
            for change in listed(data, "recentchanges"):
                if isinstance(change, dict):
                    yield change

    async def entity_labels(self, ids: Sequence[str], languages: Sequence[str]) -> dict[str, str]:
        """Each entity's label in the first language of ``languages`` that has one; ids with none are absent."""
        by_language = await self.entity_labels_by_language(ids, languages)
        first = {
            key: next((found[lang] for lang in languages if lang in found), None)
            for key, found in by_language.items()
        }
        return {key: label for key, label in first.items() if label is not None}

    async def entity_labels_by_language(
        self, ids: Sequence[str], languages: Sequence[str]
    ) -> dict[str, dict[str, str]]:
        """Each named entity's labels in ``languages`` (``wbgetentities&props=labels``, 50 ids a
        request, in series): language → text, ``{}`` for an entity with none of them or a missing one.
        A redirected id gets its target's labels under both ids. Ids the answer did not name are absent."""
        wanted = list(dict.fromkeys(ids))
        labels: dict[str, dict[str, str]] = {}
        if not languages:
            return labels
        for batch in chunks(wanted):
            params = {
                "action": "wbgetentities",
                "ids": "|".join(batch),
                "props": "labels",
                "languages": "|".join(languages),
            }
            data = await self.request(params)
            entities = data.get("entities")
            if not isinstance(entities, dict):  # wbgetentities always sends it, {} included
                raise Unanswered(f"the wbgetentities answer holds no entities (asked for {len(batch)} ids)")
            for key, entity in entities.items():
                found = labels_by_language(entity, languages)
                labels[str(key)] = found
                redirect = entity.get("redirects") if isinstance(entity, dict) else None
                if isinstance(redirect, dict) and isinstance(redirect.get("from"), str):
                    labels[redirect["from"]] = found
        return labels
