"""Editor accounts and tags on a real MediaWiki 1.39, against the stand-in's imitation of them.

``list=users&usprop=registration|editcount|groups|blockinfo`` and ``list=tags`` are what the watcher
reads to say who made a change; every other trust test runs on the stand-in, so here its shapes are
held against the real wiki's: the keys each entry has, their types, IPs and unknown names.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tests.mediawiki_real.peer import RealWiki
from tests.support.mediawiki import USER_AGENT
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.accounts import USER_PROPS, accounts, change_tags
from watcher.mediawiki.client import ActionApi

PASSWORD = "trust-0123456789-abcdef"
NAMES = ["Trust Newbie", "Trust Vandal", "Trust Bot", "Trust Nobody", "192.0.2.7"]
TAG = "museum-checked"


def _set_up(wiki: RealWiki) -> None:
    wiki.maint("createAndPromote.php", "--force", "Trust Newbie", PASSWORD)
    wiki.maint("createAndPromote.php", "--force", "Trust Vandal", PASSWORD)
    wiki.maint("createAndPromote.php", "--force", "--bot", "Trust Bot", PASSWORD)
    for n, user in enumerate(("Trust Newbie", "Trust Vandal", "Trust Vandal", "Trust Bot")):
        wiki.edit(f"File:Trust shapes {n}.jpg", f"text {n}", user=user, summary="trust shapes")
    wiki.maint("blockUsers.php", "--reason", "Vandalism", "--expiry", "1 week", stdin="Trust Vandal\n")
    # Already there from an earlier run of the module: addChangeTag then fails, which is harmless here.
    with contextlib.suppress(AssertionError):
        wiki.maint("addChangeTag.php", "--tag", TAG, "--reason", "trust shapes")


def _users_answer(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(u["name"]): u for u in answer["query"]["users"]}


def _shape(entry: dict[str, Any]) -> dict[str, str]:
    return {key: type(value).__name__ for key, value in entry.items() if key != "userid"}


async def test_list_users_as_the_real_wiki_answers_it(real_wiki: RealWiki) -> None:
    _set_up(real_wiki)
    real = _users_answer(
        real_wiki.api(action="query", list="users", ususers="|".join(NAMES), usprop=USER_PROPS)
    )
    peer = ActionApiPeer()
    peer.set_account("Trust Newbie", edits=1, registered="2026-03-01T10:00:00Z")
    peer.set_account(
        "Trust Vandal", edits=2, blocked_since="2026-03-01T11:00:00Z", block_expiry="2026-03-08T11:00:00Z"
    )
    peer.set_account("Trust Bot", edits=1, groups=("bot",))
    imitation = _users_answer(
        peer.answer({"action": "query", "list": "users", "ususers": "|".join(NAMES), "usprop": USER_PROPS,
                     "format": "json", "formatversion": "2"})
    )  # fmt: skip
    assert set(real) == set(imitation) == set(NAMES)
    # An IP is `invalid`, an unknown name `missing`, in both.
    assert real["192.0.2.7"].get("invalid") is True and imitation["192.0.2.7"].get("invalid") is True
    assert real["Trust Nobody"].get("missing") is True and imitation["Trust Nobody"].get("missing") is True
    # Accounts: the same keys with the same types; the block's fields only on the blocked one.
    for name in ("Trust Newbie", "Trust Bot"):
        assert _shape(real[name]) == _shape(imitation[name]), name
    vandal, fake = real["Trust Vandal"], imitation["Trust Vandal"]
    core = (
        "blockid",
        "blockedby",
        "blockedbyid",
        "blockreason",
        "blockedtimestamp",
        "blockexpiry",
        "blockpartial",
    )
    assert {k: type(vandal[k]).__name__ for k in core} == {k: type(fake[k]).__name__ for k in core}
    assert set(_shape(fake)) <= set(_shape(vandal))  # the real wiki may add formatted variants
    assert vandal["blockpartial"] is False and vandal["blockexpiry"] != "infinite"
    assert "bot" in real["Trust Bot"]["groups"] and "*" in real["Trust Bot"]["groups"]

    # And the client reads the real answer as it reads the stand-in's.
    async with ActionApi(real_wiki.api_url, USER_AGENT) as api:
        found = await accounts(api, NAMES)
    newbie, blocked, bot = found["Trust Newbie"], found["Trust Vandal"], found["Trust Bot"]
    assert newbie is not None and newbie.edits is not None and newbie.edits >= 1
    assert newbie.registered is not None and newbie.registered.endswith("Z") and not newbie.blocked
    assert blocked is not None and blocked.blocked and blocked.blocked_since is not None
    assert blocked.block_expiry is not None and blocked.block_expiry.endswith("Z")
    assert bot is not None and "bot" in bot.groups and "*" not in bot.groups
    assert found["Trust Nobody"] is None and found["192.0.2.7"] is None


async def test_list_tags_as_the_real_wiki_answers_it(real_wiki: RealWiki) -> None:
    _set_up(real_wiki)
    params = {"action": "query", "list": "tags", "tgprop": "displayname|description", "tglimit": "max"}
    real = {t["name"]: t for t in real_wiki.api(**params)["query"]["tags"]}
    peer = ActionApiPeer()
    peer.set_tag(TAG, TAG, "")
    fake = {
        t["name"]: t for t in peer.answer({**params, "format": "json", "formatversion": "2"})["query"]["tags"]
    }
    assert TAG in real and "mw-undo" in real
    assert (
        _shape(real[TAG]) == _shape(fake[TAG]) == {"name": "str", "displayname": "str", "description": "str"}
    )
    async with ActionApi(real_wiki.api_url, USER_AGENT) as api:
        described = await change_tags(api)
    assert described[TAG].split("\n")[0] == TAG
    assert described["mw-undo"] == "Undo\nEdits that undo previous edits using the undo link"
    # Descriptions are wikitext: an external link reads as its text.
    assert described["mw-contentmodelchange"].endswith("Edits that change the content model of a page")
