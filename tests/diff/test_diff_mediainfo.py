"""Structured data pairs. There are no real MediaInfo revision pairs in the samples, so every pair
here is a real entity and a synthetic edit of it, made the way Wikibase would store it."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.support.diff import diff_sdc, entity, rows
from tests.support.fixtures import mediainfo
from watcher.diff import DiffSettings


def item_snak(prop: str, qid: str) -> dict[str, Any]:
    return {
        "snaktype": "value",
        "property": prop,
        "datavalue": {
            "value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid},
            "type": "wikibase-entityid",
        },
    }


def statement(prop: str, qid: str, guid: str, **extra: Any) -> dict[str, Any]:
    return {"mainsnak": item_snak(prop, qid), "type": "statement", "id": guid, "rank": "normal", **extra}


def test_caption_added_changed_removed() -> None:
    old = entity("M74698470_wbgetentities_response.json")
    new = copy.deepcopy(old)
    new["labels"]["sv"] = {"language": "sv", "value": "Chick Corea och Stanley Clarke"}
    new["labels"]["en"]["value"] = "Chick Corea and Stanley Clarke at the San Sebastian Jazz Festival"
    assert rows(diff_sdc(old, new)) == [
        (
            "caption",
            "changed",
            "Chick Corea and Stanley Clarke playing at the San Sebastian Jazz Festival",
            "Chick Corea and Stanley Clarke at the San Sebastian Jazz Festival",
            None,
            None,
            "en",
            "content",
        ),
        ("caption", "added", None, "Chick Corea och Stanley Clarke", None, None, "sv", "content"),
    ]
    del new["labels"]["en"]
    assert [(c.action, c.language) for c in diff_sdc(old, new)] == [("removed", "en"), ("added", "sv")]


def test_depicts_added_to_the_smallest_entity() -> None:
    old = mediainfo("M238_dump_entity.json")
    new = json.loads(old)
    new["statements"]["P180"].append(statement("P180", "Q146", "M238$0b4e0a3c-1111-2222-3333-444455556666"))
    [change] = diff_sdc(old, json.dumps(new))
    assert (change.field, change.action, change.property, change.old, change.new) == (
        "statement",
        "added",
        "P180",
        None,
        "Q146",
    )
    assert change.detail is not None and change.detail["rank"] == "normal"
    assert change.template is None and change.language is None


def test_qualifier_changed_is_one_changed_record_with_both_qualifier_sets() -> None:
    old = entity("M17372639_wbgetentities_response.json")
    new = copy.deepcopy(old)
    new["statements"]["P180"][0]["qualifiers"]["P642"][0] = item_snak("P642", "Q5")
    [change] = diff_sdc(old, new)
    assert (change.action, change.property, change.old, change.new) == (
        "changed",
        "P180",
        "Q173387",
        "Q173387",
    )
    assert change.detail is not None
    assert change.detail["changed"] == ["qualifiers"]
    assert change.detail["qualifiers"] == {"P642": ["Q5"]}
    assert change.detail["old_qualifiers"] == {"P642": ["Q336977"]}


def test_statement_value_changed_removed_and_rank_changed() -> None:
    old = entity("fixture_M1_wbgetentities_shape.json")
    new = copy.deepcopy(old)
    new["statements"]["P180"][0]["mainsnak"] = item_snak("P180", "Q1")
    new["statements"]["P180"][1]["rank"] = "normal"
    assert [(c.action, c.old, c.new) for c in diff_sdc(old, new)] == [
        ("changed", "Q83043", "Q1"),
        ("changed", "Q468756", "Q468756"),
    ]
    assert diff_sdc(old, new)[1].detail == {
        "rank": "normal",
        "old_rank": "preferred",
        "changed": ["rank"],
        "id": "M1$c243df94-4cdd-58de-708c-243191831595",
    }
    del new["statements"]["P180"][1]
    assert [(c.action, c.old) for c in diff_sdc(old, new)][-1] == ("removed", "Q468756")


def test_noise_hashes_qualifier_order_empty_list_and_guid_prefix() -> None:
    api = entity("M74698470_wbgetentities_response.json")
    dump = copy.deepcopy(api)
    for statements in dump["statements"].values():
        for s in statements:
            s["mainsnak"].pop("hash", None)
            for snaks in s.get("qualifiers", {}).values():
                for snak in snaks:
                    snak["hash"] = "0" * 40
            if "qualifiers-order" in s:
                s["qualifiers-order"].reverse()
            s["id"] = s["id"].replace("M74698470$", "M99999999$")  # undeletion rewrites the M-id
        statements.reverse()
    dump["descriptions"] = []
    dump["id"] = "M99999999"
    assert diff_sdc(api, dump) == []


def test_statement_recreated_under_a_new_guid() -> None:
    old = entity("M74698470_wbgetentities_response.json")
    same = copy.deepcopy(old)
    same["statements"]["P571"][0]["id"] = "M74698470$ffffffff-0000-0000-0000-000000000000"
    assert diff_sdc(old, same) == []
    other = copy.deepcopy(same)
    other["statements"]["P571"][0]["mainsnak"]["datavalue"]["value"]["time"] = "+2014-07-26T00:00:00Z"
    assert rows(diff_sdc(old, other)) == [
        (
            "statement",
            "changed",
            "+2014-07-25T00:00:00Z",
            "+2014-07-26T00:00:00Z",
            None,
            "P571",
            None,
            "content",
        )
    ]


def test_time_precision_is_part_of_the_value() -> None:
    old = entity("M566797_wbgetentities_entity.json")
    new = copy.deepcopy(old)
    new["statements"]["P571"][0]["mainsnak"]["datavalue"]["value"]["precision"] = 8
    [change] = diff_sdc(old, new)
    assert change.old == change.new == "+1904-01-01T00:00:00Z"
    assert change.detail is not None and change.detail["value_detail"]["precision"] == "8"
    assert change.detail["old_value_detail"]["precision"] == "9"


def test_coordinates_within_and_beyond_tolerance() -> None:
    old = entity("M76_dump_entity.json")
    near, far = copy.deepcopy(old), copy.deepcopy(old)
    near["statements"]["P1259"][0]["mainsnak"]["datavalue"]["value"]["latitude"] = 52.991304
    far["statements"]["P1259"][0]["mainsnak"]["datavalue"]["value"]["latitude"] = 52.9923
    assert diff_sdc(old, near) == []
    assert rows(diff_sdc(old, far)) == [
        ("statement", "changed", "52.9913,6.5702", "52.9923,6.5702", None, "P1259", None, "content")
    ]
    assert len(diff_sdc(old, near, DiffSettings(coordinate_tolerance=1e-9))) == 1


def test_somevalue_novalue_quantity_and_monolingual_rendering() -> None:
    old = entity("fixture_M5234_slot_shape.json")
    new = copy.deepcopy(old)
    new["statements"]["P3080"][0]["mainsnak"] = {"snaktype": "novalue", "property": "P3080"}
    new["statements"]["P118"][0]["mainsnak"]["datavalue"]["value"] = {
        "amount": "+2.5",
        "unit": "http://www.wikidata.org/entity/Q11573",
    }
    new["statements"]["P1476"] = [
        {
            "mainsnak": {
                "snaktype": "value",
                "property": "P1476",
                "datavalue": {
                    "value": {"text": "Brita och jag", "language": "sv"},
                    "type": "monolingualtext",
                },
            },
            "type": "statement",
            "id": "M5234$aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "rank": "normal",
        }
    ]
    assert [(c.action, c.property, c.old, c.new) for c in diff_sdc(old, new)] == [
        ("changed", "P118", "1", "2.5 Q11573"),
        ("added", "P1476", None, "Brita och jag"),
        ("changed", "P3080", "Q196", "novalue"),
    ]


def test_structured_description_and_first_structured_data() -> None:
    old = entity("fixture_M1_wbgetentities_shape.json")
    new = copy.deepcopy(old)
    new["descriptions"]["sv"] = {"language": "sv", "value": "Hohllay i Berdorf"}
    assert rows(diff_sdc(old, new)) == [
        ("structured description", "added", None, "Hohllay i Berdorf", None, None, "sv", "content")
    ]
    first = diff_sdc(None, mediainfo("M238_dump_entity.json"))
    assert rows(first) == [("statement", "added", None, "Q506126", None, "P180", None, "content")]


def test_broken_json_degrades_to_one_structured_data_record() -> None:
    good = mediainfo("M238_dump_entity.json")
    broken = good[: len(good) // 2]
    [change] = diff_sdc(good, broken)
    assert (change.field, change.action, change.old, change.new) == (
        "structured data",
        "changed",
        good,
        broken,
    )
    assert change.detail is not None and change.detail["reason"] == "not valid JSON"
    assert diff_sdc(broken, broken) == []
    assert [c.field for c in diff_sdc(good, "[1, 2]")] == ["structured data"]
    assert diff_sdc(good, "") == diff_sdc(good, None)
