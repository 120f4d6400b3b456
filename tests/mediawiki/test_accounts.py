"""Editor accounts (``list=users``) and tag descriptions (``list=tags``) against the loopback stand-in."""

from __future__ import annotations

import pytest

from tests.support.mediawiki import rewrite_answers
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.accounts import USER_PROPS, Account, accounts, change_tags
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.names import is_unregistered
from watcher.mediawiki.types import Unanswered


def test_ip_addresses_and_temporary_accounts_are_no_accounts() -> None:
    for name in ("192.0.2.7", "2001:db8::1", "~2025-12345", "~2026-1234-5"):
        assert is_unregistered(name), name
    for other in ("Alice", "~Tilde fan", "2025 Bot", "Example: 1.2", None, ""):
        assert not is_unregistered(other), other


async def test_accounts_in_one_request_with_their_facts(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.add_page("File:A.jpg", "text")
    peer.set_account("Newbie", registered="2026-02-27T09:00:00Z", edits=12)
    peer.set_account("Veteran", registered="2011-05-04T12:00:00Z", edits=45_000, groups=("autopatrolled",))
    peer.set_account("Pioneer", registered=None, edits=3_000)
    peer.set_account(
        "Vandal", edits=3, blocked_since="2026-03-01T10:00:00Z", block_expiry="2026-03-08T10:00:00Z"
    )
    peer.set_account("Tidy Bot", edits=900_000, groups=("bot",))
    before = len(peer.requests)

    found = await accounts(
        api, ["Newbie", "veteran", "Pioneer", "Vandal", "Tidy_Bot", "Nobody here", "192.0.2.7", "~2025-12345"]
    )

    assert len(peer.requests) - before == 1  # the IP and the temporary account cost nothing
    (request,) = peer.requests[before:]
    assert request.params["usprop"] == USER_PROPS and len(request.params["ususers"].split("|")) == 6
    assert found["Newbie"] == Account("Newbie", "2026-02-27T09:00:00Z", 12, ("user",), False)
    veteran = found["veteran"]  # keyed by the name as given, looked up as MediaWiki spells it
    assert veteran is not None and veteran.name == "Veteran" and veteran.edits == 45_000
    assert "autopatrolled" in veteran.groups and "*" not in veteran.groups
    pioneer = found["Pioneer"]
    assert pioneer is not None and pioneer.registered is None
    vandal = found["Vandal"]
    assert vandal is not None and vandal.blocked and vandal.blocked_since == "2026-03-01T10:00:00Z"
    assert vandal.block_expiry == "2026-03-08T10:00:00Z" and not vandal.block_partial
    assert vandal.as_json() == {
        "registered": "2020-01-01T00:00:00Z", "edits": 3, "groups": ["user"], "blocked": True,
        "blocked_since": "2026-03-01T10:00:00Z", "block_expiry": "2026-03-08T10:00:00Z", "block_partial": False,
    }  # fmt: skip
    bot = found["Tidy_Bot"]
    assert bot is not None and "bot" in bot.groups
    assert found["Nobody here"] is None and found["192.0.2.7"] is None and found["~2025-12345"] is None


async def test_fifty_names_a_request(peer: ActionApiPeer, api: ActionApi) -> None:
    names = [f"Editor {n}" for n in range(120)]
    for name in names:
        peer.set_account(name, edits=5)
    before = len(peer.requests)
    found = await accounts(api, names)
    made = peer.requests[before:]
    assert len(made) == 3 and [len(r.params["ususers"].split("|")) for r in made] == [50, 50, 20]
    assert all(found[n] is not None for n in names)


async def test_an_answer_that_leaves_a_name_out_is_unanswered(
    peer: ActionApiPeer, api: ActionApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    peer.set_account("Alice", edits=5)
    peer.set_account("Bob", edits=5)

    def drop_bob(params: dict[str, str], body: dict[str, object]) -> dict[str, object]:
        query = body.get("query")
        if params.get("list") == "users" and isinstance(query, dict):
            query["users"] = [u for u in query["users"] if u.get("name") != "Bob"]
        return body

    rewrite_answers(peer, monkeypatch, drop_bob)
    with pytest.raises(Unanswered, match="Bob"):
        await accounts(api, ["Alice", "Bob"])


async def test_tag_descriptions_name_the_oauth_tools(peer: ActionApiPeer, api: ActionApi) -> None:
    link = (
        '<a href="/wiki/Special:OAuthListConsumers/view/abc" title="Special:OAuthListConsumers">CropTool</a>'
    )
    peer.set_tag("OAuth CID: 1352", link, "Edits made with CropTool &amp; friends")
    peer.set_tag("hidden-tag", None, "Only for filters")
    peer.max_limit = 2  # four tags: continued over two answers
    peer.add_page("File:A.jpg", "text")
    peer.edit("File:A.jpg", "text 2", user="Alice", tags=("mobile edit", "mw-undo"))
    before = len(peer.requests)
    found = await change_tags(api)
    assert len(peer.requests) - before == 2
    assert found["OAuth CID: 1352"] == "CropTool\nEdits made with CropTool & friends"
    assert found["hidden-tag"] == "Only for filters"
    assert found["mobile edit"] == "mobile edit" and set(found) == {
        "OAuth CID: 1352", "hidden-tag", "mobile edit", "mw-undo",
    }  # fmt: skip
