"""The museum's object id: template parameters (at any depth) and file-name patterns."""

from __future__ import annotations

from tests.support.fixtures import wikitext
from watcher.config import ObjectIdRule
from watcher.diff import find_object_id

LSH = wikitext("lsh_glam_batch_armband_98906.wikitext")
BARCH = wikitext("memucho_bundesarchiv_barch_image.wikitext")

NATIONALMUSEUM = """{{Artwork
 |artist = {{Creator:Carl Larsson}}
 |accession number = <!-- from the museum database --> {{Nationalmuseum Stockholm link|17880|NMGrh 1234}}
}}
"""


def test_template_parameter_on_real_samples() -> None:
    assert (
        find_object_id("File:Armband.jpg", LSH, None, [ObjectIdRule("LSH artwork", "inventory number")])
        == "LRK 123"
    )
    assert (
        find_object_id("File:B.jpg", BARCH, None, [ObjectIdRule("BArch-image", "ID")])
        == "B 145 Bild-F078072-0004"
    )


def test_template_and_param_names_are_matched_canonically() -> None:
    rules = [ObjectIdRule("Template:lsh_artwork", "Inventory_Number")]
    assert find_object_id("File:Armband.jpg", LSH, None, rules) == "LRK 123"


def test_nested_id_template_by_positional_number_and_whole_value() -> None:
    by_position = [ObjectIdRule("Nationalmuseum Stockholm link", "2")]
    assert find_object_id("File:X.jpg", NATIONALMUSEUM, None, by_position) == "NMGrh 1234"
    whole = [ObjectIdRule("Artwork", "accession number")]
    # comments removed, stripped, the ID template returned as written (documented choice)
    assert (
        find_object_id("File:X.jpg", NATIONALMUSEUM, None, whole)
        == "{{Nationalmuseum Stockholm link|17880|NMGrh 1234}}"
    )


def test_pattern_rule_on_the_file_name() -> None:
    rules = [ObjectIdRule(pattern=r" - Nordiska museet - (NMA\.\d+)\.\w+$")]
    title = "File:Flicka med docka - Nordiska museet - NMA.0030805.tif"
    assert find_object_id(title, None, None, rules) == "NMA.0030805"
    assert find_object_id(title.replace(" ", "_"), None, None, rules) == "NMA.0030805"
    assert find_object_id("File:Other.jpg", None, None, rules) is None


def test_first_matching_rule_wins_and_empty_values_do_not_match() -> None:
    empty = NATIONALMUSEUM.replace("{{Nationalmuseum Stockholm link|17880|NMGrh 1234}}", "")
    rules = [
        ObjectIdRule("Artwork", "accession number"),
        ObjectIdRule(pattern=r"NM ?(\d+)"),
    ]
    assert find_object_id("File:Brita NM 4711.jpg", empty, None, rules) == "4711"
    assert find_object_id("File:Brita NM 4711.jpg", NATIONALMUSEUM, None, rules[::-1]) == "4711"


def test_removed_by_the_edit_comes_from_the_old_revision() -> None:
    rules = [ObjectIdRule("LSH artwork", "inventory number")]
    removed = LSH.replace("|inventory number= LRK 123\n", "")
    assert find_object_id("File:Armband.jpg", removed, LSH, rules) == "LRK 123"
    changed = LSH.replace("LRK 123", "LRK 124")
    assert find_object_id("File:Armband.jpg", changed, LSH, rules) == "LRK 124"


def test_bad_rules_and_pages_never_raise() -> None:
    rules = [ObjectIdRule(pattern="("), ObjectIdRule("Artwork", None), ObjectIdRule(pattern=r"(x)?y")]
    assert find_object_id("File:y.jpg", "{{Artwork|", "}}}}{{", rules) is None
    assert find_object_id("File:a.jpg", None, None, []) is None
