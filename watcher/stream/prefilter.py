"""Decide from an event's raw JSON bytes whether it can concern us, parsing only the few that might.

EventStreams serialises compactly (``"wiki":"commonswiki"``, raw UTF-8, no spaces), so for almost every
event a few ``bytes.find`` calls settle it: about 55 % of the stream is another wiki, and nearly all the
rest are Commons titles we don't track. The byte path only ever rules events *out*; whatever it lets
through is parsed with ``json.loads`` and decided again on the parsed values (wiki, title, canary, and
for upload log events the uploader). Where the bytes can't rule an event out for certain (a key
absent, repeated or written with spaces, an escape such as ``\u00e9`` or ``\"`` in a value) it is
parsed too, so the shortcut does not change the answer:

* A key found by ``find`` is a real key: inside a JSON string every ``"`` is escaped, so ``"wiki":"``
  cannot occur within a value.
* ``wiki``: the *last* compact ``"wiki":"`` is the top-level key when no ``}`` follows it (a nested
  key's object would have to close before the event's final ``}``). EventStreams writes ``wiki`` next
  to last, so that look is short.
* ``title``: the compact ``"title":"`` must occur exactly once, and its value must have no escapes.
* Upload log events (``"log_type":"upload"`` anywhere) whose compact ``"user":"`` is tracked or
  ambiguous are parsed.

One assumption remains: an event is written in one style throughout. An event with compact ``wiki``
and ``title`` keys but a spaced ``"log_type": "upload"`` would have its uploader go unchecked.
"""

from __future__ import annotations

import json
import logging
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from watcher.stream import native
from watcher.stream.titleset import TitleSet, keyed_by_builtin_hash

__all__ = ["Matcher", "Prefilter", "SetMatcher", "TitleSetMatcher"]

log = logging.getLogger("watcher.stream")

_WIKI = b'"wiki":"'
_TITLE = b'"title":"'
_UPLOAD = b'"log_type":"upload"'
_USER = b'"user":"'
_WARN_MALFORMED = 20


class Matcher(Protocol):
    """What the tracking side answers about raw UTF-8 bytes (canonical titles: ``File:`` prefix, spaces)."""

    def title_matches(self, title_utf8: bytes) -> bool:
        """Tracked file titles and tracked category titles (categorize events carry the category)."""
        ...

    def user_matches(self, user_utf8: bytes) -> bool:
        """Tracked uploaders (for upload log events)."""
        ...


@runtime_checkable
class SetMatcher(Matcher, Protocol):
    """A :class:`Matcher` that is a union of :class:`TitleSet` s, which the compiled helper can read
    directly (fetched anew for every chunk: the sets may be replaced or grow between chunks)."""

    def title_sets(self) -> tuple[TitleSet, ...]:
        """The sets whose union :meth:`title_matches` answers for."""
        ...

    def user_sets(self) -> tuple[TitleSet, ...]:
        """The sets whose union :meth:`user_matches` answers for."""
        ...


@dataclass(frozen=True)
class TitleSetMatcher:
    """A :class:`Matcher` over two :class:`TitleSet` (changed in place, never replaced: the prefilter
    holds on to ``titles.contains_utf8``); what the benchmarks and tests use."""

    titles: TitleSet
    users: TitleSet

    def title_matches(self, title_utf8: bytes) -> bool:
        return self.titles.contains_utf8(title_utf8)

    def user_matches(self, user_utf8: bytes) -> bool:
        return self.users.contains_utf8(user_utf8)

    def title_sets(self) -> tuple[TitleSet, ...]:
        return (self.titles,)

    def user_sets(self) -> tuple[TitleSet, ...]:
        return (self.users,)


Tables: TypeAlias = "list[tuple[array[int], int]]"


class Prefilter:
    """Per-event decision for one wiki: which events are candidates, parsed.

    Counters: ``malformed`` (a candidate-looking event that isn't a JSON object), ``canary`` (synthetic
    ``meta.domain == "canary"`` events dropped), ``parsed`` (``json.loads`` calls, for benchmarks).
    """

    __slots__ = (
        "_matcher",
        "_sets",
        "_title_matches",
        "_wiki",
        "_wiki_value",
        "canary",
        "malformed",
        "parsed",
    )

    def __init__(self, wiki: str, matcher: Matcher, *, compiled: bool = True) -> None:
        self._wiki = wiki
        self._wiki_value = wiki.encode() + b'"'
        self._matcher = matcher
        # The compiled helper's byte checks, where it is built and the matcher is made of TitleSets.
        self._sets = matcher if compiled and isinstance(matcher, SetMatcher) else None
        # One call level less on the hot path where the matcher is the plain TitleSet one.
        self._title_matches = (
            matcher.titles.contains_utf8 if type(matcher) is TitleSetMatcher else matcher.title_matches
        )
        self.malformed = 0
        self.canary = 0
        self.parsed = 0

    def check(self, data: bytes) -> dict[str, Any] | None:
        """The parsed event if it is a candidate, else None."""
        hits = self.scan(data, [0, len(data)])
        return hits[0][1] if hits else None

    def scan(
        self, buf: bytes, spans: Sequence[int], stop: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        """Candidates among the events ``buf[spans[2k]:spans[2k + 1]]``, as (start, parsed event).

        One loop for a whole chunk of the stream, hence the hoisted methods and the inlined steps.
        With ``stop``, the scan ends after the first candidate it accepts (events after it are left
        unread, counters included).
        """
        fast = native.fastscan
        if fast is not None and self._sets is not None and keyed_by_builtin_hash():
            return self._scan_compiled(fast.scan, buf, spans, stop)
        out: list[tuple[int, dict[str, Any]]] = []
        find = buf.find
        rfind = buf.rfind
        starts_with = buf.startswith
        wiki_key, title_key, upload = _WIKI, _TITLE, _UPLOAD
        wiki_value = self._wiki_value
        wiki_len = len(wiki_value)
        title_matches = self._title_matches
        candidate = self._candidate
        it = iter(spans)
        for ds in it:
            de = next(it)
            # The last compact "wiki" key is the top-level one when no "}" follows it: a nested key's
            # object would have to close before the event's final "}".
            w = rfind(wiki_key, ds, de) + 8
            if w == 7:
                event = candidate(buf[ds:de])
            elif not starts_with(wiki_value, w):
                # Another wiki, unless an escape in the value could spell ours.
                if find(b"}", w, de - 1) < 0 and find(b"\\", w, w + wiki_len) < 0:
                    continue
                event = candidate(buf[ds:de])
            else:
                t = find(title_key, ds, de) + 9
                if t == 8 or find(title_key, t, de) >= 0:
                    event = candidate(buf[ds:de])
                else:
                    e = find(b'"', t, de)
                    if not (
                        find(b"\\", t, e) >= 0
                        or title_matches(buf[t:e])
                        or (find(upload, ds, de) >= 0 and self._user_may_match(buf, ds, de))
                    ):
                        continue
                    event = candidate(buf[ds:de])
            if event is not None:
                out.append((ds, event))
                if stop is not None and stop(event):
                    break
        return out

    def _scan_compiled(
        self,
        scan: Callable[[bytes, Sequence[int], bytes, Tables, Tables], list[int]],
        buf: bytes,
        spans: Sequence[int],
        stop: Callable[[dict[str, Any]], bool] | None,
    ) -> list[tuple[int, dict[str, Any]]]:
        """:meth:`scan` with the byte checks in C (the same checks: what they let through is parsed
        and decided here exactly as in :meth:`scan`)."""
        assert self._sets is not None
        titles = [s.table() for s in self._sets.title_sets()]
        users = [s.table() for s in self._sets.user_sets()]
        out: list[tuple[int, dict[str, Any]]] = []
        candidate = self._candidate
        for k in scan(buf, spans, self._wiki_value, titles, users):
            ds = spans[k]
            event = candidate(buf[ds : spans[k + 1]])
            if event is not None:
                out.append((ds, event))
                if stop is not None and stop(event):
                    break
        return out

    def _user_may_match(self, buf: bytes, ds: int, de: int) -> bool:
        """For upload log events: the uploader is tracked, or the bytes can't tell without a parse."""
        u = buf.find(_USER, ds, de) + 8
        if u == 7 or buf.find(_USER, u, de) >= 0:
            return True
        e = buf.find(b'"', u, de)
        return buf.find(b"\\", u, e) >= 0 or self._matcher.user_matches(buf[u:e])

    def _parse(self, data: bytes) -> dict[str, Any] | None:
        self.parsed += 1
        try:
            event = json.loads(data)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            self._malformed(f"skipping a malformed event ({exc})", data)
            return None
        if not isinstance(event, dict):
            self._malformed("skipping an event that is not a JSON object", data)
            return None
        return event

    def _malformed(self, what: str, data: bytes) -> None:
        """Count it; log the first few as warnings, the rest at debug (a broken feed must not flood)."""
        self.malformed += 1
        if self.malformed <= _WARN_MALFORMED:
            more = " (further ones are logged at debug level)" if self.malformed == _WARN_MALFORMED else ""
            log.warning("%s: %r%s", what, data[:200], more)
        else:
            log.debug("%s: %r", what, data[:200])

    def _candidate(self, data: bytes) -> dict[str, Any] | None:
        """Parse and decide on the parsed values: the byte path only ever rules events out."""
        event = self._parse(data)
        if event is None or not self._decide(event):
            return None
        return event

    def _decide(self, event: dict[str, Any]) -> bool:
        """The same decision as the byte path, on parsed values."""
        meta = event.get("meta")
        if isinstance(meta, dict) and meta.get("domain") == "canary":
            self.canary += 1
            return False
        if event.get("wiki") != self._wiki:
            return False
        title = event.get("title")
        if isinstance(title, str) and self._title_matches(title.encode("utf-8", "surrogatepass")):
            return True
        user = event.get("user")
        return (
            event.get("type") == "log"
            and event.get("log_type") == "upload"
            and isinstance(user, str)
            and self._matcher.user_matches(user.encode("utf-8", "surrogatepass"))
        )
