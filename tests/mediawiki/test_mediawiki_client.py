"""ActionApi against the loopback stand-in: revisions with both slots, tracked-set listings, lookups."""

from __future__ import annotations

import json

from tests.support.fixtures import wikitext
from tests.support.mediawiki import mediainfo_slot
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi, PageRef


async def test_revisions_of_both_slots_from_real_samples(peer: ActionApiPeer, api: ActionApi) -> None:
    old_text = wikitext("croptool_ru_church_1905.old.wikitext")
    new_text = wikitext("croptool_ru_church_1905.new.wikitext")
    slot = mediainfo_slot()
    first = peer.add_page(
        "File:Church 1905.jpg", old_text, slot, user="Museum", timestamp="2024-03-01T10:00:00Z"
    )
    text_edit = peer.edit(
        "File:Church 1905.jpg", new_text, user="CropBot", comment="crop", tags=("croptool",), minor=True
    )
    caption = json.loads(slot)
    caption["labels"]["sv"] = {"language": "sv", "value": "Kyrka"}
    sdc_edit = peer.edit(
        "File:Church 1905.jpg", mediainfo=caption, user="Curator", comment="/* wbsetlabel-add:1|sv */"
    )

    revisions = await api.revisions([first.revid, text_edit, sdc_edit])

    assert set(revisions) == {first.revid, text_edit, sdc_edit}
    old, new, sdc = revisions[first.revid], revisions[text_edit], revisions[sdc_edit]
    assert old.wikitext == old_text and new.wikitext == new_text and sdc.wikitext == new_text
    assert old.mediainfo == slot  # the raw slot text, byte for byte
    assert json.loads(old.mediainfo)["descriptions"] == []
    assert sdc.mediainfo is not None and json.loads(sdc.mediainfo)["labels"]["sv"]["value"] == "Kyrka"
    assert (old.parentid, new.parentid, sdc.parentid) == (0, first.revid, text_edit)
    assert old.title == "File:Church 1905.jpg" and old.pageid == first.pageid
    assert old.timestamp == "2024-03-01T10:00:00Z" and old.user == "Museum"
    assert new.user == "CropBot" and new.comment == "crop" and new.tags == ("croptool",) and new.minor
    assert not old.minor and old.size == len(old_text.encode()) + len(slot.encode())
    # slotsha1 tells which slot changed before anything is parsed
    assert old.main_sha1 != new.main_sha1 and old.mediainfo_sha1 == new.mediainfo_sha1
    assert new.main_sha1 == sdc.main_sha1 and new.mediainfo_sha1 != sdc.mediainfo_sha1
    assert not any(r.texthidden or r.userhidden or r.commenthidden for r in revisions.values())


async def test_revision_without_structured_data_has_no_mediainfo(peer: ActionApiPeer, api: ActionApi) -> None:
    created = peer.add_page("File:Plain.jpg", wikitext("memucho_dalian_old_men.wikitext"))
    revision = (await api.revisions([created.revid]))[created.revid]
    assert revision.mediainfo is None and revision.mediainfo_sha1 is None
    assert revision.wikitext == wikitext("memucho_dalian_old_men.wikitext")
    request = peer.requests[-1].params
    assert request["rvslots"] == "*" and request["prop"] == "revisions"
    assert set(request["rvprop"].split("|")) >= {
        "ids",
        "slotsha1",
        "content",
        "roles",
        "tags",
        "flags",
        "size",
    }


async def test_120_revids_go_in_three_batches_of_at_most_50(peer: ActionApiPeer, api: ActionApi) -> None:
    revids = [peer.add_page(f"File:Batch {n}.jpg", f"text {n}").revid for n in range(40)]
    for n in range(40):
        revids.append(peer.edit(f"File:Batch {n}.jpg", f"second {n}"))
        revids.append(peer.edit(f"File:Batch {n}.jpg", f"third {n}"))

    revisions = await api.revisions(revids)

    assert len(revids) == 120 and set(revisions) == set(revids)
    assert revisions[revids[-1]].wikitext == "third 39"
    batches = [r.params["revids"].split("|") for r in peer.requests_with(prop="revisions")]
    assert [len(b) for b in batches] == [50, 50, 20]
    assert sorted(int(r) for b in batches for r in b) == sorted(revids)


async def test_bad_and_deleted_revids_are_simply_absent(peer: ActionApiPeer, api: ActionApi) -> None:
    kept = peer.add_page("File:Kept.jpg", "kept").revid
    gone = peer.add_page("File:Gone.jpg", "gone").revid
    peer.delete("File:Gone.jpg")

    revisions = await api.revisions([kept, gone, 987654])

    assert list(revisions) == [kept]
    assert api.stats.errors == 0


async def test_revision_deleted_parts_keep_their_flags(peer: ActionApiPeer, api: ActionApi) -> None:
    revid = peer.add_page("File:Hidden.jpg", "secret", {"type": "mediainfo", "id": "M1"}).revid
    peer.hide(revid, text=True, user=True, comment=True)

    revision = (await api.revisions([revid]))[revid]

    assert revision.texthidden and revision.userhidden and revision.commenthidden
    assert revision.wikitext is None and revision.mediainfo is None and revision.user is None
    assert revision.main_sha1 is None and revision.comment == ""


async def test_category_of_several_hundred_files_uses_continuation(
    peer: ActionApiPeer, api: ActionApi
) -> None:
    peer.max_limit = 100
    for n in range(350):
        peer.add_page(f"File:Object {n:03d}.jpg", f"{{{{Artwork}}}}\n[[Category:Example Museum|{n:03d}]]")
    peer.add_page("File:Elsewhere.jpg", "[[Category:Other]]")
    peer.add_page("Category:Example Museum subcat", "[[Category:Example Museum]]")
    counts: list[int] = []

    members = [m async for m in api.category_members("Category:Example_Museum", progress=counts.append)]

    assert len(members) == 350 == len({m.title for m in members})
    assert {m.title for m in members} == {f"File:Object {n:03d}.jpg" for n in range(350)}
    assert all(isinstance(m.pageid, int) for m in members)
    listing = peer.requests_with(list="categorymembers")
    assert len(listing) == 4
    assert all(r.params["cmtype"] == "file" and r.params["cmlimit"] == "max" for r in listing)
    assert "cmcontinue" not in listing[0].params and all("cmcontinue" in r.params for r in listing[1:])
    assert counts == [100, 200, 300, 350]


async def test_depth_two_with_a_cycle_visits_each_category_once(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.add_page("Category:Museum", "[[Category:Sub two]]")  # the cycle: Museum -> one -> two -> Museum
    peer.add_page("Category:Sub one", "[[Category:Museum]]")
    peer.add_page("Category:Sub two", "[[Category:Sub one]]")
    peer.add_page("Category:Sub three", "[[Category:Sub two]]")
    peer.add_page("File:Top.jpg", "[[Category:Museum]]")
    peer.add_page("File:One.jpg", "[[Category:Sub one]][[Category:Museum]]")
    peer.add_page("File:Two.jpg", "[[Category:Sub two]]")
    peer.add_page("File:Three.jpg", "[[Category:Sub three]]")

    assert await api.subcategories("Museum", 2) == ["Category:Museum", "Category:Sub one", "Category:Sub two"]
    assert await api.subcategories("Category:Museum", 10) == [
        "Category:Museum",
        "Category:Sub one",
        "Category:Sub two",
        "Category:Sub three",
    ]
    assert await api.subcategories("Category:Museum", 0) == ["Category:Museum"]
    members = [m.title async for m in api.category_members("Museum", depth=2)]
    assert sorted(members) == ["File:One.jpg", "File:Top.jpg", "File:Two.jpg"]


async def test_uploads_by_lists_first_uploads_only(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.max_limit = 2
    for n in range(5):
        peer.add_page(f"File:Museum {n}.jpg", "", user="Example Museum")
    peer.add_page("File:Someone else.jpg", "", user="Someone")
    peer.upload("File:Someone else.jpg", "a" * 40, user="Example Museum")  # overwrite: not theirs
    peer.upload("File:Museum 0.jpg", "b" * 40, user="Example Museum")  # overwrite of their own
    peer.move("File:Museum 1.jpg", "File:Museum one.jpg")
    moved_id = peer.page("File:Museum one.jpg").pageid

    uploads = [u async for u in api.uploads_by("User:Example_Museum")]

    assert sorted(u.title for u in uploads) == [f"File:Museum {n}.jpg" for n in range(5)]
    assert PageRef("File:Museum 1.jpg", moved_id) in uploads  # the page id survives the move
    requests = peer.requests_with(list="logevents")
    assert len(requests) == 4  # 7 upload-log entries, 2 a page
    assert all(r.params["letype"] == "upload" and r.params["leuser"] == "Example Museum" for r in requests)


async def test_embedded_in_lists_files_using_a_template(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.add_page("Template:Museum link", "")
    peer.add_page("File:Direct.jpg", "{{Museum link|123}}")
    peer.add_page("File:Underscored.jpg", "{{Museum_link|124}}")
    peer.add_page("File:Indirect.jpg", "{{Artwork}}", templates=["Museum link"])
    peer.add_page("Gallery of the museum", "{{Museum link|125}}")  # ns 0: not a file
    peer.add_page("File:Unrelated.jpg", "{{Information}}")

    by_bare_name = sorted([r.title async for r in api.embedded_in("Museum link")])
    by_full_name = sorted([r.title async for r in api.embedded_in("Template:Museum_link")])

    assert by_bare_name == by_full_name == ["File:Direct.jpg", "File:Indirect.jpg", "File:Underscored.jpg"]
    assert all(r.params["einamespace"] == "6" for r in peer.requests_with(list="embeddedin"))


async def test_page_info_normalises_and_follows_redirects(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.add_page("File:A b.jpg", "x")
    edited = peer.edit("File:A b.jpg", "y")
    peer.add_page("File:Old name.jpg", "z")
    peer.move("File:Old name.jpg", "File:New name.jpg")
    new_page = peer.page("File:New name.jpg")
    asked = ["File:a_b.jpg", "File:Old_name.jpg", "File:Nowhere.jpg", "File:Bad<title>.jpg"]

    info = await api.page_info(asked)

    assert list(info) == asked  # keyed by the title as requested
    assert info["File:a_b.jpg"].title == "File:A b.jpg"
    assert info["File:a_b.jpg"].lastrevid == edited and not info["File:a_b.jpg"].missing
    moved = info["File:Old_name.jpg"]
    assert moved.title == "File:Old name.jpg" and moved.redirect_target == "File:New name.jpg"
    assert moved.pageid == new_page.pageid and moved.lastrevid == new_page.latest.revid
    nowhere = info["File:Nowhere.jpg"]
    assert nowhere.missing and nowhere.pageid is None and nowhere.redirect_target is None
    assert info["File:Bad<title>.jpg"].missing
    assert peer.requests[-1].params["redirects"] == "1" and peer.requests[-1].params["prop"] == "info"


async def test_page_info_batches_50_titles_and_posts_long_ones(peer: ActionApiPeer, api: ActionApi) -> None:
    titles = [
        f"File:A rather long file name from the museum collection, object {n:04d}.jpg" for n in range(60)
    ]
    for title in titles[:30]:
        peer.add_page(title, "")

    info = await api.page_info(titles)

    assert len(info) == 60 and sum(not i.missing for i in info.values()) == 30
    batches = peer.requests_with(prop="info")
    assert [len(r.params["titles"].split("|")) for r in batches] == [50, 10]
    assert [r.method for r in batches] == ["POST", "GET"]  # 50 long titles exceed a 2000-character URL


async def test_file_sha1_is_the_latest_version(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.add_page("File:Scan.tif", "", sha1="1" * 40)
    peer.upload("File:Scan.tif", "2" * 40, user="Restorer")

    assert await api.file_sha1("File:Scan.tif") == "2" * 40
    assert await api.file_sha1("File:Never uploaded.tif") is None


async def test_recent_changes_with_continuation(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.max_limit = 4
    peer.add_page("File:Early.jpg", "[[Category:Museum]]", timestamp="2026-02-01T00:00:00Z")
    peer.add_page("File:Watched.jpg", "v0", timestamp="2026-03-01T00:00:00Z")
    edits = [peer.edit("File:Watched.jpg", f"v{n}", user=f"Editor {n}") for n in range(1, 10)]
    peer.edit("File:Watched.jpg", "v10 [[Category:Museum]]", user="Categoriser")
    peer.add_page("Talk page elsewhere", "not a file")

    changes = [c async for c in api.recent_changes(start="2026-03-01T00:00:00Z")]

    assert [c["revid"] for c in changes if c["type"] == "edit"] == [*edits, edits[-1] + 1]
    assert [c["type"] for c in changes[:1]] == ["log"]  # the upload that created File:Watched.jpg
    assert all(c["ns"] == 6 for c in changes)
    assert [c["timestamp"] for c in changes] == sorted(c["timestamp"] for c in changes)
    assert len(peer.requests_with(list="recentchanges")) == 3  # 11 changes, 4 a page
    with_categories = [c async for c in api.recent_changes(start="2026-03-01T00:00:00Z", namespace=(6, 14))]
    categorize = [c for c in with_categories if c["type"] == "categorize"]
    assert [c["comment"] for c in categorize] == ["[[:File:Watched.jpg]] added to category"]
    ended = [c async for c in api.recent_changes(start="2026-01-01T00:00:00Z", end="2026-02-15T00:00:00Z")]
    assert [c["title"] for c in ended] == ["File:Early.jpg"]


async def test_entity_labels_prefer_the_first_language_with_a_label(
    peer: ActionApiPeer, api: ActionApi
) -> None:
    peer.add_entity("Q1", {"en": "painting", "sv": "målning"})
    peer.add_entity("Q2", {"en": "sculpture", "de": "Skulptur"})
    peer.add_entity("Q3", {"de": "nur Deutsch"})
    for n in range(100, 160):
        peer.add_entity(f"Q{n}", {"en": f"thing {n}"})
    ids = ["Q1", "Q2", "Q3", "Q999", *(f"Q{n}" for n in range(100, 160))]

    labels = await api.entity_labels(ids, ["sv", "en"])

    assert labels["Q1"] == "målning" and labels["Q2"] == "sculpture"
    assert "Q3" not in labels and "Q999" not in labels
    assert len(labels) == 62 and labels["Q159"] == "thing 159"
    requests = peer.requests_with(action="wbgetentities")
    assert [len(r.params["ids"].split("|")) for r in requests] == [50, 14]
    assert all(r.params["languages"] == "sv|en" and r.params["props"] == "labels" for r in requests)
    assert await api.entity_labels(["Q2"], ["de", "en"]) == {"Q2": "Skulptur"}
