"""`--format annotations`: W3C Web Annotations, checked by a JSON-LD processor (pyld) against the real
Web Annotation context. The context is served from a copy in tests/fixtures (see its README), by a
document loader that refuses every other URL, so no test touches the network.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld  # type: ignore[import-untyped]

from tests.support.cli import CliShell
from watcher.config import Config, ConfigError
from watcher.diff.model import FieldChange
from watcher.export.annotations import ANNO_CONTEXT, annotation_collection
from watcher.export.writers import write_records
from watcher.store.queue import ChangeRecord

CONTEXT_COPY = Path(__file__).parent.parent / "fixtures" / "anno.jsonld"
OA = "http://www.w3.org/ns/oa#"
AS = "http://www.w3.org/ns/activitystreams#"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
RDF_VALUE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value"
SCHEMA = "http://schema.org/"
WHEN = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
OBJECT_URL = '[export]\nobject_url = "https://collection.example/object/{object_id}"\n'


class ContextLoader:
    """A pyld document loader that serves the Web Annotation context from the copy and nothing else."""

    def __init__(self) -> None:
        self.document = json.loads(CONTEXT_COPY.read_text(encoding="utf-8"))
        self.asked: list[str] = []

    def __call__(self, url: str, options: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(url)
        if url != ANNO_CONTEXT:
            raise jsonld.JsonLdError(
                f"refused {url}: the tests serve only {ANNO_CONTEXT}",
                "jsonld.LoadDocumentError",
                code="loading document failed",
            )
        return {"contextUrl": None, "documentUrl": url, "document": self.document}


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document expanded; fails where a key has no meaning in the context (it would be dropped)."""
    dropped: list[str | None] = []
    loader = ContextLoader()
    expanded: list[dict[str, Any]] = jsonld.expand(
        document, {"documentLoader": loader}, on_property_dropped=dropped.append
    )
    assert dropped == [], f"keys the Web Annotation context does not define: {dropped}"
    assert set(loader.asked) <= {ANNO_CONTEXT}
    return expanded


def items(expanded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The annotations of an expanded collection, in order."""
    (collection,) = expanded
    (page,) = collection[AS + "first"]
    (listed,) = page[AS + "items"]
    annotations: list[dict[str, Any]] = listed["@list"]
    return annotations


def one(node: dict[str, Any], key: str) -> Any:
    (value,) = node[key]
    return value


def record(number: int, **values: Any) -> ChangeRecord:
    """An accepted description change (the queue's fields exactly), with ``values`` changed."""
    fields: dict[str, Any] = {
        "id": number, "wiki": "commonswiki", "file": "File:Vase - EXM 1.jpg", "object_id": "EXM 1",
        "revision": 5000 + number, "old_revision": 4999 + number,
        "timestamp": f"2026-03-0{number % 9 + 1}T10:00:00Z",
        "user": "Kulturarvsvän", "comment": "fix", "field": "description", "template": "Information",
        "property": None, "language": "sv", "action": "changed", "kind": "content", "old": "Vas",
        "new": "Vas av lera", "status": "accepted", "source": "live", "queued_at": "2026-03-01T10:00:01Z",
        "reviewer": "anna", "reviewed_at": "2026-03-09T08:00:00Z", "note": None, "exported_at": None,
        "detail": None,
    }  # fmt: skip
    fields.update(values)
    return ChangeRecord(**fields)


# One accepted change of every kind that becomes an annotation, keyed by what the tests look for.
ACCEPTED = {
    "description_sv": record(1),
    "title_en": record(2, field="title", template="Artwork", language="en", new="Vase with a lid"),
    "date": record(3, field="date", template="Artwork", language=None, old="1650", new="c. 1650", user=None),
    "category": record(4, field="category", template=None, language=None, old=None, new="Vases in Sweden",
                       action="added"),
    "depicts": record(5, field="statement", template=None, property="P180", language=None, old=None,
                      new="Q42", action="added"),
    "creator_item": record(6, field="statement", template=None, property="P170", language=None, old="Q1",
                           new="Q5593"),
    "instance_of": record(7, field="statement", template=None, property="P31", language=None, old=None,
                          new="Q3305213", action="added"),
    "inscription": record(8, field="statement", template=None, property="P1684", language=None,
                          old=None, new="ANNO 1650", action="added"),
    "caption_fr": record(9, field="caption", template=None, language="fr", old=None, new="Vase en terre",
                         action="added"),
    "tagged_de": record(10, field="description", language="de", old="Vase", new="Vase", action="tagged"),
    "wiki_markup": record(11, language="en", new="A vase by [[Carl Larsson]]", user="81.2.69.160"),
}  # fmt: skip
# Changes that never become annotations: not accepted, or nothing said about the object.
LEFT_OUT = [
    record(20, status="pending", new="not yet reviewed"),
    record(21, status="rejected", new="rejected text"),
    record(22, status="withdrawn", new="undone on Commons"),
    record(23, action="removed", old="a removed value", new=None),
    record(24, field="file", template=None, language=None, new="0123456789abcdef0123456789abcdef01234567"),
]


def by_id(annotations: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = {f"urn:watcher:commonswiki:{r.id}": name for name, r in ACCEPTED.items()}
    return {names[a["@id"]]: a for a in annotations}


@pytest.fixture
def config(make_config: Any) -> Config:
    built: Config = make_config(OBJECT_URL)
    return built


@pytest.fixture
def expanded(config: Config) -> dict[str, dict[str, Any]]:
    document = annotation_collection([*ACCEPTED.values(), *LEFT_OUT], config, generated=WHEN)
    return by_id(items(expand(document)))


def test_the_export_expands_against_the_web_annotation_context(config: Config) -> None:
    document = annotation_collection([*ACCEPTED.values(), *LEFT_OUT], config, generated=WHEN)
    (collection,) = expand(document)
    assert collection["@type"] == [AS + "OrderedCollection"]  # AnnotationCollection
    assert one(collection, AS + "totalItems")["@value"] == len(ACCEPTED)
    page = one(collection, AS + "first")
    assert page["@type"] == [AS + "OrderedCollectionPage"]  # AnnotationPage
    assert one(collection, AS + "last")["@id"] == page["@id"]
    assert len(items([collection])) == len(ACCEPTED)


def test_every_annotation_has_target_body_generator_and_its_editor(
    expanded: dict[str, dict[str, Any]],
) -> None:
    assert set(expanded) == set(ACCEPTED)  # the pending, rejected, withdrawn, removed and file ones: none
    for name, annotation in expanded.items():
        source = ACCEPTED[name]
        assert annotation["@type"] == [OA + "Annotation"]
        assert one(annotation, OA + "hasTarget") and one(annotation, OA + "hasBody")
        generator = one(annotation, AS + "generator")
        assert generator["@type"] == [AS + "Application"]  # Software
        assert one(generator, FOAF + "name")["@value"] == "Commons Watcher"
        assert one(generator, SCHEMA + "softwareVersion")["@value"]
        assert one(annotation, DCTERMS + "created")["@value"] == source.timestamp
        assert one(annotation, DCTERMS + "issued")["@value"] == "2026-03-10T12:00:00Z"  # generated
        via = one(annotation, OA + "via")["@id"]
        assert (
            via
            == f"https://commons.wikimedia.org/w/index.php?diff={source.revision}&oldid={source.old_revision}"
        )
        if source.user is None:
            assert DCTERMS + "creator" not in annotation
        else:
            creator = one(annotation, DCTERMS + "creator")
            assert creator["@type"] == [FOAF + "Person"]
            assert one(creator, FOAF + "name")["@value"] == source.user


def test_the_editor_is_their_commons_user_page(expanded: dict[str, dict[str, Any]]) -> None:
    creator = one(expanded["description_sv"], DCTERMS + "creator")
    assert creator["@id"] == "https://commons.wikimedia.org/wiki/User:Kulturarvsv%C3%A4n"
    ip = one(expanded["wiki_markup"], DCTERMS + "creator")  # an IP address has no user page
    assert ip["@id"] == "https://commons.wikimedia.org/wiki/Special:Contributions/81.2.69.160"


def test_text_bodies_carry_their_language(expanded: dict[str, dict[str, Any]]) -> None:
    languages = {"description_sv": "sv", "title_en": "en", "caption_fr": "fr", "tagged_de": "de"}
    for name, language in languages.items():
        body = one(expanded[name], OA + "hasBody")
        assert body["@type"] == [OA + "TextualBody"]
        assert one(body, RDF_VALUE)["@value"] == ACCEPTED[name].new
        assert one(body, DC + "language")["@value"] == language
        assert one(body, DC + "format")["@value"] == "text/plain"
    for name in ("date", "category", "inscription"):  # no language on Commons: none claimed
        body = one(expanded[name], OA + "hasBody")
        assert DC + "language" not in body
        assert one(body, RDF_VALUE)["@value"] == ACCEPTED[name].new


def test_wiki_markup_is_labelled_as_wikitext(expanded: dict[str, dict[str, Any]]) -> None:
    body = one(expanded["wiki_markup"], OA + "hasBody")
    assert one(body, DC + "format")["@value"] == "text/x-wiki"
    assert one(body, RDF_VALUE)["@value"] == "A vase by [[Carl Larsson]]"


def test_item_values_are_wikidata_entities_and_the_motivation_follows_the_field(
    expanded: dict[str, dict[str, Any]],
) -> None:
    expected = {  # name: (motivation, Wikidata entity or None for a text body)
        "description_sv": ("describing", None),
        "title_en": ("describing", None),
        "date": ("describing", None),
        "caption_fr": ("describing", None),
        "inscription": ("describing", None),
        "category": ("tagging", None),
        "depicts": ("identifying", "http://www.wikidata.org/entity/Q42"),
        "instance_of": ("classifying", "http://www.wikidata.org/entity/Q3305213"),
        "creator_item": ("linking", "http://www.wikidata.org/entity/Q5593"),
    }
    for name, (motivation, entity) in expected.items():
        annotation = expanded[name]
        assert one(annotation, OA + "motivatedBy")["@id"] == OA + motivation, name
        body = one(annotation, OA + "hasBody")
        assert one(body, OA + "hasPurpose")["@id"] == OA + motivation, name
        if entity is None:
            assert body["@type"] == [OA + "TextualBody"], name
        else:
            assert body["@type"] == [OA + "SpecificResource"], name
            assert one(body, OA + "hasSource")["@id"] == entity
            prop = ACCEPTED[name].property
            assert one(body, SCHEMA + "propertyID")["@value"] == f"http://www.wikidata.org/prop/direct/{prop}"


def test_the_target_is_the_museum_object_seen_on_the_commons_file_page(
    expanded: dict[str, dict[str, Any]],
) -> None:
    target = one(expanded["description_sv"], OA + "hasTarget")
    source = one(target, OA + "hasSource")
    assert source["@id"] == "https://collection.example/object/EXM%201"
    assert one(source, DCTERMS + "identifier")["@value"] == "EXM 1"
    assert one(target, OA + "hasScope")["@id"] == "https://commons.wikimedia.org/wiki/File:Vase_-_EXM_1.jpg"


def test_without_an_object_url_or_an_object_id(make_config: Any) -> None:
    plain: Config = make_config()
    changes = [record(1), record(2, object_id=None, file="File:Unknown object.jpg")]
    annotations = items(expand(annotation_collection(changes, plain, generated=WHEN)))
    with_id, without = (one(a, OA + "hasTarget") for a in annotations)
    assert one(with_id, OA + "hasSource")["@id"] == "urn:watcher:object:EXM%201"
    assert (
        one(without, OA + "hasSource")["@id"] == "https://commons.wikimedia.org/wiki/File:Unknown_object.jpg"
    )
    assert OA + "hasScope" not in without


def test_annotation_ids_are_stable_across_exports(config: Config, make_config: Any) -> None:
    first = annotation_collection(list(ACCEPTED.values()), config, generated=WHEN)
    later = annotation_collection(
        list(ACCEPTED.values())[3:], config, generated=datetime(2027, 1, 1, tzinfo=UTC)
    )
    ids = {a["id"] for a in first["first"]["items"]}
    assert {a["id"] for a in later["first"]["items"]} <= ids
    assert first["id"] != later["id"]  # each export is a collection of its own
    public: Config = make_config(OBJECT_URL + '[web]\npublic_url = "https://watch.museum.example/"\n')
    (annotation,) = items(expand(annotation_collection([record(7)], public, generated=WHEN)))
    assert annotation["@id"] == "https://watch.museum.example/changes/7"  # the review page
    assert one(annotation, OA + "canonical")["@id"] == "urn:watcher:commonswiki:7"


def test_each_annotation_stands_alone_for_a_web_annotation_server(config: Config) -> None:
    """Europeana's API takes one annotation per POST: each item expands on its own, to the same data."""
    document = annotation_collection(list(ACCEPTED.values()), config, generated=WHEN)
    in_collection = items(expand(document))
    for alone, embedded in zip(document["first"]["items"], in_collection, strict=True):
        assert alone["@context"] == ANNO_CONTEXT
        assert expand(alone) == [embedded]


def test_an_export_of_nothing_accepted_is_an_empty_collection(config: Config) -> None:
    document = annotation_collection(LEFT_OUT, config, generated=WHEN)
    (collection,) = expand(document)
    assert one(collection, AS + "totalItems")["@value"] == 0
    assert AS + "first" not in collection  # a page must hold one or more annotations


def test_the_loader_refuses_every_other_url() -> None:
    """The checks above would mean nothing if a context could come from elsewhere."""
    loader = ContextLoader()
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand(
            {"@context": "https://www.w3.org/ns/activitystreams", "name": "x"}, {"documentLoader": loader}
        )
    assert loader.asked == ["https://www.w3.org/ns/activitystreams"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://collection.example/object/", 'must contain "{object_id}"'),
        ("collection.example/object/{object_id}", "is not an absolute URL"),
        ("https://collection.example/object/{object_id} x", "is not an absolute URL"),
    ],
)
def test_object_url_is_checked(make_config: Any, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(f'[export]\nobject_url = "{value}"\n')
    assert [p.path for p in caught.value.problems] == ["export.object_url"]
    assert message in str(caught.value)


def test_the_writer_writes_the_registered_format(config: Config) -> None:
    out = io.StringIO()
    write_records(list(ACCEPTED.values()), "annotations", out, config)
    document = json.loads(out.getvalue())
    assert len(items(expand(document))) == len(ACCEPTED)


def test_watcher_export_format_annotations(tmp_path: Path) -> None:
    """End to end: queue, accept through the CLI, export to a file, read it back as JSON-LD."""
    shell = CliShell(tmp_path)
    with shell.config.open("a", encoding="utf-8") as text:
        text.write(OBJECT_URL)
    accepted = shell.queue(
        revision=7001,
        user="Kulturarvsvän",
        changes=[
            FieldChange("description", "changed", "Vas", "Vas av lera", "Information", None, "sv"),
            FieldChange("statement", "added", None, "Q42", property="P180"),
        ],
    )
    pending = shell.queue(revision=7002, changes=[FieldChange("title", "added", None, "Vase", "Artwork")])
    shell.run("accept", *map(str, accepted))
    output = tmp_path / "x.jsonld"
    said = shell.run("export", "--format", "annotations", "-o", str(output))
    # The annotations state accepted values only (no removals, no retractions): never the routine
    # export, so they mark nothing and the CSV export still sends every change.
    assert f"{len(accepted)} change(s) written to {output}; nothing marked exported" in said.stderr
    annotations = items(expand(json.loads(output.read_text(encoding="utf-8"))))
    assert [a["@id"] for a in annotations] == [f"urn:watcher:commonswiki:{i}" for i in accepted]
    description, depicts = annotations
    assert one(one(description, OA + "hasBody"), DC + "language")["@value"] == "sv"
    assert one(one(depicts, OA + "hasBody"), OA + "hasSource")["@id"] == "http://www.wikidata.org/entity/Q42"
    target = one(description, OA + "hasTarget")
    assert one(target, OA + "hasSource")["@id"] == "https://collection.example/object/EXM-1"
    assert not any(row["exported_at"] for row in shell.sql("SELECT exported_at FROM changes"))
    routine = shell.run("export", "-o", str(tmp_path / "routine.csv"))
    assert f"exported {len(accepted)} change(s)" in routine.stderr
    exported = {row["id"]: row["exported_at"] for row in shell.sql("SELECT id, exported_at FROM changes")}
    assert all(exported[i] for i in accepted) and not any(exported[i] for i in pending)
    again = shell.run("export", "-o", str(tmp_path / "y.csv"))
    assert "nothing new since" in again.stderr and not (tmp_path / "y.csv").exists()
