"""Structured data (the MediaInfo slot): captions, descriptions and statements, and their diff.

Accepts every shape a watcher meets: the slot's JSON text, a wbgetentities response
(``{"entities": {...}}``), a single entity, a dump line; ``[]`` for an empty map (T222159).
Statements are matched by the GUID after the ``$`` (undeletion rewrites the M-id prefix) and
compared without hashes and without ``qualifiers-order``/``snaks-order``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watcher.diff.model import DiffSettings, FieldChange
from watcher.diff.names import collapse_spaces
from watcher.diff.wikitext import format_degrees

_ENTITY_URI = re.compile(r"^https?://[^ ]*/entity/([A-Z]\d+)$")
_ENTITY_PREFIX = {"item": "Q", "property": "P", "lexeme": "L", "mediainfo": "M", "form": "", "sense": ""}
RANKS = ("preferred", "normal", "deprecated")


@dataclass(frozen=True, slots=True)
class Snak:
    property: str
    value: str  # as the contract spells it: Q-id, text, "lat,lon", time string, "amount unit"
    key: str  # exact comparison form (precision, calendar, language... included)
    point: tuple[float, float] | None = None
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    key: str
    id: str | None
    property: str
    main: Snak
    qualifiers: tuple[tuple[str, tuple[Snak, ...]], ...]
    rank: str
    references: tuple[str, ...]  # each reference as canonical JSON of {property: [values]}

    def qualifier_values(self) -> dict[str, list[str]]:
        return {prop: [s.value for s in snaks] for prop, snaks in self.qualifiers}

    def reference_values(self) -> list[dict[str, list[str]]]:
        return [json.loads(r) for r in self.references]


@dataclass(frozen=True, slots=True)
class MediaInfoModel:
    raw: str
    parsed: bool
    entity_id: str | None = None
    captions: Mapping[str, str] | None = None
    descriptions: Mapping[str, str] | None = None
    statements: tuple[Statement, ...] = ()
    problem: str | None = None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _entity_id(value: Mapping[str, Any]) -> str:
    if isinstance(value.get("id"), str):
        return str(value["id"])
    prefix = _ENTITY_PREFIX.get(str(value.get("entity-type", "item")), "Q")
    return f"{prefix}{value.get('numeric-id', '?')}"


def _unit(unit: Any) -> str:
    if not isinstance(unit, str) or unit == "1":
        return ""
    match = _ENTITY_URI.match(unit)
    return match.group(1) if match else unit


def _amount(amount: Any) -> str:
    text = str(amount)
    return text[1:] if text.startswith("+") else text


def render_snak(snak: Any) -> Snak | None:
    """A snak as its contract spelling plus an exact comparison key; None where it is no snak."""
    if not isinstance(snak, Mapping):
        return None
    prop = str(snak.get("property", "?"))
    snaktype = snak.get("snaktype", "value")
    if snaktype in ("somevalue", "novalue"):
        return Snak(prop, str(snaktype), str(snaktype))
    datavalue = snak.get("datavalue")
    if not isinstance(datavalue, Mapping):
        return Snak(prop, "?", _dump(datavalue))
    kind, value = datavalue.get("type"), datavalue.get("value")
    if kind == "wikibase-entityid" and isinstance(value, Mapping):
        text = _entity_id(value)
        return Snak(prop, text, text)
    if kind == "string" and isinstance(value, str):
        return Snak(prop, value, "s:" + value)
    if kind == "monolingualtext" and isinstance(value, Mapping):
        text, lang = str(value.get("text", "")), str(value.get("language", ""))
        return Snak(prop, text, f"m:{lang}:{text}", extra=(("language", lang),))
    if kind == "time" and isinstance(value, Mapping):
        time = str(value.get("time", ""))
        precision = str(value.get("precision", ""))
        calendar = _unit(value.get("calendarmodel")) or ""
        return Snak(
            prop,
            time,
            f"t:{time}|{precision}|{calendar}",
            extra=(("precision", precision), ("calendar", calendar)),
        )
    if kind == "globecoordinate" and isinstance(value, Mapping):
        lat, lon = value.get("latitude"), value.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            text = f"{format_degrees(float(lat))},{format_degrees(float(lon))}"
            globe = _unit(value.get("globe"))
            extra: tuple[tuple[str, str], ...] = (("globe", globe),) if globe and globe != "Q2" else ()
            return Snak(prop, text, f"g:{text}|{globe}", (float(lat), float(lon)), extra)
    if kind == "quantity" and isinstance(value, Mapping):
        amount, unit = _amount(value.get("amount", "")), _unit(value.get("unit"))
        text = f"{amount} {unit}" if unit else amount
        bounds = tuple((name, _amount(value[name])) for name in ("lowerBound", "upperBound") if name in value)
        return Snak(prop, text, "q:" + text + _dump(bounds), extra=bounds)
    return Snak(prop, _dump(value), _dump(datavalue))


def _same_snak(a: Snak, b: Snak, tolerance: float) -> bool:
    if a.key == b.key:
        return True
    if a.point is not None and b.point is not None and a.extra == b.extra:
        return abs(a.point[0] - b.point[0]) <= tolerance and abs(a.point[1] - b.point[1]) <= tolerance
    return False


def _snak_groups(raw: Any) -> tuple[tuple[str, tuple[Snak, ...]], ...]:
    if not isinstance(raw, Mapping):
        return ()
    groups: list[tuple[str, tuple[Snak, ...]]] = []
    for prop, snaks in raw.items():
        if isinstance(snaks, list):
            rendered = tuple(s for s in (render_snak(x) for x in snaks) if s is not None)
            if rendered:
                groups.append((str(prop), rendered))
    return tuple(groups)


def _statement(raw: Any, prop: str, index: int) -> Statement | None:
    if not isinstance(raw, Mapping):
        return None
    main = render_snak(raw.get("mainsnak"))
    if main is None:
        return None
    guid = raw.get("id") if isinstance(raw.get("id"), str) else None
    prop = main.property if main.property != "?" else prop
    # The GUID after the "$" (undeletion rewrites the M-id before it); a GUID belongs to one property.
    key = f"{prop}|{guid.split('$', 1)[-1] if guid else f'#{index}'}".lower()
    references: list[str] = []
    for ref in raw.get("references") or ():
        if isinstance(ref, Mapping):
            groups = _snak_groups(ref.get("snaks"))
            references.append(_dump({p: sorted(s.value for s in snaks) for p, snaks in groups}))
    rank = raw.get("rank")
    return Statement(
        key=key,
        id=guid,
        property=prop,
        main=main,
        qualifiers=_snak_groups(raw.get("qualifiers")),
        rank=rank if isinstance(rank, str) else "normal",
        references=tuple(sorted(references)),
    )


def _terms(raw: Any) -> dict[str, str]:
    """labels/descriptions: ``{lang: {language, value}}``; ``[]`` is the empty map."""
    out: dict[str, str] = {}
    if isinstance(raw, Mapping):
        for lang, term in raw.items():
            value = term.get("value") if isinstance(term, Mapping) else term
            if isinstance(value, str) and value.strip():
                out[str(lang)] = value
    return out


def _entity(data: Any) -> Mapping[str, Any] | None:
    if isinstance(data, Mapping) and isinstance(data.get("entities"), Mapping):
        entities = [e for e in data["entities"].values() if isinstance(e, Mapping)]
        return entities[0] if entities else None
    return data if isinstance(data, Mapping) else None


def parse_mediainfo(content: str | Mapping[str, Any]) -> MediaInfoModel:
    """The model of one revision's MediaInfo; ``parsed=False`` for JSON that is no entity."""
    if isinstance(content, str):
        raw = content
        try:
            data: Any = json.loads(content)
        except (ValueError, RecursionError):
            return MediaInfoModel(raw, False, problem="not valid JSON")
    else:
        data = content
        try:
            raw = json.dumps(content, ensure_ascii=False, sort_keys=True, indent=1, default=str)
        except (ValueError, TypeError, RecursionError):
            raw = repr(content)
    entity = _entity(data)
    if entity is None:
        return MediaInfoModel(raw, False, problem="not a MediaInfo entity")
    statements: list[Statement] = []
    claims = entity.get("statements", entity.get("claims"))
    seen: set[str] = set()
    if isinstance(claims, Mapping):
        for prop, items in claims.items():
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                statement = _statement(item, str(prop), index)
                if statement is None:
                    continue
                if statement.key in seen:  # a duplicated GUID: keep both, apart
                    statement = Statement(
                        f"{statement.key}#{index}",
                        statement.id,
                        statement.property,
                        statement.main,
                        statement.qualifiers,
                        statement.rank,
                        statement.references,
                    )
                seen.add(statement.key)
                statements.append(statement)
    entity_id = entity.get("id")
    return MediaInfoModel(
        raw,
        True,
        entity_id=entity_id if isinstance(entity_id, str) else None,
        captions=_terms(entity.get("labels")),
        descriptions=_terms(entity.get("descriptions")),
        statements=tuple(statements),
    )


def _property_order(prop: str) -> tuple[int, str]:
    digits = prop[1:]
    return (int(digits), prop) if digits.isdigit() else (1 << 62, prop)


def _term_changes(field: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for lang in sorted(set(old) | set(new)):
        a, b = old.get(lang), new.get(lang)
        if a is None and b is not None:
            changes.append(FieldChange(field, "added", None, b, language=lang))
        elif b is None and a is not None:
            changes.append(FieldChange(field, "removed", a, None, language=lang))
        elif a is not None and b is not None and collapse_spaces(a) != collapse_spaces(b):
            changes.append(FieldChange(field, "changed", a, b, language=lang))
    return changes


def _qualifiers_equal(a: Statement, b: Statement, tolerance: float) -> bool:
    qa, qb = dict(a.qualifiers), dict(b.qualifiers)
    if set(qa) != set(qb):
        return False
    for prop, snaks_a in qa.items():
        snaks_b = list(qb[prop])
        if len(snaks_a) != len(snaks_b):
            return False
        for snak in snaks_a:  # order of values within a qualifier is no change
            match = next((s for s in snaks_b if _same_snak(snak, s, tolerance)), None)
            if match is None:
                return False
            snaks_b.remove(match)
    return True


def _what_changed(a: Statement, b: Statement, tolerance: float) -> list[str]:
    changed: list[str] = []
    if not _same_snak(a.main, b.main, tolerance):
        changed.append("value")
    if not _qualifiers_equal(a, b, tolerance):
        changed.append("qualifiers")
    if a.rank != b.rank:
        changed.append("rank")
    if a.references != b.references:
        changed.append("references")
    return changed


def _statement_detail(s: Statement) -> dict[str, Any]:
    detail: dict[str, Any] = {"rank": s.rank}
    if s.qualifiers:
        detail["qualifiers"] = s.qualifier_values()
    if s.references:
        detail["references"] = s.reference_values()
    if s.main.extra:
        detail["value_detail"] = dict(s.main.extra)
    if s.id:
        detail["id"] = s.id
    return detail


def _statement_change(old: Statement | None, new: Statement | None, tolerance: float) -> FieldChange | None:
    if old is not None and new is not None:
        changed = _what_changed(old, new, tolerance)
        if not changed:
            return None
        detail = _statement_detail(new)
        detail["changed"] = changed
        before = _statement_detail(old)
        for name in ("qualifiers", "rank", "references", "value_detail"):
            if before.get(name) != detail.get(name):
                detail["old_" + name] = before.get(name)
        return FieldChange(
            "statement", "changed", old.main.value, new.main.value, property=new.property, detail=detail
        )
    if new is not None:
        return FieldChange(
            "statement", "added", None, new.main.value, property=new.property, detail=_statement_detail(new)
        )
    assert old is not None
    return FieldChange(
        "statement", "removed", old.main.value, None, property=old.property, detail=_statement_detail(old)
    )


def _statement_changes(
    old: tuple[Statement, ...], new: tuple[Statement, ...], tolerance: float
) -> list[FieldChange]:
    old_by_key = {s.key: s for s in old}
    new_keys = {s.key for s in new}
    pairs: list[tuple[Statement | None, Statement | None]] = []
    for prop in sorted({s.property for s in (*old, *new)}, key=_property_order):
        olds = [s for s in old if s.property == prop]
        news = [s for s in new if s.property == prop]
        left_old = [s for s in olds if s.key not in new_keys]
        left_new = [s for s in news if s.key not in old_by_key]
        # Statements re-created under a new GUID: first the identical ones (no change), then in order
        # (a value replaced is one `changed`, never removed + added).
        matched: dict[str, Statement] = {}
        for s in left_new:
            twin = next((o for o in left_old if not _what_changed(o, s, tolerance)), None)
            if twin is not None:
                left_old.remove(twin)
                matched[s.key] = twin
        for s in left_new:
            if s.key not in matched and left_old:
                matched[s.key] = left_old.pop(0)
        for s in news:
            pairs.append((old_by_key.get(s.key) or matched.get(s.key), s))
        pairs.extend((o, None) for o in left_old)
    changes: list[FieldChange] = []
    for a, b in pairs:
        change = _statement_change(a, b, tolerance)
        if change is not None:
            changes.append(change)
    return changes


def diff_mediainfo(
    old: MediaInfoModel | None, new: MediaInfoModel | None, settings: DiffSettings
) -> list[FieldChange]:
    """Captions, descriptions, then statements by property number. ``None`` is "no structured data"."""
    empty = MediaInfoModel("", True, captions={}, descriptions={})
    a, b = old or empty, new or empty
    return [
        *_term_changes("caption", a.captions or {}, b.captions or {}),
        *_term_changes("structured description", a.descriptions or {}, b.descriptions or {}),
        *_statement_changes(a.statements, b.statements, settings.coordinate_tolerance),
    ]
