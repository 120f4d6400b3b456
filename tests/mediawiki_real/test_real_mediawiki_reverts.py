"""Reverts and revision deletion on a real MediaWiki 1.39, against the stand-in's imitation of them.

The same story is told on both: an edit, a vandal's two edits rolled back, three edits with the
middle one undone, a manual revert by a third user, the vandal's revisions hidden (one of them
suppressed). The stand-in (:mod:`watcher.demo.standins.action_api_reverts`) must give the tags,
summaries, flags and log shapes the real wiki gives, since every other revert test trusts it.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.mediawiki_real.peer import SCRIPT, RealWiki
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import manual_revert, revision_delete, rollback, undo
from watcher.demo.standins.bridge import rc_to_event

TITLE = "File:Revert shapes.jpg"
APPID, PASSWORD = "reverts", "rv0123456789abcdef0123456789abcd"  # bot passwords are 32 characters
BASE = "{{Information\n|description={{en|1=A chair}}\n|date=1900\n|author=Unknown\n}}"
REVISION_PROPS = "ids|timestamp|user|comment|tags|flags|size|slotsha1|content|contentmodel|roles"


class Admin:
    """The wiki's Admin through the API (a bot password with rollback, delete and oversight grants)."""

    def __init__(self, wiki: RealWiki) -> None:
        wiki.maint("createAndPromote.php", "--force", "--custom-groups", "suppress", "Admin")
        subprocess.run(  # fails harmlessly where the password exists from an earlier module
            [str(SCRIPT), "maint", "createBotPassword.php", "--appid", APPID,
             "--grants", "basic,editpage,rollback,delete,oversight,patrol", "Admin", PASSWORD],
            capture_output=True, env=wiki.env, timeout=120, check=False,
        )  # fmt: skip
        self.url = wiki.api_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        token = self.call(action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
        login = self.call(
            post=True, action="login", lgname=f"Admin@{APPID}", lgpassword=PASSWORD, lgtoken=token
        )
        assert login["login"]["result"] == "Success", login
        tokens = self.call(action="query", meta="tokens", type="csrf|rollback")["query"]["tokens"]
        self.csrf, self.rollback = tokens["csrftoken"], tokens["rollbacktoken"]

    def call(self, *, post: bool = False, **params: str) -> dict[str, Any]:
        data = urllib.parse.urlencode({**params, "format": "json", "formatversion": "2"})
        request = (
            urllib.request.Request(self.url, data=data.encode())
            if post
            else urllib.request.Request(f"{self.url}?{data}")
        )
        with self.opener.open(request, timeout=60) as response:
            result: dict[str, Any] = json.load(response)
        assert "error" not in result, result
        return result


def real_history(wiki: RealWiki) -> list[dict[str, Any]]:
    answer = wiki.api(
        action="query", prop="revisions", titles=TITLE, rvlimit="max", rvprop="ids|user|comment|tags|flags"
    )
    return list(reversed(answer["query"]["pages"][0]["revisions"]))


def standin_history(peer: ActionApiPeer) -> list[dict[str, Any]]:
    answer = peer.answer(
        {"action": "query", "prop": "revisions", "titles": TITLE, "rvlimit": "max",
         "rvprop": "ids|user|comment|tags|flags", "format": "json", "formatversion": "2"}
    )  # fmt: skip
    return list(reversed(answer["query"]["pages"][0]["revisions"]))


def story_texts() -> dict[str, str]:
    alice = BASE.replace("1900", "1901")
    bob = alice.replace("Unknown", "Bob")
    carol = bob.replace("|date=1901", "|date=1901\n|source=Own work")
    return {
        "alice": alice,
        "v1": alice.replace("A chair", "A CHAIR LOL"),
        "v2": alice.replace("A chair", "A CHAIR LOL").replace("1901", "1999"),
        "bob": bob,
        "carol": carol,
        "dave": carol.replace("A chair", "A wooden chair"),
    }


def tell_on_the_real_wiki(wiki: RealWiki, admin: Admin) -> dict[str, int]:
    texts = story_texts()
    wiki.edit(TITLE, BASE, user="Admin", summary="create")
    wiki.edit(TITLE, texts["alice"], user="Alice", summary="date")
    wiki.edit(TITLE, texts["v1"], user="Vandal", summary="v1")
    wiki.edit(TITLE, texts["v2"], user="Vandal", summary="v2")
    admin.call(post=True, action="rollback", title=TITLE, user="Vandal", token=admin.rollback)
    wiki.edit(TITLE, texts["bob"], user="Bob", summary="author")
    wiki.edit(TITLE, texts["carol"], user="Carol", summary="source")
    wiki.edit(TITLE, texts["dave"], user="Dave", summary="wooden")
    ids = {r["comment"]: r["revid"] for r in real_history(wiki)}
    admin.call(post=True, action="edit", title=TITLE, undo=str(ids["source"]), token=admin.csrf)
    wiki.edit(TITLE, texts["bob"], user="Erin", summary="manual")  # Bob's text again: a manual revert
    wiki.run_jobs()  # mw-reverted comes from a job
    admin.call(post=True, action="revisiondelete", type="revision", target=TITLE, ids=str(ids["v1"]),
               hide="content|comment", token=admin.csrf, reason="RD1")  # fmt: skip
    admin.call(post=True, action="revisiondelete", type="revision", target=TITLE, ids=str(ids["v2"]),
               hide="content|user", suppress="yes", token=admin.csrf, reason="OS")  # fmt: skip
    return ids


def tell_on_the_standin() -> tuple[ActionApiPeer, dict[str, int]]:
    texts = story_texts()
    peer = ActionApiPeer()
    peer.add_page(TITLE, BASE, user="Admin", comment="create")
    ids = {"date": peer.edit(TITLE, texts["alice"], user="Alice", comment="date")}
    ids["v1"] = peer.edit(TITLE, texts["v1"], user="Vandal", comment="v1")
    ids["v2"] = peer.edit(TITLE, texts["v2"], user="Vandal", comment="v2")
    rollback(peer, TITLE, user="Admin")
    ids["author"] = peer.edit(TITLE, texts["bob"], user="Bob", comment="author")
    ids["source"] = peer.edit(TITLE, texts["carol"], user="Carol", comment="source")
    ids["wooden"] = peer.edit(TITLE, texts["dave"], user="Dave", comment="wooden")
    undo(peer, TITLE, ids["source"], user="Admin")
    manual_revert(
        peer, TITLE, ids["author"], user="Erin", comment="manual"
    )  # not autopatrolled: no mw-reverted
    revision_delete(peer, TITLE, [ids["v1"]], content=True, comment=True, by="Admin", reason="RD1")
    revision_delete(peer, TITLE, [ids["v2"]], content=True, user=True, suppress=True, by="Admin", reason="OS")
    return peer, ids


def _story(revisions: list[dict[str, Any]], first: int) -> list[tuple[Any, ...]]:
    """Each revision as (user, tags, minor, comment) with revision ids made relative to the first."""

    known = {r["revid"] for r in revisions}

    def relative(text: str | None) -> str | None:
        def rename(match: re.Match[str]) -> str:
            number = int(match.group(0))
            return f"r{number - first}" if number in known else match.group(0)

        return None if text is None else re.sub(r"\b\d+\b", rename, text)

    return [
        (r.get("user"), sorted(r.get("tags", [])), r.get("minor"), relative(r.get("comment")), sorted(r))
        for r in revisions
    ]


@pytest.fixture(scope="module")
def both(real_wiki: RealWiki) -> tuple[RealWiki, dict[str, int], ActionApiPeer, dict[str, int]]:
    ids = tell_on_the_real_wiki(real_wiki, Admin(real_wiki))
    peer, fake_ids = tell_on_the_standin()
    return real_wiki, ids, peer, fake_ids


def test_revert_tags_summaries_and_flags_match(
    both: tuple[RealWiki, dict[str, int], ActionApiPeer, dict[str, int]],
) -> None:
    wiki, _, peer, _ = both
    real, fake = real_history(wiki), standin_history(peer)
    assert _story(fake, fake[0]["revid"]) == _story(real, real[0]["revid"])
    tags = [sorted(r["tags"]) for r in real]
    assert ["mw-rollback"] in tags and ["mw-undo"] in tags and ["mw-manual-revert"] in tags
    assert sum(t == ["mw-reverted"] for t in tags) == 3  # the vandal's two edits and the undone one


def test_hidden_and_suppressed_revisions_match(
    both: tuple[RealWiki, dict[str, int], ActionApiPeer, dict[str, int]],
) -> None:
    wiki, ids, peer, fake_ids = both

    def anonymous(answer: dict[str, Any]) -> list[dict[str, Any]]:
        revisions = answer["query"]["pages"][0]["revisions"]
        for revision in revisions:  # what differs between any two wikis anyway
            for key in ("revid", "parentid", "timestamp"):
                revision.pop(key)
        return sorted(revisions, key=lambda r: r.get("comment", "~"))

    params = {"action": "query", "prop": "revisions", "rvslots": "*", "rvprop": REVISION_PROPS}
    real = anonymous(wiki.api(**params, revids=f"{ids['v1']}|{ids['v2']}"))
    fake = anonymous(peer.answer({**params, "revids": f"{fake_ids['v1']}|{fake_ids['v2']}", "format": "json",
                                  "formatversion": "2"}))  # fmt: skip
    assert fake == real
    deleted, suppressed = sorted(real, key=lambda r: "suppressed" in r)
    assert deleted["slots"]["main"]["texthidden"] and deleted["commenthidden"] and "comment" not in deleted
    assert suppressed["suppressed"] and suppressed["userhidden"] and "user" not in suppressed


def test_revision_deletion_log_matches_in_the_feed_and_in_recent_changes(
    both: tuple[RealWiki, dict[str, int], ActionApiPeer, dict[str, int]],
) -> None:
    wiki, ids, peer, fake_ids = both
    wiki.wait_feed(lambda d: d.get("log_action") == "revision", "the revision deletion's log event")
    datagram = next(
        d for d in wiki.bridge.received if d.get("log_action") == "revision" and d.get("title") == TITLE
    )
    fake_change = next(c for c in peer.changes if c.log is not None and c.log.action == "revision")
    event = rc_to_event(fake_change)
    assert (datagram["log_type"], datagram["log_params"]) == (
        "delete",
        {**event["log_params"], "ids": [ids["v1"]]},
    )
    assert event["log_params"] == {"type": "revision", "ids": [fake_ids["v1"]], "ofield": 0, "nfield": 3}
    # The suppression is not in the public logs: one revision deletion entry only.
    assert (
        sum(d.get("log_action") == "revision" and d.get("title") == TITLE for d in wiki.bridge.received) == 1
    )

    def logged(answer: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in rc.items() if k in ("type", "logtype", "logaction", "comment", "user")}
            | {"logparams": {**rc["logparams"], "ids": len(rc["logparams"]["ids"])}}
            for rc in answer["query"]["recentchanges"]
            if rc.get("logaction") == "revision" and rc.get("title") == TITLE
        ]

    params = {
        "action": "query",
        "list": "recentchanges",
        "rcprop": "title|user|comment|loginfo",
        "rclimit": "50",
    }
    real = logged(wiki.api(**params))
    fake = logged(peer.answer({**params, "format": "json", "formatversion": "2"}))
    assert fake == real and len(real) == 1
