"""Structured-data values in words: property names, items with their labels, times at their precision,
quantities with their unit, coordinates with a map, licences and copyright statuses by name.

A statement's value in a record is its contract spelling (``watcher.diff.mediainfo.render_snak``):
``Q17199752`` for an item, ``+1890-00-00T00:00:00Z`` for a time, ``59.3293,18.0686`` for coordinates,
``12.5 Q174728`` for a quantity (amount, then the unit's Q-id), the text for strings, ``somevalue`` /
``novalue``. Labels come from the caller (``labels``: entity id → label in the reader's language, from
the label cache); the built-in tables below are the fallback where the cache has none, in English.

Times: the record's value is the time string only; its precision is in the record's detail
(``detail["value_detail"]["precision"]``). A time given as ``+1890-05-03T00:00:00Z/11`` (QuickStatements'
notation, what ``readable.statement_value`` makes from the detail) is read at that precision. Without
one the precision is inferred from zeroed parts: month ``00`` is a year, day ``00`` a month, else a day.
The inference is wrong for values written with ``01-01`` at year precision (the M566797 sample holds
``+1904-01-01T00:00:00Z`` with precision 9): read without its precision that is "1 January 1904".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from watcher.diff.plaintext import calendar_date, ordinal

WIKIDATA_ENTITY = "https://www.wikidata.org/wiki/"

# Precisions of a Wikibase time (Wikibase DataModel TimeValue::PRECISION_*).
PRECISION_MILLENNIUM, PRECISION_CENTURY, PRECISION_DECADE, PRECISION_YEAR = 6, 7, 8, 9
PRECISION_MONTH, PRECISION_DAY, PRECISION_HOUR, PRECISION_MINUTE, PRECISION_SECOND = 10, 11, 12, 13, 14

# The properties structured data on Commons uses (Commons:Structured data/Modeling; the samples'
# statements and qualifiers), by their English Wikidata label.
PROPERTY_NAMES: Mapping[str, str] = {
    "P17": "country",
    "P31": "instance of",
    "P50": "author",
    "P84": "architect",
    "P88": "commissioned by",
    "P127": "owned by",
    "P131": "located in the administrative territorial entity",
    "P135": "movement",
    "P136": "genre",
    "P137": "operator",
    "P143": "imported from Wikimedia project",
    "P170": "creator",
    "P180": "depicts",
    "P186": "made from material",
    "P195": "collection",
    "P217": "inventory number",
    "P248": "stated in",
    "P275": "copyright license",
    "P276": "location",
    "P279": "subclass of",
    "P361": "part of",
    "P459": "determination method",
    "P462": "color",
    "P518": "applies to part",
    "P527": "has part(s)",
    "P571": "inception",
    "P577": "publication date",
    "P580": "start time",
    "P582": "end time",
    "P585": "point in time",
    "P608": "exhibition history",
    "P625": "coordinate location",
    "P642": "of",
    "P813": "retrieved",
    "P854": "reference URL",
    "P887": "based on heuristic",
    "P921": "main subject",
    "P973": "described at URL",
    "P1028": "donated by",
    "P1071": "location of creation",
    "P1114": "quantity",
    "P1163": "media type",
    "P1259": "coordinates of the point of view",
    "P1319": "earliest date",
    "P1326": "latest date",
    "P1343": "described by source",
    "P1433": "published in",
    "P1476": "title",
    "P1480": "sourcing circumstances",
    "P1545": "series ordinal",
    "P1640": "curator",
    "P1684": "inscription",
    "P1810": "subject named as",
    "P2047": "duration",
    "P2048": "height",
    "P2049": "width",
    "P2061": "aspect ratio (W:H)",
    "P2067": "mass",
    "P2079": "fabrication method",
    "P2093": "author name string",
    "P2096": "media legend",
    "P2151": "focal length",
    "P2386": "diameter",
    "P2610": "thickness",
    "P2677": "relative position within image",
    "P2699": "URL",
    "P3342": "significant person",
    "P3575": "data size",
    "P3831": "object has role",
    "P4082": "captured with",
    "P4092": "checksum",
    "P4174": "Wikimedia username",
    "P4656": "Wikimedia import URL",
    "P4765": "Commons compatible image available at URL",
    "P5102": "nature of statement",
    "P6216": "copyright status",
    "P6243": "digital representation of",
    "P6731": "Commons quality assessment",
    "P6757": "exposure time",
    "P6789": "ISO speed",
    "P6790": "f-number",
    "P7482": "source of file",
    "P7984": "depicted format",
    "P9149": "coordinates of depicted place",
}

# Licence items of P275 (multichill/toollabs bot/commons/own_work_sdoc.py getLicenseTemplates(), the
# template → item map Commons' structured-data bots use), by their usual short names.
LICENCE_NAMES: Mapping[str, str] = {
    "Q6938433": "CC0",
    "Q30942811": "CC BY 1.0",
    "Q19125117": "CC BY 2.0",
    "Q18810333": "CC BY 2.5",
    "Q14947546": "CC BY 3.0",
    "Q20007257": "CC BY 4.0",
    "Q47001652": "CC BY-SA 1.0",
    "Q19068220": "CC BY-SA 2.0",
    "Q19113751": "CC BY-SA 2.5",
    "Q14946043": "CC BY-SA 3.0",
    "Q42716613": "CC BY-SA 3.0 DE",
    "Q18195572": "CC BY-SA 3.0 NL",
    "Q18199165": "CC BY-SA 4.0",
    "Q50829104": "GFDL",
    "Q26921686": "GFDL 1.2",
    "Q152332": "Free Art License",
    "Q7257361": "Public Domain Mark",
    "Q98592850": "released into the public domain by the copyright holder",
}
# Copyright status items of P6216.
COPYRIGHT_STATUS_NAMES: Mapping[str, str] = {
    "Q19652": "public domain",
    "Q50423863": "copyrighted",
    "Q88088423": "copyrighted, dedicated to the public domain by copyright holder",
}
# Other values bots write on nearly every file (P7482 source of file, P3831 role, P31, P1480).
COMMON_ITEM_NAMES: Mapping[str, str] = {
    "Q66458942": "original creation by uploader",
    "Q74228490": "file available on the internet",
    "Q33231": "photographer",
    "Q125191": "photograph",
    "Q5727902": "circa",
}
# Units of quantities (the amounts' ``unit`` Q-ids), by their English labels.
UNIT_NAMES: Mapping[str, str] = {
    "Q11573": "metre",
    "Q828224": "kilometre",
    "Q200323": "decimetre",
    "Q174728": "centimetre",
    "Q174789": "millimetre",
    "Q218593": "inch",
    "Q3710": "foot",
    "Q11570": "kilogram",
    "Q41803": "gram",
    "Q100995": "pound",
    "Q11574": "second",
    "Q8799": "byte",
    "Q355198": "pixel",
}
ITEM_NAMES: Mapping[str, str] = {**LICENCE_NAMES, **COPYRIGHT_STATUS_NAMES, **COMMON_ITEM_NAMES, **UNIT_NAMES}

SNAK_WORDS: Mapping[str, str] = {"somevalue": "unknown value", "novalue": "no value"}

ENTITY_ID = re.compile(r"^[PQL]\d+$")
_TIME = re.compile(r"^([+-]?\d+)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z(?:/(\d{1,2}))?$")
_COORDINATES = re.compile(r"^(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)$")
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?: (\S+))?$")
_URL = re.compile(r"^https?://\S+$")


def property_name(prop: str, labels: Mapping[str, str] = {}) -> str:
    """``depicts`` for P180: the cached label, else the built-in English name, else "property P…"."""
    return labels.get(prop) or PROPERTY_NAMES.get(prop) or f"property {prop}"


def entity_label(entity: str, labels: Mapping[str, str] = {}) -> str | None:
    return labels.get(entity) or ITEM_NAMES.get(entity)


def item_words(entity: str, labels: Mapping[str, str] = {}) -> str:
    """``Crassula (Q17199752)`` where a label is known, else the id alone."""
    label = entity_label(entity, labels)
    return f"{label} ({entity})" if label else entity


def entity_link(entity: str) -> str | None:
    """Wikidata's page of an item, property or lexeme."""
    return WIKIDATA_ENTITY + entity if ENTITY_ID.match(entity) else None


def is_time(value: str) -> bool:
    return _TIME.match(value) is not None


def time_words(value: str, precision: int | None = None) -> str:
    """A Wikibase time at its precision: 1890, May 1890, 3 May 1890, 1890s, 19th century, 500 BC.

    ``precision`` (or a ``/N`` suffix on ``value``) wins; without either it is inferred (module
    docstring). Text that is no Wikibase time comes back as it is.
    """
    match = _TIME.match(value.strip())
    if match is None:
        return value
    year_text, month_text, day_text, hour, minute, _, suffix = match.groups()
    year, month, day = int(year_text), int(month_text), int(day_text)
    if precision is None and suffix is not None:
        precision = int(suffix)
    if precision is None:
        precision = PRECISION_YEAR if month == 0 else PRECISION_MONTH if day == 0 else PRECISION_DAY
    era = " BC" if year < 0 else ""
    size = abs(year)
    if precision <= PRECISION_MILLENNIUM:
        if precision < PRECISION_MILLENNIUM:
            return f"{size}{era}"
        return f"{ordinal(max(1, math.ceil(size / 1000)))} millennium{era}"
    if precision == PRECISION_CENTURY:
        return f"{ordinal(max(1, math.ceil(size / 100)))} century{era}"
    if precision == PRECISION_DECADE:
        return f"{size // 10 * 10}s{era}"
    text = year_text if year >= 0 else f"-{size}"
    if precision == PRECISION_YEAR:
        return calendar_date(text)
    if precision == PRECISION_MONTH:
        return calendar_date(text, month or None)
    words = calendar_date(text, month or None, day or None)
    if precision >= PRECISION_HOUR:
        return f"{words}, {hour}:{minute} UTC"
    return words


def unit_words(unit: str, labels: Mapping[str, str] = {}) -> str:
    """A quantity's unit: its label, else the id (or the URL of a unit outside Wikidata)."""
    return labels.get(unit) or UNIT_NAMES.get(unit) or unit


def quantity_words(value: str, labels: Mapping[str, str] = {}) -> str:
    """``12.5 centimetre`` for ``12.5 Q174728``; a unitless amount as it is."""
    match = _QUANTITY.match(value.strip())
    if match is None:
        return value
    amount, unit = match.groups()
    amount = amount.lstrip("+")
    return f"{amount} {unit_words(unit, labels)}" if unit else amount


def map_link(lat: str, lon: str) -> str:
    """OpenStreetMap centred on the point, zoom 15."""
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"


def coordinates(value: str) -> tuple[str, str] | None:
    """``(lat, lon)`` of a ``lat,lon`` value within the globe's bounds; None for anything else."""
    match = _COORDINATES.match(value.strip())
    if match is None:
        return None
    lat, lon = match.groups()
    if abs(float(lat)) > 90 or abs(float(lon)) > 360:
        return None
    return lat, lon


def statement_words(prop: str | None, value: str, labels: Mapping[str, str] = {}) -> tuple[str, str | None]:
    """A statement's value (the contract's spelling) as (words, link): a Wikidata page for an item, a
    map for coordinates, the address of a URL."""
    text = value.strip()
    if text in SNAK_WORDS:
        return SNAK_WORDS[text], None
    if ENTITY_ID.match(text):
        return item_words(text, labels), entity_link(text)
    if is_time(text):
        return time_words(text), None
    point = coordinates(text)
    if point is not None:
        return f"{point[0]}, {point[1]}", map_link(*point)
    if _QUANTITY.match(text):
        return quantity_words(text, labels), None
    if _URL.match(text):
        return text, text
    return value, None


def statement_entity_ids(prop: str | None, *values: str | None) -> list[str]:
    """The ids whose labels would improve a statement's words: the property, items, quantity units."""
    ids: list[str] = [prop] if prop and ENTITY_ID.match(prop) else []
    for value in values:
        if not value:
            continue
        text = value.strip()
        if ENTITY_ID.match(text):
            ids.append(text)
            continue
        match = _QUANTITY.match(text)
        if match and match.group(2) and ENTITY_ID.match(match.group(2)):
            ids.append(match.group(2))
    return list(dict.fromkeys(ids))
