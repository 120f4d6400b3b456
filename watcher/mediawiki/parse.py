"""Action API answers → the client's records: revisions with both slots, page info, labels.

Kept apart from :mod:`watcher.mediawiki.client` (the connection and the queries) so each stays short;
what the bulk queries share with it sits in :mod:`watcher.mediawiki.wire`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from watcher.mediawiki.types import PageInfo, PageRef, Revision, Unanswered
from watcher.mediawiki.wire import follow_renames, revision_head

__all__ = ["page_info_of", "page_ref", "parse_revision", "preferred_label"]


def page_ref(member: Any) -> PageRef | None:
    if not isinstance(member, dict) or not isinstance(member.get("title"), str):
        return None
    pageid = member.get("pageid")
    return PageRef(member["title"], int(pageid) if pageid else None)


def parse_revision(page: Mapping[str, Any], raw: Mapping[str, Any]) -> Revision:
    slots = raw.get("slots")
    if not isinstance(slots, dict):
        # Legacy shape (no rvslots): the main slot's fields sit on the revision itself.
        slots = {"main": raw}
    main = slots.get("main") or {}
    mediainfo = slots.get("mediainfo")
    texthidden = bool(raw.get("texthidden") or main.get("texthidden"))
    if isinstance(mediainfo, dict) and mediainfo.get("texthidden"):
        texthidden = True

    def content(slot: Any) -> str | None:
        value = slot.get("content", slot.get("*")) if isinstance(slot, dict) else None
        return value if isinstance(value, str) else None

    def sha1(slot: Any) -> str | None:
        value = slot.get("sha1") if isinstance(slot, dict) else None
        return value if isinstance(value, str) and value else None

    revid, parentid, pageid, title, timestamp = revision_head(page, raw)
    user = raw.get("user")
    comment = raw.get("comment")
    return Revision(
        revid=revid,
        parentid=parentid,
        pageid=pageid,
        title=title,
        timestamp=timestamp,
        user=user if isinstance(user, str) else None,
        comment=comment if isinstance(comment, str) else "",
        tags=tuple(str(t) for t in raw.get("tags") or ()),
        minor=bool(raw.get("minor")),
        size=int(raw.get("size") or 0),
        wikitext=content(main),
        mediainfo=content(mediainfo),
        main_sha1=sha1(main),
        mediainfo_sha1=sha1(mediainfo),
        texthidden=texthidden,
        userhidden=bool(raw.get("userhidden")),
        commenthidden=bool(raw.get("commenthidden")),
    )


def page_info_of(
    asked: str, normalized: Mapping[str, str], redirects: Mapping[str, str], pages: Mapping[str, Any]
) -> PageInfo:
    title = normalized.get(asked, asked)
    target = follow_renames(redirects, title)
    page = pages.get(target)
    redirect_target = target if target != title else None
    if not isinstance(page, dict):  # an answer that says nothing of the title says not that it is missing
        raise Unanswered(f"the API answer named neither {asked} nor its absence")
    missing = bool(page.get("missing") or page.get("invalid"))
    pageid = page.get("pageid")
    lastrevid = page.get("lastrevid")
    return PageInfo(
        title=title,
        pageid=int(pageid) if pageid and not missing else None,
        missing=missing,
        redirect_target=redirect_target,
        lastrevid=int(lastrevid) if lastrevid and not missing else None,
    )


def preferred_label(entity: Any, languages: Sequence[str]) -> str | None:
    if not isinstance(entity, dict):
        return None
    labels = entity.get("labels")
    if not isinstance(labels, dict):  # an empty map may come as [] (T222159)
        return None
    for language in languages:
        label = labels.get(language)
        if isinstance(label, dict) and isinstance(label.get("value"), str):
            return str(label["value"])
    return None
