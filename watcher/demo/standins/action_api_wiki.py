"""The mutable in-memory wiki behind the loopback Action API stand-in (:mod:`watcher.demo.standins.action_api`).

Tests, the end-to-end scenario builder and ``watcher demo`` change it through plain methods
(``add_page``, ``edit``, ``move``, ``delete``, ``upload``, ...). Each mutation also writes what
the real wiki would write to its logs and recent changes, so that listings stay consistent.
Categories and templates come from the wikitext (as on the real wiki) plus explicit ones, which
stand for memberships added through templates.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.demo.standins.action_api_titles import (
    REDIRECT_RE,
    InvalidTitle,
    base36,
    iso,
    namespace_of,
    normalize_title,
    parse_links,
    parse_timestamp,
    sha1_hex,
    split_title,
)


@dataclass
class FakeAccount:
    """What the wiki knows of an account beyond its groups (see :meth:`Wiki.set_account`)."""

    registered: str | None
    edits: int | None
    blocked_since: str | None
    block_expiry: str
    block_partial: bool


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass
class FakeRevision:
    revid: int
    pageid: int
    parentid: int
    timestamp: str
    user: str
    comment: str
    wikitext: str
    mediainfo: str | None
    minor: bool = False
    bot: bool = False
    tags: tuple[str, ...] = ()
    texthidden: bool = False
    userhidden: bool = False
    commenthidden: bool = False
    suppressed: bool = False  # hidden from administrators too (watcher.demo.standins.action_api_reverts)

    @property
    def main_sha1(self) -> str:
        return sha1_hex(self.wikitext)

    @property
    def mediainfo_sha1(self) -> str | None:
        return sha1_hex(self.mediainfo) if self.mediainfo is not None else None

    @property
    def sha1(self) -> str:
        return sha1_hex(self.wikitext + (self.mediainfo or ""))

    @property
    def size(self) -> int:
        """Bytes across all slots, like ``rev_len``."""
        return len(self.wikitext.encode("utf-8")) + len((self.mediainfo or "").encode("utf-8"))

    @property
    def roles(self) -> list[str]:
        return ["main", "mediainfo"] if self.mediainfo is not None else ["main"]


@dataclass
class FileVersion:
    sha1: str
    user: str
    timestamp: str
    comment: str


@dataclass
class FakePage:
    pageid: int
    title: str
    revisions: list[FakeRevision] = field(default_factory=list)
    extra_categories: dict[str, str] = field(default_factory=dict)  # added "through templates"
    extra_templates: set[str] = field(default_factory=set)
    files: list[FileVersion] = field(default_factory=list)  # oldest first
    joined: dict[str, str] = field(default_factory=dict)  # category -> when the page joined it

    @property
    def ns(self) -> int:
        return namespace_of(self.title)

    @property
    def latest(self) -> FakeRevision:
        return self.revisions[-1]

    @property
    def redirect_target(self) -> str | None:
        match = REDIRECT_RE.match(self.latest.wikitext)
        if match is None:
            return None
        try:
            return normalize_title(match.group(1))
        except InvalidTitle:
            return None

    def categories(self) -> dict[str, str]:
        """Category title -> sort key (empty for the default)."""
        found = dict(parse_links(self.latest.wikitext)[0])
        for category, sortkey in self.extra_categories.items():
            found.setdefault(category, sortkey)
        return found

    def templates(self) -> set[str]:
        return set(parse_links(self.latest.wikitext)[1]) | self.extra_templates


@dataclass
class LogEntry:
    logid: int
    type: str
    action: str
    title: str
    logpage: int
    user: str
    timestamp: str
    comment: str
    params: dict[str, Any]


@dataclass
class RecentChange:
    rcid: int
    type: str  # edit, new, log, categorize
    title: str
    pageid: int
    user: str
    bot: bool
    timestamp: str
    comment: str
    revid: int = 0
    old_revid: int = 0
    minor: bool = False
    oldlen: int = 0
    newlen: int = 0
    sha1: str | None = None
    log: LogEntry | None = None


class Wiki:
    """Pages with two-slot revisions, categories, templates, files, logs and recent changes."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self.pages: dict[str, FakePage] = {}
        self.revisions: dict[int, FakeRevision] = {}  # visible ones; deleted pages' revisions leave
        self.logs: list[LogEntry] = []
        self.changes: list[RecentChange] = []
        self.entities: dict[str, dict[str, Any]] = {}
        self.user_groups: dict[str, set[str]] = {}  # beyond "*" and "user"; bot-flagged edits add "bot"
        self.accounts: dict[str, FakeAccount] = {}  # registration, edit count and block, where set
        self.tag_messages: dict[str, tuple[str | None, str]] = {}  # tag → (display name HTML, description)
        # File title → the picture (PNG bytes) its upload shows; others show a placeholder. Served from
        # `upload_origin` (the stand-in's own address once it listens): action_api_images.
        self.pictures: dict[str, bytes] = {}
        self.upload_origin = ""
        self._clock = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._ids = {"page": 0, "rev": 1000, "log": 0, "rc": 0}
        self._by_id: dict[int, FakePage] = {}

    # -- helpers ----------------------------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _stamp(self, timestamp: str | None) -> str:
        """The given time, or one minute after the last event; keeps default times increasing."""
        if timestamp is None:
            self._clock += timedelta(minutes=1)
            return iso(self._clock)
        moment = parse_timestamp(timestamp)
        self._clock = max(self._clock, moment)
        return iso(moment)

    def page(self, title: str) -> FakePage:
        return self.pages[normalize_title(title)]

    def page_by_id(self, pageid: int) -> FakePage | None:
        """O(1) through an index that is rebuilt when it is stale (after moves, deletions, new pages)."""
        page = self._by_id.get(pageid)
        if page is None or self.pages.get(page.title) is not page:
            self._by_id = {p.pageid: p for p in self.pages.values()}
            page = self._by_id.get(pageid)
        return page

    def known_users(self) -> dict[str, int]:
        """Every account that edited (with its edit count), belongs to a group or was set up; IP
        addresses are no account however much they edited."""
        counts: dict[str, int] = dict.fromkeys([*self.user_groups, *self.accounts], 0)
        for revision in self.revisions.values():
            if not _is_ip(revision.user):
                counts[revision.user] = counts.get(revision.user, 0) + 1
        for name, account in self.accounts.items():
            if account.edits is not None:
                counts[name] = account.edits
        return counts

    def set_account(
        self,
        user: str,
        *,
        registered: str | None = "2020-01-01T00:00:00Z",
        edits: int | None = None,
        groups: Iterable[str] = (),
        blocked_since: str | None = None,
        block_expiry: str = "infinite",
        block_partial: bool = False,
    ) -> None:
        """An account as ``list=users&usprop=registration|editcount|groups|blockinfo`` reports it:
        ``edits`` None counts its revisions here; ``registered`` None is an account older than 2005."""
        self.accounts[user] = FakeAccount(registered, edits, blocked_since, block_expiry, block_partial)
        if groups:
            self.user_groups[user] = set(groups)

    def set_tag(self, tag: str, displayname: str | None, description: str = "") -> None:
        """A tag as ``list=tags`` gives it: its display name (HTML; None: hidden) and description."""
        self.tag_messages[tag] = (displayname, description)

    def set_groups(self, user: str, *groups: str) -> None:
        """The user's groups as ``list=users&usprop=groups`` reports them (besides ``*`` and ``user``)."""
        self.user_groups[user] = set(groups)

    def _change(
        self, kind: str, title: str, pageid: int, user: str, bot: bool, ts: str, comment: str, **more: Any
    ) -> None:
        self.changes.append(
            RecentChange(self._next("rc"), kind, title, pageid, user, bot, ts, comment, **more)
        )

    def _log(
        self,
        kind: str,
        action: str,
        title: str,
        pageid: int,
        user: str,
        ts: str,
        comment: str,
        params: dict[str, Any],
        *,
        bot: bool = False,
    ) -> LogEntry:
        entry = LogEntry(self._next("log"), kind, action, title, pageid, user, ts, comment, params)
        self.logs.append(entry)
        self._change("log", title, pageid, user, bot, ts, comment, log=entry)
        return entry

    def _revise(
        self,
        page: FakePage,
        wikitext: str,
        mediainfo: str | None,
        user: str,
        comment: str,
        ts: str,
        *,
        minor: bool = False,
        bot: bool = False,
        tags: Iterable[str] = (),
    ) -> FakeRevision:
        parent = page.revisions[-1].revid if page.revisions else 0
        revid = self._next("rev")
        revision = FakeRevision(
            revid, page.pageid, parent, ts, user, comment, wikitext, mediainfo, minor, bot, tuple(tags)
        )
        if bot:  # only accounts in the bot group can flag their edits as bot edits
            self.user_groups.setdefault(user, set()).add("bot")
        page.revisions.append(revision)
        self.revisions[revision.revid] = revision
        return revision

    def _sync_categories(
        self, page: FakePage, before: Mapping[str, str], user: str, bot: bool, ts: str
    ) -> None:
        """Record joins and leaves as ``categorize`` changes, as MediaWiki's job queue would."""
        after = page.categories()
        for category in sorted(set(after) - set(before)):
            page.joined[category] = ts
            self._categorize(page, category, "added to category", user, bot, ts)
        for category in sorted(set(before) - set(after)):
            page.joined.pop(category, None)
            self._categorize(page, category, "removed from category", user, bot, ts)

    def _categorize(self, page: FakePage, category: str, what: str, user: str, bot: bool, ts: str) -> None:
        cat_page = self.pages.get(category)
        cat_id = cat_page.pageid if cat_page else 0
        self._change(
            "categorize",
            category,
            cat_id,
            user,
            bot,
            ts,
            f"[[:{page.title}]] {what}",
            revid=page.latest.revid,
        )

    # -- mutations --------------------------------------------------------------------------------

    def add_page(
        self,
        title: str,
        wikitext: str = "",
        mediainfo: str | Mapping[str, Any] | None = None,
        *,
        user: str = "Example Museum",
        timestamp: str | None = None,
        comment: str = "",
        categories: Iterable[str] = (),
        templates: Iterable[str] = (),
        sha1: str | None = None,
        bot: bool = False,
    ) -> FakeRevision:
        """Create a page. A ``File:`` page is created the way an upload creates it: an upload log entry
        by ``user`` and a first file version (``sha1`` or a made-up one)."""
        ns, title = split_title(title)
        if title in self.pages:
            raise ValueError(f"{title} exists")
        ts = self._stamp(timestamp)
        page = FakePage(self._next("page"), title)
        page.extra_categories = {normalize_title(c, 14): "" for c in categories}
        page.extra_templates = {normalize_title(t, 10) for t in templates}
        self.pages[title] = page
        revision = self._revise(page, wikitext, _slot_json(mediainfo), user, comment, ts, bot=bot)
        if ns == 6:
            self._add_file(page, sha1 or sha1_hex(f"file:{title}:{ts}"), user, ts, comment, "upload", bot)
        else:
            size, sha1 = revision.size, revision.sha1
            self._change(
                "new",
                title,
                page.pageid,
                user,
                bot,
                ts,
                comment,
                revid=revision.revid,
                newlen=size,
                sha1=sha1,
            )
        self._sync_categories(page, {}, user, bot, ts)
        return revision

    def _add_file(
        self, page: FakePage, sha1: str, user: str, ts: str, comment: str, action: str, bot: bool
    ) -> None:
        page.files.append(FileVersion(sha1, user, ts, comment))
        params = {"img_sha1": base36(sha1), "img_timestamp": ts}
        self._log("upload", action, page.title, page.pageid, user, ts, comment, params, bot=bot)

    def edit(
        self,
        title: str,
        wikitext: str | None = None,
        mediainfo: str | Mapping[str, Any] | None = None,
        *,
        user: str = "Example Editor",
        comment: str = "",
        bot: bool = False,
        minor: bool = False,
        timestamp: str | None = None,
        tags: Iterable[str] = (),
    ) -> int:
        """A new revision; a slot left as None keeps its content. Returns the new revid."""
        page = self.page(title)
        before = page.categories()
        old = page.latest
        ts = self._stamp(timestamp)
        new_mediainfo = _slot_json(mediainfo) if mediainfo is not None else old.mediainfo
        new_text = old.wikitext if wikitext is None else wikitext
        if new_text.rstrip() == old.wikitext.rstrip() and new_mediainfo == old.mediainfo:
            return old.revid  # a null edit: MediaWiki makes no revision and no recent change
        revision = self._revise(
            page, new_text, new_mediainfo, user, comment, ts, minor=minor, bot=bot, tags=tags
        )
        sizes = {"oldlen": old.size, "newlen": revision.size, "sha1": revision.sha1}
        ids = {"revid": revision.revid, "old_revid": old.revid}
        self._change("edit", page.title, page.pageid, user, bot, ts, comment, minor=minor, **ids, **sizes)
        self._sync_categories(page, before, user, bot, ts)
        return revision.revid

    def move(
        self,
        old: str,
        new: str,
        *,
        user: str = "Example Mover",
        leave_redirect: bool = True,
        timestamp: str | None = None,
        comment: str = "",
        bot: bool = False,
    ) -> None:
        """Rename a page (it keeps its id and history), leaving a redirect unless told not to."""
        page = self.page(old)
        new_title = normalize_title(new)
        if new_title in self.pages:
            raise ValueError(f"{new_title} exists")
        ts = self._stamp(timestamp)
        del self.pages[page.title]
        old_title, page.title = page.title, new_title
        self.pages[new_title] = page
        latest = page.latest
        note = f"{user} moved page [[{old_title}]] to [[{new_title}]]" + (f": {comment}" if comment else "")
        self._revise(page, latest.wikitext, latest.mediainfo, user, note, ts, minor=True, bot=bot)
        params: dict[str, Any] = {"target_ns": page.ns, "target_title": new_title}
        if not leave_redirect:
            params["suppressredirect"] = True
        self._log("move", "move", old_title, page.pageid, user, ts, comment, params, bot=bot)
        if leave_redirect:
            stub = FakePage(self._next("page"), old_title)
            self.pages[old_title] = stub
            self._revise(stub, f"#REDIRECT [[{new_title}]]", None, user, note, ts, bot=bot)

    def delete(
        self, title: str, *, user: str = "Example Admin", timestamp: str | None = None, comment: str = ""
    ) -> None:
        """Delete a page: lookups say ``missing`` and its revisions become ``badrevids``."""
        page = self.page(title)
        ts = self._stamp(timestamp)
        del self.pages[page.title]
        for revision in page.revisions:
            self.revisions.pop(revision.revid, None)
        # As on the real MediaWiki 1.39, a deletion sends only its log event (no "removed from category").
        self._log("delete", "delete", page.title, page.pageid, user, ts, comment, {})

    def upload(
        self,
        title: str,
        sha1: str,
        *,
        user: str = "Example Museum",
        timestamp: str | None = None,
        comment: str = "",
        wikitext: str = "",
        bot: bool = False,
    ) -> int:
        """Upload a file: a new page (``upload``) or a new version of an existing one (``overwrite``).
        Returns the log id."""
        title = normalize_title(title, 6)
        if namespace_of(title) != 6:
            raise ValueError(f"{title} is not a file")
        if title not in self.pages:
            self.add_page(
                title, wikitext, user=user, timestamp=timestamp, comment=comment, sha1=sha1, bot=bot
            )
            return self.logs[-1].logid
        page = self.pages[title]
        ts = self._stamp(timestamp)
        latest = page.latest
        self._revise(page, latest.wikitext, latest.mediainfo, user, comment, ts, bot=bot)
        self._add_file(page, sha1, user, ts, comment, "overwrite", bot)
        return self.logs[-1].logid

    def add_to_category(
        self,
        title: str,
        category: str,
        *,
        sortkey: str = "",
        user: str = "Example Editor",
        timestamp: str | None = None,
    ) -> None:
        """Membership that is not in the page's own wikitext (as when a template adds it)."""
        page = self.page(title)
        before = page.categories()
        page.extra_categories[normalize_title(category, 14)] = sortkey
        self._sync_categories(page, before, user, False, self._stamp(timestamp))

    def remove_from_category(
        self, title: str, category: str, *, user: str = "Example Editor", timestamp: str | None = None
    ) -> None:
        page = self.page(title)
        before = page.categories()
        page.extra_categories.pop(normalize_title(category, 14), None)
        self._sync_categories(page, before, user, False, self._stamp(timestamp))

    def add_template(self, title: str, template: str) -> None:
        """Transclusion through another template (not visible in the page's wikitext)."""
        self.page(title).extra_templates.add(normalize_title(template, 10))

    def hide(self, revid: int, *, text: bool = False, user: bool = False, comment: bool = False) -> None:
        """Revision deletion of parts of a revision."""
        revision = self.revisions[revid]
        revision.texthidden |= text
        revision.userhidden |= user
        revision.commenthidden |= comment

    def add_entity(
        self,
        entity_id: str,
        labels: Mapping[str, str] = {},
        descriptions: Mapping[str, str] = {},
        claims: Mapping[str, Any] | None = None,
    ) -> None:
        """A Wikidata-style entity for ``wbgetentities`` (so the stand-in can play Wikidata too)."""
        self.entities[entity_id] = {
            "type": {"Q": "item", "P": "property", "L": "lexeme"}.get(entity_id[:1], "item"),
            "id": entity_id,
            "labels": {lang: {"language": lang, "value": v} for lang, v in labels.items()},
            "descriptions": {lang: {"language": lang, "value": v} for lang, v in descriptions.items()},
            "claims": dict(claims or {}),
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Fill the wiki from a JSON-shaped scenario (used by the subprocess mode).

        ``{"pages": [{"title", "wikitext", "mediainfo", "user", "timestamp", "comment", "categories",
        "templates", "sha1", "edits": [{"wikitext", "mediainfo", "user", "comment", "bot", "minor",
        "timestamp", "tags"}]}], "entities": {"Q42": {"labels": {"en": "..."}}},
        "groups": {"Some Bot": ["bot"]}}``
        """
        for user, groups in data.get("groups", {}).items():
            self.set_groups(user, *groups)
        for spec in data.get("pages", []):
            self.add_page(
                spec["title"],
                spec.get("wikitext", ""),
                spec.get("mediainfo"),
                user=spec.get("user", "Example Museum"),
                timestamp=spec.get("timestamp"),
                comment=spec.get("comment", ""),
                categories=spec.get("categories", ()),
                templates=spec.get("templates", ()),
                sha1=spec.get("sha1"),
            )
            for edit in spec.get("edits", []):
                self.edit(
                    spec["title"],
                    edit.get("wikitext"),
                    edit.get("mediainfo"),
                    user=edit.get("user", "Example Editor"),
                    comment=edit.get("comment", ""),
                    bot=bool(edit.get("bot", False)),
                    minor=bool(edit.get("minor", False)),
                    timestamp=edit.get("timestamp"),
                    tags=edit.get("tags", ()),
                )
        for entity_id, spec in data.get("entities", {}).items():
            self.add_entity(
                entity_id, spec.get("labels", {}), spec.get("descriptions", {}), spec.get("claims")
            )


def _slot_json(mediainfo: str | Mapping[str, Any] | None) -> str | None:
    """Slot content is compact JSON text; a mapping is serialised the way Wikibase stores it."""
    if mediainfo is None or isinstance(mediainfo, str):
        return mediainfo
    return json.dumps(mediainfo, ensure_ascii=False, separators=(",", ":"))
