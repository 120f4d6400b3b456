"""W3C Web Annotations (JSON-LD) of accepted changes, for aggregators such as Europeana.

One document, an ``AnnotationCollection`` with its one ``AnnotationPage`` embedded as ``first``
(Web Annotation Data Model, section 5, example 40). One JSON-LD processor call reads the whole export.
Each annotation in ``items`` also has its own ``@context``, so it can be POSTed as it is to a Web
Annotation Protocol server such as Europeana's Annotations API, which takes one annotation per
request. JSON Lines would save nothing: every line would need the same context, and a JSON-LD
processor could not read the file as one document.

What each change becomes (docs/handing-back.md, "W3C Web Annotations", has the table):

- **target**: the museum's object, as a ``SpecificResource``. Its ``source`` is ``[export] object_url``
  filled in with the object id, or ``urn:watcher:object:ID`` if no URL is set. ``scope`` is the Commons
  file page where the edit was made. A change without an object id targets the file page alone.
- **body**: the new value. Item values of statements (``Q…``) become a ``SpecificResource`` whose
  source is the Wikidata entity IRI. Every other value is a ``TextualBody`` with ``language`` and
  ``format``. ``text/plain``, or ``text/x-wiki`` where a template parameter holds wiki markup.
- **motivation**: ``tagging`` for categories, ``identifying`` for depicts (P180), ``classifying`` for
  instance of and genre (P31, P136), ``linking`` for any other item value, ``describing`` for the rest.
  The body's ``purpose`` is the same motivation.

Only accepted changes that have a new value are written. A removal states nothing about the object,
and a new file version (``field = "file"``) is an image, not a description. Both are left out.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from watcher import __version__
from watcher.config import Config
from watcher.export.shared import index_url
from watcher.store.db import iso_utc
from watcher.store.queue import ChangeRecord

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
WIKIDATA_PROPERTY = "http://www.wikidata.org/prop/direct/"
# Wikimedia Commons' terms: page text is CC BY-SA 4.0, structured data (captions, statements) CC0.
TEXT_RIGHTS = "https://creativecommons.org/licenses/by-sa/4.0/"
DATA_RIGHTS = "http://creativecommons.org/publicdomain/zero/1.0/"
STRUCTURED_FIELDS = frozenset({"caption", "statement"})
SKIPPED_FIELDS = frozenset({"file"})  # a new upload's SHA-1: not something said about the object
# Item-valued statements whose property says what the W3C motivation is; any other item: linking.
MOTIVATION_BY_PROPERTY = {"P180": "identifying", "P31": "classifying", "P136": "classifying"}
GENERATOR_NAME = "Commons Watcher"

_ITEM = re.compile(r"Q[1-9][0-9]*")
# Wiki markup that a plain-text reader would show as is: links, templates, bold/italic, HTML tags.
_WIKI_MARKUP = re.compile(r"\[\[|\]\]|\{\{|\}\}|''|<[A-Za-z/!]|\[(?:https?:)?//")
_TITLE_SAFE = ":/(),!*-._~"  # the characters MediaWiki keeps readable in its own URLs


def write(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The export as one JSON-LD document (``bom`` and ``formula_guard`` are for CSV only)."""
    document = annotation_collection(records, config, generated=datetime.now(UTC))
    yield json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def annotation_collection(
    records: Sequence[ChangeRecord], config: Config, *, generated: datetime
) -> dict[str, Any]:
    """The AnnotationCollection of the accepted ``records`` (others are left out), made at ``generated``."""
    stamp = iso_utc(generated)
    items = [a for a in (annotation(r, config, generated=stamp) for r in records) if a is not None]
    collection_id = f"urn:watcher:{config.wiki.name}:export:{stamp.replace('-', '').replace(':', '')}"
    document: dict[str, Any] = {
        "@context": ANNO_CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": f"{GENERATOR_NAME}: changes accepted on {config.wiki.name}, exported {stamp}",
        "total": len(items),
        "generator": generator(config),
        "generated": stamp,
    }
    if items:  # the model: a page has 1 or more items, so an empty collection has no page
        page_id = f"{collection_id}:page:1"
        document["first"] = {"id": page_id, "type": "AnnotationPage", "startIndex": 0, "items": items}
        document["last"] = page_id
    return document


def annotation(record: ChangeRecord, config: Config, *, generated: str) -> dict[str, Any] | None:
    """One accepted change as a Web Annotation; None where it is not accepted or says nothing to add."""
    if record.status != "accepted" or record.new is None or record.field in SKIPPED_FIELDS:
        return None
    urn = f"urn:watcher:{config.wiki.name}:{record.id}"
    public = config.web.public_url.rstrip("/") if config.web is not None else ""
    motivation = motivation_of(record)
    out: dict[str, Any] = {"@context": ANNO_CONTEXT, "id": f"{public}/changes/{record.id}" if public else urn}
    if public:
        out["canonical"] = urn  # the same identity wherever the review page moves
    out.update({"type": "Annotation", "motivation": motivation, "created": record.timestamp})
    if record.user:
        out["creator"] = {
            "id": _user_page(config, record.user),
            "type": "Person",
            "name": record.user,
            "nickname": record.user,
        }
    out["generator"] = generator(config)
    out["generated"] = generated
    out["body"] = _body(record, motivation)
    out["target"] = _target(record, config)
    out["via"] = record.diff_url(index_url(config))  # the Commons revision the value comes from
    return out


def motivation_of(record: ChangeRecord) -> str:
    """The W3C motivation of a change (see the module's docstring)."""
    if record.field == "category":
        return "tagging"
    if record.field == "statement" and _is_item(record.new):
        return MOTIVATION_BY_PROPERTY.get(record.property or "", "linking")
    return "describing"


def generator(config: Config) -> dict[str, Any]:
    """The watcher as the Software that made the annotations; its homepage is the review page, if public."""
    out: dict[str, Any] = {"type": "Software", "name": GENERATOR_NAME, "schema:softwareVersion": __version__}
    if config.web is not None and config.web.public_url:
        out["homepage"] = config.web.public_url.rstrip("/") + "/"
    return out


def object_iri(config: Config, object_id: str) -> str:
    """``[export] object_url`` with the (%-encoded) object id, or a URN where no URL is configured."""
    quoted = quote(object_id, safe="")
    template = config.export.object_url
    return template.replace("{object_id}", quoted) if template else f"urn:watcher:object:{quoted}"


def _body(record: ChangeRecord, motivation: str) -> dict[str, Any]:
    value = record.new or ""
    property_id = WIKIDATA_PROPERTY + record.property if record.property else record.field
    rights = DATA_RIGHTS if record.field in STRUCTURED_FIELDS else TEXT_RIGHTS
    if record.field == "statement" and _is_item(value):
        return {
            "type": "SpecificResource",
            "source": WIKIDATA_ENTITY + value,
            "purpose": motivation,
            "schema:propertyID": property_id,
            "rights": rights,
        }
    body: dict[str, Any] = {"type": "TextualBody", "value": value, "format": _format(record, value)}
    if record.language:
        body["language"] = record.language
    body.update({"purpose": motivation, "schema:propertyID": property_id, "rights": rights})
    return body


def _target(record: ChangeRecord, config: Config) -> dict[str, Any]:
    file_page = _page(config, record.file)
    if record.object_id is None:
        return {"type": "SpecificResource", "source": file_page}
    return {
        "type": "SpecificResource",
        "source": {"id": object_iri(config, record.object_id), "dcterms:identifier": record.object_id},
        "scope": file_page,  # where the edit was made: the context, not a limit (model, 4.6)
    }


def _format(record: ChangeRecord, value: str) -> str:
    """text/x-wiki where a wikitext value holds markup a plain-text reader would show; else text/plain."""
    if record.field not in STRUCTURED_FIELDS and record.field != "category" and _WIKI_MARKUP.search(value):
        return "text/x-wiki"
    return "text/plain"


def _is_item(value: str | None) -> bool:
    return value is not None and _ITEM.fullmatch(value) is not None


def _page(config: Config, title: str) -> str:
    """A wiki page's URL: /wiki/TITLE where scripts are in /w/ (Wikimedia), else index.php?title=."""
    parts = urlsplit(config.wiki.api_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    quoted = quote(title.replace(" ", "_"), safe=_TITLE_SAFE)
    if config.wiki.api_url.rsplit("/", 1)[0] == f"{origin}/w":
        return f"{origin}/wiki/{quoted}"
    return f"{index_url(config)}?title={quoted}"


def _user_page(config: Config, user: str) -> str:
    """User:NAME; an IP address has no user page, only its contributions (as on the review page)."""
    try:
        ipaddress.ip_address(user)
    except ValueError:
        return _page(config, f"User:{user}")
    return _page(config, f"Special:Contributions/{user}")
