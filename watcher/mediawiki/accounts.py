"""Who made an edit: the editor's account (``list=users``) and the wiki's change tags (``list=tags``).

``list=users&usprop=registration|editcount|groups|blockinfo`` takes 50 names a request and answers each
name once: an account, ``missing`` (no such account) or ``invalid`` (an IP address, a name that cannot
be an account). IP addresses and temporary accounts (``~2025-12345``) are never asked about: their
facts are null by the contract, and looking them up would cost requests for nothing.

``list=tags&tgprop=displayname|description`` names the tools behind ``OAuth CID: N`` tags (the OAuth
extension gives the consumer's name as the display name, as HTML).

An answer that leaves out a requested name raises :class:`~watcher.mediawiki.types.Unanswered`, as for
revisions: a retry later, never "no such account".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.base.tags import plain_text
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.names import is_unregistered, user_name
from watcher.mediawiki.types import Unanswered
from watcher.mediawiki.wire import chunks, listed

__all__ = ["Account", "accounts", "change_tags", "is_unregistered", "user_name"]

USER_PROPS = "registration|editcount|groups|blockinfo"
IMPLICIT_GROUPS = frozenset({"*"})  # every visitor's group, which says nothing


@dataclass(frozen=True, slots=True)
class Account:
    """What ``list=users`` says about one account, as the record's ``editor`` object keeps it."""

    name: str
    registered: str | None  # null for accounts older than MediaWiki's registration field (2005)
    edits: int | None
    groups: tuple[str, ...]
    blocked: bool
    blocked_since: str | None = None
    block_expiry: str | None = None  # "infinite" or an ISO time
    block_partial: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "registered": self.registered,
            "edits": self.edits,
            "groups": list(self.groups),
            "blocked": self.blocked,
            "blocked_since": self.blocked_since,
            "block_expiry": self.block_expiry,
            "block_partial": self.block_partial,
        }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_account(raw: Mapping[str, Any]) -> Account | None:
    """One entry of ``query.users``; None where it is no account (``missing``, ``invalid``)."""
    name = raw.get("name")
    if not isinstance(name, str) or raw.get("missing") or raw.get("invalid"):
        return None
    edits = raw.get("editcount")
    groups = raw.get("groups")
    blocked = "blockid" in raw or "blockedby" in raw
    return Account(
        name=name,
        registered=_text(raw.get("registration")),
        edits=edits if isinstance(edits, int) and not isinstance(edits, bool) else None,
        groups=tuple(str(g) for g in groups if str(g) not in IMPLICIT_GROUPS)
        if isinstance(groups, list)
        else (),
        blocked=blocked,
        blocked_since=_text(raw.get("blockedtimestamp")) if blocked else None,
        block_expiry=_text(raw.get("blockexpiry")) if blocked else None,
        block_partial=bool(raw.get("blockpartial")) if blocked else False,
    )


async def accounts(api: ActionApi, names: Sequence[str]) -> dict[str, Account | None]:
    """Each name's account, or None where the wiki has none (missing, invalid), 50 names a request.

    Keyed by the name as given. IP addresses and temporary accounts are answered None without a
    request. A name the answer does not mention at all raises :class:`Unanswered`.
    """
    out: dict[str, Account | None] = {}
    asked: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        if is_unregistered(name) or not name.strip():
            out[name] = None
        else:
            asked.setdefault(user_name(name), []).append(name)
    for batch in chunks(sorted(asked)):
        params = {"action": "query", "list": "users", "ususers": "|".join(batch), "usprop": USER_PROPS}
        data = await api.request(params)
        answered: dict[str, Account | None] = {}
        for raw in listed(data, "users"):
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                answered[user_name(raw["name"])] = parse_account(raw)
        for canonical in batch:
            if canonical not in answered:
                raise Unanswered(f"the list=users answer named neither {canonical!r} nor its absence")
            for given in asked[canonical]:
                out[given] = answered[canonical]
    return out


async def change_tags(api: ActionApi) -> dict[str, str]:
    """Every tag the wiki defines → its display name and description as text (first line: the name).

    Hidden tags (no display name) keep their description alone. Continued until the list ends.
    """
    params = {"action": "query", "list": "tags", "tgprop": "displayname|description", "tglimit": "max"}
    out: dict[str, str] = {}
    async for data in api.query_continue(params):
        for raw in listed(data, "tags"):
            if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                continue
            shown = raw.get("displayname")
            about = raw.get("description")
            lines = [plain_text(v) for v in (shown, about) if isinstance(v, str) and v.strip()]
            out[raw["name"]] = "\n".join(line for line in lines if line)
    return out
