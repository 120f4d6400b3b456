"""``list=`` modules of the Action API stand-in: categorymembers, logevents, embeddedin, recentchanges,
usercontribs, users and tags.

Listings are sorted the way MediaWiki sorts them and cut into pages of ``limit`` items with
an opaque continuation token that names the first item of the next page, so that a client
which builds or alters tokens fails here as it would against the real wiki.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from watcher.demo.standins.action_api_context import Context, UsageError, title_out, token, window
from watcher.demo.standins.action_api_titles import (
    InvalidTitle,
    compact,
    namespace_of,
    normalize_title,
    parse_timestamp,
    text_of,
)
from watcher.demo.standins.action_api_wiki import FakeAccount, FakePage, FakeRevision, LogEntry, RecentChange

_TYPE_ORDER = {"page": 0, "subcat": 1, "file": 2}


def _member_type(page: FakePage) -> str:
    return {14: "subcat", 6: "file"}.get(page.ns, "page")


def _list_categorymembers(ctx: Context) -> list[dict[str, Any]]:
    raw = ctx.get("cmtitle")
    if raw is None:
        raise UsageError("invalidparammix", 'One of the parameters "cmtitle" and "cmpageid" is required.')
    try:
        category = normalize_title(raw)
    except InvalidTitle:
        category = ""
    if namespace_of(category or "x") != 14:
        raise UsageError("invalidcategory", "The category name you entered is not valid.")
    props = ctx.multi(
        "cmprop",
        ("ids", "title", "sortkey", "sortkeyprefix", "type", "timestamp"),
        "ids|title",
        "categorymembers",
    )
    types = ctx.multi("cmtype", tuple(_TYPE_ORDER), "page|subcat|file", "categorymembers")
    sort = ctx.choice("cmsort", ("sortkey", "timestamp"), "sortkey")
    direction = ctx.choice("cmdir", ("asc", "desc", "ascending", "descending", "newer", "older"), "ascending")
    limit = ctx.limit("cmlimit", 10, ctx.max_limit, "categorymembers")
    members = [p for p in ctx.wiki.pages.values() if category in p.categories()]

    def sortkey(page: FakePage) -> str:
        return (page.categories()[category] or text_of(page.title)).upper().encode("utf-8").hex().upper()

    key: Callable[[FakePage], tuple[Any, ...]]
    if sort == "timestamp":  # here cmtype is ignored, as on the real wiki
        start, end = ctx.timestamp("cmstart"), ctx.timestamp("cmend")

        def key(p: FakePage) -> tuple[Any, ...]:
            return (compact(p.joined.get(category, p.latest.timestamp)), p.pageid)

        members = [
            p for p in members if (start is None or key(p)[0] >= start) and (end is None or key(p)[0] <= end)
        ]
        start_at = token(ctx, "cmcontinue", (str, int))
    else:
        members = [p for p in members if _member_type(p) in types]

        def key(p: FakePage) -> tuple[Any, ...]:
            return (_TYPE_ORDER[_member_type(p)], sortkey(p), p.pageid)

        start_at = token(ctx, "cmcontinue", (_TYPE_ORDER.__getitem__, str, int))
    chosen, following = window(
        members, key, start_at, limit, descending=direction in ("desc", "descending", "older")
    )
    if following is not None:
        parts = key(following)
        if sort != "timestamp":
            parts = (_member_type(following), *parts[1:])
        ctx.continue_with("cmcontinue", "|".join(str(p) for p in parts))
    out = []
    for page in chosen:
        item: dict[str, Any] = {}
        if "ids" in props:
            item["pageid"] = page.pageid
        if "title" in props:
            item.update(title_out(page.title))
        if "sortkey" in props:
            item["sortkey"] = sortkey(page).lower()
        if "sortkeyprefix" in props:
            item["sortkeyprefix"] = page.categories()[category]
        if "type" in props:
            item["type"] = _member_type(page)
        if "timestamp" in props:
            item["timestamp"] = page.joined.get(category, page.latest.timestamp)
        out.append(item)
    return out


def _list_logevents(ctx: Context) -> list[dict[str, Any]]:
    props = ctx.multi(
        "leprop",
        ("ids", "title", "type", "user", "timestamp", "comment", "details"),
        "ids|title|type|user|timestamp|comment|details",
        "logevents",
    )
    kind = ctx.get("letype")
    action = ctx.get("leaction")
    user = ctx.get("leuser")
    title = ctx.get("letitle")
    newer = ctx.choice("ledir", ("older", "newer"), "older") == "newer"
    start, end = ctx.timestamp("lestart"), ctx.timestamp("leend")
    limit = ctx.limit("lelimit", 10, ctx.max_limit, "logevents")
    wanted_title = normalize_title(title) if title else None
    entries = [
        e
        for e in ctx.wiki.logs
        if (kind is None or e.type == kind)
        and (action is None or f"{e.type}/{e.action}" == action)
        and (user is None or e.user == normalize_title(user))
        and (wanted_title is None or e.title == wanted_title)
        and _in_range(compact(e.timestamp), start, end, newer)
    ]
    key: Callable[[LogEntry], tuple[Any, ...]] = lambda e: (compact(e.timestamp), e.logid)  # noqa: E731
    chosen, following = window(
        entries, key, token(ctx, "lecontinue", (str, int)), limit, descending=not newer
    )
    if following is not None:
        ctx.continue_with("lecontinue", f"{compact(following.timestamp)}|{following.logid}")
    out = []
    for entry in chosen:
        item: dict[str, Any] = {}
        current = ctx.wiki.pages.get(entry.title)
        if "ids" in props:
            item["logid"] = entry.logid
        if "title" in props:
            item.update(title_out(entry.title))
        if "ids" in props:
            item["pageid"] = current.pageid if current else 0
            item["logpage"] = entry.logpage
        if "details" in props:
            item["params"] = dict(entry.params)
        if "type" in props:
            item["type"] = entry.type
            item["action"] = entry.action
        for prop in ("user", "timestamp", "comment"):
            if prop in props:
                item[prop] = getattr(entry, prop)
        out.append(item)
    return out


def _in_range(stamp: str, start: str | None, end: str | None, newer: bool) -> bool:
    low, high = (start, end) if newer else (end, start)
    return (low is None or stamp >= low) and (high is None or stamp <= high)


def _namespaces(ctx: Context, name: str) -> set[int] | None:
    raw = ctx.get(name)
    if raw is None or raw == "*":
        return None
    return {ctx.integer(name, v) for v in raw.split("|") if v}


def _list_embeddedin(ctx: Context) -> list[dict[str, Any]]:
    raw = ctx.get("eititle")
    if raw is None:
        raise UsageError("invalidparammix", 'One of the parameters "eititle" and "eipageid" is required.')
    try:
        template = normalize_title(raw)
    except InvalidTitle:
        raise UsageError("invalidtitle", f'Bad title "{raw}".') from None
    namespaces = _namespaces(ctx, "einamespace")
    descending = ctx.choice("eidir", ("ascending", "descending"), "ascending") == "descending"
    redirs = ctx.choice("eifilterredir", ("all", "redirects", "nonredirects"), "all")
    limit = ctx.limit("eilimit", 10, ctx.max_limit, "embeddedin")
    pages = [
        p
        for p in ctx.wiki.pages.values()
        if template in p.templates()
        and p.title != template
        and (namespaces is None or p.ns in namespaces)
        and (redirs == "all" or (p.redirect_target is not None) == (redirs == "redirects"))
    ]
    key: Callable[[FakePage], tuple[Any, ...]] = lambda p: (p.ns, p.pageid)  # noqa: E731
    chosen, following = window(pages, key, token(ctx, "eicontinue", (int, int)), limit, descending=descending)
    if following is not None:
        ctx.continue_with("eicontinue", f"{following.ns}|{following.pageid}")
    return [{"pageid": p.pageid, **title_out(p.title)} for p in chosen]


def _list_recentchanges(ctx: Context) -> list[dict[str, Any]]:
    allowed = "user userid comment parsedcomment flags timestamp title ids sizes redirect patrolled loginfo tags sha1"
    props = set(ctx.multi("rcprop", allowed.split(), "title|timestamp|ids", "recentchanges"))
    types = ctx.multi(
        "rctype", ("edit", "new", "log", "categorize", "external"), "edit|new|log|categorize", "recentchanges"
    )
    show = ctx.multi("rcshow", ("bot", "!bot", "minor", "!minor"), "", "recentchanges")
    namespaces = _namespaces(ctx, "rcnamespace")
    user = ctx.get("rcuser")
    newer = ctx.choice("rcdir", ("older", "newer"), "older") == "newer"
    start, end = ctx.timestamp("rcstart"), ctx.timestamp("rcend")
    limit = ctx.limit("rclimit", 10, ctx.max_limit, "recentchanges")
    changes = [
        c
        for c in ctx.wiki.changes
        if c.type in types
        and (namespaces is None or namespace_of(c.title) in namespaces)
        and (user is None or c.user == user)
        and ("bot" not in show or c.bot)
        and ("!bot" not in show or not c.bot)
        and ("minor" not in show or c.minor)
        and ("!minor" not in show or not c.minor)
        and _in_range(compact(c.timestamp), start, end, newer)
    ]
    key: Callable[[RecentChange], tuple[Any, ...]] = lambda c: (compact(c.timestamp), c.rcid)  # noqa: E731
    chosen, following = window(
        changes, key, token(ctx, "rccontinue", (str, int)), limit, descending=not newer
    )
    if following is not None:
        ctx.continue_with("rccontinue", f"{compact(following.timestamp)}|{following.rcid}")
    return [_change_out(c, props) for c in chosen]


def _change_out(change: RecentChange, props: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": change.type}
    if "title" in props:
        out.update(title_out(change.title))
    if "ids" in props:
        out.update(
            {
                "pageid": change.pageid,
                "revid": change.revid,
                "old_revid": change.old_revid,
                "rcid": change.rcid,
            }
        )
    if "user" in props:
        out["user"] = change.user
    if "flags" in props:
        out.update({"bot": change.bot, "new": change.type == "new", "minor": change.minor})
    if "sizes" in props:
        out.update({"oldlen": change.oldlen, "newlen": change.newlen})
    if "timestamp" in props:
        out["timestamp"] = change.timestamp
    if "comment" in props:
        out["comment"] = change.comment
    if "sha1" in props and change.sha1 is not None:
        out["sha1"] = change.sha1
    if "loginfo" in props and change.log is not None:
        out.update(
            {
                "logid": change.log.logid,
                "logtype": change.log.type,
                "logaction": change.log.action,
                "logparams": dict(change.log.params),
            }
        )
    return out


def _list_usercontribs(ctx: Context) -> list[dict[str, Any]]:
    """``list=usercontribs`` for up to 50 users at once, newest first (or oldest with ``ucdir=newer``)."""
    raw_users = ctx.values("ucuser")
    if not raw_users:
        raise UsageError(
            "missingparam", 'One of the parameters "ucuser", "ucuserids" and "ucuserprefix" is required.'
        )
    users = set()
    for raw in raw_users:
        try:
            users.add(normalize_title(raw))
        except InvalidTitle:
            raise UsageError(
                "baduser_ucuser", f'Invalid value "{raw}" for user parameter "ucuser".'
            ) from None
    allowed = "ids title timestamp comment parsedcomment size sizediff flags patrolled tags"
    props = set(
        ctx.multi("ucprop", allowed.split(), "ids|title|timestamp|comment|size|flags", "usercontribs")
    )
    show = ctx.multi("ucshow", ("minor", "!minor", "new", "!new", "top", "!top"), "", "usercontribs")
    namespaces = _namespaces(ctx, "ucnamespace")
    newer = ctx.choice("ucdir", ("older", "newer"), "older") == "newer"
    start, end = ctx.timestamp("ucstart"), ctx.timestamp("ucend")
    limit = ctx.limit("uclimit", 10, ctx.max_limit, "usercontribs")
    found: list[tuple[FakeRevision, FakePage]] = []
    for page in ctx.wiki.pages.values():
        if namespaces is not None and page.ns not in namespaces:
            continue
        for revision in page.revisions:
            if revision.user not in users or revision.userhidden:
                continue
            is_top, is_new = revision is page.latest, revision.parentid == 0
            if (
                ("top" in show and not is_top)
                or ("!top" in show and is_top)
                or ("new" in show and not is_new)
                or ("!new" in show and is_new)
                or ("minor" in show and not revision.minor)
                or ("!minor" in show and revision.minor)
            ):
                continue
            if _in_range(compact(revision.timestamp), start, end, newer):
                found.append((revision, page))
    key: Callable[[tuple[FakeRevision, FakePage]], tuple[Any, ...]] = lambda rp: (  # noqa: E731
        compact(rp[0].timestamp),
        rp[0].revid,
    )
    chosen, following = window(found, key, token(ctx, "uccontinue", (str, int)), limit, descending=not newer)
    if following is not None:
        ctx.continue_with("uccontinue", "|".join(str(p) for p in key(following)))
    return [_contribution_out(revision, page, props) for revision, page in chosen]


def _contribution_out(revision: FakeRevision, page: FakePage, props: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"userid": _user_id(revision.user), "user": revision.user}
    if "ids" in props:
        out.update({"pageid": page.pageid, "revid": revision.revid, "parentid": revision.parentid})
    if "title" in props:
        out.update(title_out(page.title))
    if "timestamp" in props:
        out["timestamp"] = revision.timestamp
    if "comment" in props:
        out.update({"commenthidden": True} if revision.commenthidden else {"comment": revision.comment})
    if "size" in props:
        out["size"] = revision.size
    if "flags" in props:
        out.update({"new": revision.parentid == 0, "minor": revision.minor, "top": revision is page.latest})
    if "tags" in props:
        out["tags"] = list(revision.tags)
    return out


def _user_id(name: str) -> int:
    return sum(map(ord, name)) % 100000  # stable, as prop=revisions' userid in the stand-in


USER_PROPS = ("groups", "editcount", "registration", "blockinfo", "implicitgroups", "rights", "gender")


def _list_users(ctx: Context) -> list[dict[str, Any]]:
    """``list=users``: groups of up to 50 named users; IPs are ``invalid``, unknown names ``missing``.

    As MediaWiki 1.39 answers (checked in tests/mediawiki_real): ``registration`` an ISO time (null for
    accounts from before 2005), ``editcount`` an integer, the block's fields only where blocked.
    """
    props = set(ctx.multi("usprop", USER_PROPS, "", "users"))
    known = ctx.wiki.known_users()
    out: list[dict[str, Any]] = []
    for raw in ctx.values("ususers"):
        try:
            ipaddress.ip_address(raw)
            out.append({"name": raw, "invalid": True})
            continue
        except ValueError:
            pass
        try:
            name = normalize_title(raw)
        except InvalidTitle:
            out.append({"name": raw, "invalid": True})
            continue
        if name not in known:
            out.append({"name": name, "missing": True})
            continue
        item: dict[str, Any] = {"userid": _user_id(name), "name": name}
        if "groups" in props:
            item["groups"] = [*sorted(ctx.wiki.user_groups.get(name, set())), "*", "user"]
        if "editcount" in props:
            item["editcount"] = known[name]
        account = ctx.wiki.accounts.get(name)
        if "registration" in props:
            item["registration"] = account.registered if account is not None else "2020-01-01T00:00:00Z"
        if "blockinfo" in props and account is not None and account.blocked_since is not None:
            item.update(_block_out(account))
        out.append(item)
    return out


def _block_out(account: FakeAccount) -> dict[str, Any]:
    """The block's fields of a ``list=users`` entry, as MediaWiki 1.39 gives them (blockinfo)."""
    return {
        "blockid": 1, "blockedby": "Admin", "blockedbyid": 1, "blockreason": "Vandalism",
        "blockedtimestamp": account.blocked_since, "blockexpiry": account.block_expiry,
        "blockpartial": account.block_partial, "blocknocreate": True, "blockanononly": False,
        "blockedtimestampformatted": _formatted(account.blocked_since),
        "blockexpiryformatted": _formatted(account.block_expiry),
        "blockexpiryrelative": _formatted(account.block_expiry),
    }  # fmt: skip


def _formatted(stamp: str | None) -> str:
    """``14:44, 2 December 2026``: a time as the wiki's user interface writes it."""
    try:
        moment = parse_timestamp(stamp or "")
    except ValueError:
        return stamp or ""
    return f"{moment:%H:%M}, {moment.day} {moment:%B %Y}"


def _list_tags(ctx: Context) -> list[dict[str, Any]]:
    """``list=tags``: every tag set up (:meth:`Wiki.set_tag`) or on a revision, by name, continued."""
    props = set(ctx.multi("tgprop", ("displayname", "description", "hitcount", "defined", "source",
                                     "active"), "", "tags"))  # fmt: skip
    limit = ctx.limit("tglimit", 10, ctx.max_limit, "tags")
    names = set(ctx.wiki.tag_messages)
    for revision in ctx.wiki.revisions.values():
        names.update(revision.tags)
    chosen, following = window(sorted(names), lambda n: (n,), token(ctx, "tgcontinue", (str,)), limit)
    if following is not None:
        ctx.continue_with("tgcontinue", following)
    out: list[dict[str, Any]] = []
    for name in chosen:
        shown, about = ctx.wiki.tag_messages.get(name, (name, ""))
        item: dict[str, Any] = {"name": name}
        if "displayname" in props:
            item["displayname"] = shown if shown is not None else False
        if "description" in props:
            item["description"] = about
        out.append(item)
    return out


LISTERS: dict[str, tuple[str, Callable[[Context], list[dict[str, Any]]]]] = {
    "categorymembers": ("cm", _list_categorymembers),
    "logevents": ("le", _list_logevents),
    "embeddedin": ("ei", _list_embeddedin),
    "recentchanges": ("rc", _list_recentchanges),
    "usercontribs": ("uc", _list_usercontribs),
    "users": ("us", _list_users),
    "tags": ("tg", _list_tags),
}
