"""Typed results and errors of the Action API client (:mod:`watcher.mediawiki.client`).

Kept apart from the client so that the diff engine, the store and the daemon can import the
record types without pulling in aiohttp.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")


class ApiError(Exception):
    """An Action API call that failed for good: an API error code, an HTTP error, or retries exhausted.

    ``code`` is the API's error code (``maxlag``, ``badvalue``, ...) or ``http-<status>``,
    ``network`` and ``badjson`` for failures below the API.
    """

    def __init__(self, code: str, info: str, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {info}")
        self.code = code
        self.info = info
        self.http_status = http_status


class Unanswered(ApiError):
    """A valid answer that leaves out something that was asked for without saying it is gone.

    ``{}``, an answer without ``query``, a page list short of a requested id: a proxy, a redirect or
    a broken replica answered, not MediaWiki. It is a failure to retry later, never proof of deletion.
    """

    def __init__(self, info: str) -> None:
        super().__init__("unanswered", info)


@dataclass(frozen=True, slots=True)
class PageRef:
    """A page as a listing gives it: the title then (spaces, ``File:`` prefix) and its id where known."""

    title: str
    pageid: int | None


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What ``prop=info&redirects=1`` says about one requested title.

    ``title`` is the requested title as the API normalised it. Where it was a redirect,
    ``redirect_target`` is the title finally reached, and ``pageid``/``lastrevid``/``missing``
    describe that target page.
    """

    title: str
    pageid: int | None
    missing: bool
    redirect_target: str | None
    lastrevid: int | None


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision with both slots, as ``prop=revisions&rvslots=*`` returns it.

    ``mediainfo`` is the raw JSON text of the mediainfo slot (``None`` before the file ever had
    structured data). Revision-deleted parts come back as ``None``/empty with the ``*hidden`` flag set.
    """

    revid: int
    parentid: int
    pageid: int
    title: str
    timestamp: str
    user: str | None
    comment: str
    tags: tuple[str, ...]
    minor: bool
    size: int
    wikitext: str | None
    mediainfo: str | None
    main_sha1: str | None
    mediainfo_sha1: str | None
    texthidden: bool
    userhidden: bool
    commenthidden: bool = False


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A file's thumbnail as ``prop=imageinfo&iiprop=url&iiurlwidth=N`` gives it for the current version.

    ``url`` is the API's ``thumburl`` (on Commons, a ``upload.wikimedia.org/…/thumb/…`` address);
    ``width``/``height`` are the thumbnail's, where the answer said.
    """

    title: str
    url: str
    width: int | None
    height: int | None


class Revisions(dict[int, R]):
    """The revisions an answer held, keyed by revid, and ``gone``: the requested revids it said are gone.

    A revid is gone only where the API named it: a ``badrevids`` entry for exactly that id, or its
    revision or page flagged ``missing``/``deleted``. A requested revid that is in neither was not
    answered, and :meth:`unanswered` lists those; this is the one place that tells the two apart.
    ``R`` is :class:`Revision` (with content) or :class:`RevisionMeta` (without).
    ``thumbnails`` holds the pages' thumbnails, by title, where the request asked for them.
    """

    def __init__(
        self,
        found: Mapping[int, R] | None = None,
        gone: Iterable[int] = (),
        thumbnails: Mapping[str, Thumbnail] | None = None,
    ) -> None:
        super().__init__(found or {})
        self.gone = frozenset(r for r in gone if r not in self)
        self.thumbnails: dict[str, Thumbnail] = dict(thumbnails or {})

    def unanswered(self, revids: Iterable[int]) -> list[int]:
        """The revids the answer named neither as found nor as gone, in the order given."""
        return [r for r in dict.fromkeys(revids) if r not in self and r not in self.gone]


def unanswered_message(revids: Iterable[int]) -> str:
    """Why revisions that an answer left out are not taken for deleted, for logs and inbox rows."""
    named = [f"r{r}" for r in revids]
    if len(named) == 1:
        return f"the API answer named neither {named[0]} nor its removal"
    return f"the API answer named neither {', '.join(named)} nor their removal"


@dataclass(frozen=True, slots=True)
class RevisionMeta:
    """A revision without content (``rvprop=ids|timestamp|user|tags``): enough to walk a page's history.

    ``user`` is None where the name was revision-deleted. ``parentid`` is 0 for a page's first revision.
    ``tags`` are its change tags (what history mode's records carry); a walk stored before they were
    asked for reads back without them.
    """

    revid: int
    parentid: int
    pageid: int
    title: str
    timestamp: str
    user: str | None
    tags: tuple[str, ...] = ()

    def as_json(self) -> list[Any]:
        head = [self.revid, self.parentid, self.pageid, self.title, self.timestamp, self.user]
        return [*head, list(self.tags)] if self.tags else head

    @classmethod
    def from_json(cls, value: list[Any]) -> RevisionMeta:
        revid, parentid, pageid, title, timestamp, user = value[:6]
        tags = tuple(str(t) for t in value[6]) if len(value) > 6 and isinstance(value[6], list) else ()
        return cls(int(revid), int(parentid), int(pageid), str(title), str(timestamp), user, tags)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One row of ``list=usercontribs`` (``ucprop=ids|title|timestamp|flags``)."""

    revid: int
    parentid: int
    pageid: int
    title: str
    timestamp: str
    user: str
    top: bool

    @property
    def meta(self) -> RevisionMeta:
        return RevisionMeta(self.revid, self.parentid, self.pageid, self.title, self.timestamp, self.user)


@dataclass(slots=True)
class ApiStats:
    """Counters for status and metrics; ``requests`` counts HTTP attempts, retries included."""

    requests: int = 0
    retries: int = 0
    errors: int = 0
    last_error: str | None = None
    total_latency: float = 0.0

    @property
    def mean_latency(self) -> float:
        return self.total_latency / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "errors": self.errors,
            "last_error": self.last_error,
            "total_latency": self.total_latency,
            "mean_latency": self.mean_latency,
        }
