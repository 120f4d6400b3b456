"""The semantic diff of two revisions: the models of both, compared field by field.

Pure: no I/O, no clock, deterministic order (wikitext fields in the order of the new page, then
location, licence, category and template changes, then structured data). It never raises: a page
whose info template does not parse, or a slot that is not JSON, gives one ``text`` (or
``structured data``) change carrying a line diff.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.base.values import Action, Kind
from watcher.diff.conversion import convert
from watcher.diff.mediainfo import MediaInfoModel, diff_mediainfo, parse_mediainfo
from watcher.diff.model import DiffSettings, FieldChange, RevisionContent
from watcher.diff.names import collapse_spaces, remove_comments
from watcher.diff.noise import is_maintenance_category, is_maintenance_template, pair_renames
from watcher.diff.normalise import comparable, same_value
from watcher.diff.redirects import TemplateRedirects
from watcher.diff.wikitext import (
    Coordinates,
    InfoParam,
    InfoTemplate,
    PageTemplate,
    Values,
    WikitextModel,
    page_template_params,
    parse_wikitext,
)

InfoPair = tuple[InfoTemplate | None, InfoTemplate | None, int]
# A page-level template converted into an info template (or back) shares at least this many values
# with it, or all of its own values.
CONVERSION_SHARED = 2

DEFAULT_SETTINGS = DiffSettings()


@dataclass(frozen=True, slots=True)
class RevisionModel:
    """One revision, normalised: ``None`` where the revision has no such slot."""

    wikitext: WikitextModel | None
    mediainfo: MediaInfoModel | None


def parse_revision(content: RevisionContent, settings: DiffSettings = DEFAULT_SETTINGS) -> RevisionModel:
    wikitext = parse_wikitext(content.wikitext, settings) if content.wikitext is not None else None
    return RevisionModel(wikitext, _parse_slot(content.mediainfo))


def _parse_slot(content: str | dict[str, Any] | None) -> MediaInfoModel | None:
    if content is None or (isinstance(content, str) and not content.strip()):
        return None
    return parse_mediainfo(content)


def diff_revisions(
    old: RevisionContent | None, new: RevisionContent, settings: DiffSettings = DEFAULT_SETTINGS
) -> list[FieldChange]:
    """The changes a curator would see between two revisions; ``old=None`` is a page creation."""
    if old is None:
        return []
    try:
        changes = diff_wikitext(old.wikitext, new.wikitext, settings)
    except Exception as exc:  # a bug must not lose the edit: degrade to the line diff
        changes = [text_change("text", old.wikitext, new.wikitext, f"internal error: {exc!r}")]
    try:
        changes.extend(diff_structured(old.mediainfo, new.mediainfo, settings))
    except Exception as exc:
        changes.append(
            text_change(
                "structured data",
                _slot_text(old.mediainfo),
                _slot_text(new.mediainfo),
                f"internal error: {exc!r}",
            )
        )
    return changes


def diff_wikitext(
    old: str | None, new: str | None, settings: DiffSettings = DEFAULT_SETTINGS
) -> list[FieldChange]:
    if old == new or (old is not None and new is not None and remove_comments(old) == remove_comments(new)):
        return []
    if old is None or new is None:
        return [text_change("text", old, new, "one revision has no text")]
    a, b = parse_wikitext(old, settings), parse_wikitext(new, settings)
    if not (a.parsed and b.parsed):
        if collapse_spaces(remove_comments(old)) == collapse_spaces(remove_comments(new)):
            return []
        return [text_change("text", old, new, a.problem or b.problem)]
    return diff_models(a, b, settings)


def diff_models(a: WikitextModel, b: WikitextModel, settings: DiffSettings) -> list[FieldChange]:
    redirects = settings.redirects
    pairs = _pair_info(a.info, b.info)
    converted_old, converted_new = _pair_conversions(pairs, a.templates, b.templates, redirects)
    return [
        *_info_changes(pairs, redirects),
        *_location_changes(a.locations, b.locations, settings.coordinate_tolerance, redirects),
        *_licence_changes(a, b, redirects),
        *_category_changes(a, b, settings),
        *_template_changes(
            [t for i, t in enumerate(a.templates) if i not in converted_old],
            [t for i, t in enumerate(b.templates) if i not in converted_new],
            settings,
        ),
    ]


def diff_structured(
    old: str | dict[str, Any] | None,
    new: str | dict[str, Any] | None,
    settings: DiffSettings = DEFAULT_SETTINGS,
) -> list[FieldChange]:
    if old == new:
        return []
    a, b = _parse_slot(old), _parse_slot(new)
    if (a is not None and not a.parsed) or (b is not None and not b.parsed):
        before, after = _slot_text(old), _slot_text(new)
        if before == after:
            return []
        problem = (a.problem if a is not None and not a.parsed else None) or (b.problem if b else None)
        return [text_change("structured data", before, after, problem, _pretty(a), _pretty(b))]
    return diff_mediainfo(a, b, settings)


def _slot_text(content: str | dict[str, Any] | None) -> str | None:
    if content is None or isinstance(content, str):
        return content
    model = parse_mediainfo(content)
    return model.raw


def _pretty(model: MediaInfoModel | None) -> str:
    if model is None:
        return ""
    try:
        return json.dumps(json.loads(model.raw), ensure_ascii=False, sort_keys=True, indent=1)
    except (ValueError, RecursionError):
        return model.raw


def text_change(
    field: str,
    old: str | None,
    new: str | None,
    reason: str | None = None,
    old_lines: str | None = None,
    new_lines: str | None = None,
) -> FieldChange:
    """The fallback record: the whole texts, and a unified line diff for display."""
    before = (old or "") if old_lines is None else old_lines
    after = (new or "") if new_lines is None else new_lines
    line_diff = "\n".join(
        difflib.unified_diff(before.splitlines(), after.splitlines(), "old", "new", n=2, lineterm="")
    )
    detail: dict[str, Any] = {"line_diff": line_diff}
    if reason:
        detail["reason"] = reason
    return FieldChange(field, "changed", old, new, detail=detail)


# -- info templates --------------------------------------------------------------------------------


def _pair_info(old: Sequence[InfoTemplate], new: Sequence[InfoTemplate]) -> list[InfoPair]:
    """Same name and occurrence first; then what is left over in order ({{Information}} turned into
    {{Artwork}} compares field by field)."""
    used: set[int] = set()
    pairs: list[InfoPair] = []
    seen: dict[str, int] = {}
    unmatched_new: list[int] = []
    for t in new:
        occurrence = seen.get(t.name, 0)
        seen[t.name] = occurrence + 1
        olds = [i for i, o in enumerate(old) if o.name == t.name]
        if occurrence < len(olds):
            used.add(olds[occurrence])
            pairs.append((old[olds[occurrence]], t, occurrence))
        else:
            pairs.append((None, t, occurrence))
            unmatched_new.append(len(pairs) - 1)
    left_old = [o for i, o in enumerate(old) if i not in used]
    for slot in unmatched_new:
        if left_old:
            _, fresh, occurrence = pairs[slot]
            pairs[slot] = (left_old.pop(0), fresh, occurrence)
    pairs.extend((o, None, 0) for o in left_old)
    return pairs


def _value_keys(params: Iterable[InfoParam], redirects: TemplateRedirects) -> Counter[tuple[str | None, str]]:
    return Counter((lang, comparable(text, redirects)) for p in params for lang, text in p.values)


def _pair_conversions(
    pairs: list[InfoPair],
    old: Sequence[PageTemplate],
    new: Sequence[PageTemplate],
    redirects: TemplateRedirects,
) -> tuple[set[int], set[int]]:
    """An info template with no partner pairs with a page-level template of another name that the edit
    removed (or added) and that shares its values: an institution template converted into {{Artwork}}
    compares field by field instead of one template removed and every field added. Changes ``pairs`` in
    place; returns the indexes of the page templates so consumed, old and new."""
    used_old: set[int] = set()
    used_new: set[int] = set()
    if all((a is None) == (b is None) for a, b, _ in pairs):
        return used_old, used_new  # every info template has its partner: the usual case
    new_names = {t.name for t in new}
    old_names = {t.name for t in old}
    gone = [i for i, t in enumerate(old) if t.name not in new_names]
    fresh = [i for i, t in enumerate(new) if t.name not in old_names]
    for slot, (a, b, occurrence) in enumerate(pairs):
        if (a is None) == (b is None):
            continue
        info = b if a is None else a
        assert info is not None
        pool, templates, used = (gone, old, used_old) if a is None else (fresh, new, used_new)
        wanted = _value_keys(info.params, redirects)
        best: tuple[int, int, tuple[InfoParam, ...]] | None = None
        for i in pool:
            if i in used:
                continue
            params = page_template_params(templates[i], redirects)
            own = _value_keys(params, redirects)
            shared = sum((own & wanted).values())
            total = sum(own.values())
            if shared and shared >= min(CONVERSION_SHARED, total) and (best is None or shared > best[0]):
                best = (shared, i, params)
        if best is None:
            continue
        used.add(best[1])
        partner = InfoTemplate(templates[best[1]].name, best[2])
        pairs[slot] = (partner, b, occurrence) if a is None else (a, partner, occurrence)
    return used_old, used_new


def _info_changes(pairs: list[InfoPair], redirects: TemplateRedirects) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for a, b, occurrence in pairs:
        names = [p.name for p in b.params] if b else []
        names += [p.name for p in a.params if p.name not in names] if a else []
        detail = {"occurrence": occurrence + 1} if occurrence else None
        old_name, new_name = (a.name if a else None), (b.name if b else None)
        if a is None or b is None or a.name == b.name:
            for name in names:
                pa = a.param(name) if a else None
                pb = b.param(name) if b else None
                changes.extend(
                    _value_changes(
                        name,
                        old_name,
                        new_name,
                        pa.values if pa else (),
                        pb.values if pb else (),
                        detail,
                        redirects,
                    )
                )
            continue
        conversion = convert(a.params, b.params, redirects)
        for name in names:
            changes.extend(
                _value_changes(
                    name,
                    old_name,
                    new_name,
                    conversion.old_values(name),
                    conversion.new_values(name),
                    detail,
                    redirects,
                )
            )
        for moved in conversion.rewritten:
            changes.append(
                FieldChange(
                    moved.target,
                    "changed",
                    moved.old,
                    moved.new,
                    template=b.name,
                    language=moved.language,
                    detail={**(detail or {}), "moved from": list(moved.sources)},
                )
            )
        moves: dict[str, Any] = {"moved": conversion.moved} if conversion.moved else {}
        template_detail = {**(detail or {}), **moves} or None
        changes.append(
            FieldChange("template", "changed", a.name, b.name, template=b.name, detail=template_detail)
        )
    return changes


def _language_order(lang: str | None) -> tuple[bool, str]:
    return (lang is not None, lang or "")


def _value_changes(
    field: str,
    old_template: str | None,
    new_template: str | None,
    old_values: Values,
    new_values: Values,
    detail: dict[str, Any] | None,
    redirects: TemplateRedirects,
) -> list[FieldChange]:
    """One record per language; unchanged untagged text newly wrapped in {{xx|…}} is ``tagged``."""
    va: dict[str | None, str] = dict(old_values)
    vb: dict[str | None, str] = dict(new_values)
    out: dict[str | None, FieldChange] = {}
    done: set[str | None] = set()

    def record(action: Action, lang: str | None, before: str | None, after: str | None) -> FieldChange:
        template = (old_template or new_template) if action == "removed" else (new_template or old_template)
        return FieldChange(field, action, before, after, template=template, language=lang, detail=detail)

    if None in va and (None not in vb or not same_value(va[None], vb[None], redirects)):
        untagged = va[None]
        fresh = sorted(k for k in vb if k is not None and k not in va)
        tag = next((lang for lang in fresh if same_value(untagged, vb[lang], redirects)), None)
        if tag is not None:
            out[tag] = record("tagged", tag, vb[tag], vb[tag])
            done.update((tag, None))
            if None in vb:  # other untagged text took the place of the text that was tagged
                out[None] = record("added", None, None, vb[None])
    for lang in set(va) | set(vb):
        if lang in done:
            continue
        before, after = va.get(lang), vb.get(lang)
        if before is None and after is not None:
            out[lang] = record("added", lang, None, after)
        elif after is None and before is not None:
            out[lang] = record("removed", lang, before, None)
        elif before is not None and after is not None and not same_value(before, after, redirects):
            out[lang] = record("changed", lang, before, after)
    return [out[lang] for lang in sorted(out, key=_language_order)]


# -- coordinates, licences, categories, other templates ----------------------------------------------


def _location_changes(
    old: Sequence[Coordinates], new: Sequence[Coordinates], tolerance: float, redirects: TemplateRedirects
) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for field in ("location", "object location"):
        olds = [c for c in old if c.field == field]
        news = [c for c in new if c.field == field]
        for i in range(max(len(olds), len(news))):
            a = olds[i] if i < len(olds) else None
            b = news[i] if i < len(news) else None
            if a is None and b is not None:
                changes.append(FieldChange(field, "added", None, b.value(), template=b.template))
            elif b is None and a is not None:
                changes.append(FieldChange(field, "removed", a.value(), None, template=a.template))
            elif a is not None and b is not None and not _same_place(a, b, tolerance, redirects):
                changes.append(FieldChange(field, "changed", a.value(), b.value(), template=b.template))
    return changes


def _same_place(a: Coordinates, b: Coordinates, tolerance: float, redirects: TemplateRedirects) -> bool:
    if a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None:
        return abs(a.lat - b.lat) <= tolerance and abs(a.lon - b.lon) <= tolerance
    return same_value(a.raw, b.raw, redirects)


def _licence_changes(a: WikitextModel, b: WikitextModel, redirects: TemplateRedirects) -> list[FieldChange]:
    old = {lic.key: lic for lic in a.licences}
    new = {lic.key: lic for lic in b.licences}
    changes: list[FieldChange] = []
    for key, lic in new.items():
        before = old.get(key)
        if before is None:
            changes.append(FieldChange("licence", "added", None, lic.value))
        elif not same_value(before.wikitext, lic.wikitext, redirects):
            changes.append(FieldChange("licence", "changed", before.value, lic.value))
    changes.extend(
        FieldChange("licence", "removed", lic.value, None) for k, lic in old.items() if k not in new
    )
    return changes


def _category_kind(names: Iterable[str], settings: DiffSettings) -> Kind:
    return "maintenance" if all(is_maintenance_category(n, settings) for n in names) else "content"


def _category_changes(a: WikitextModel, b: WikitextModel, settings: DiffSettings) -> list[FieldChange]:
    """Sort keys never count; a removed and an added near-identical name are one rename."""
    old = [c.name for c in a.categories]
    new = [c.name for c in b.categories]
    old_set, new_set = set(old), set(new)
    removed = [n for n in old if n not in new_set]
    added = [n for n in new if n not in old_set]
    renamed = {after: before for before, after in pair_renames(removed, added)}
    renamed_from = set(renamed.values())
    changes: list[FieldChange] = []
    for name in added:
        if name in renamed:
            kind = _category_kind((renamed[name], name), settings)
            changes.append(FieldChange("category", "changed", renamed[name], name, kind=kind))
        else:
            changes.append(
                FieldChange("category", "added", None, name, kind=_category_kind((name,), settings))
            )
    changes.extend(
        FieldChange("category", "removed", name, None, kind=_category_kind((name,), settings))
        for name in removed
        if name not in renamed_from
    )
    return changes


def _template_changes(
    old: Sequence[PageTemplate], new: Sequence[PageTemplate], settings: DiffSettings
) -> list[FieldChange]:
    """Page-level templates outside the info template ({{Extracted from|…}}, {{Uncategorized}}...):
    matched by name, identical calls first, then in order; field ``template``, the call as value."""
    changes: list[FieldChange] = []
    names = list(dict.fromkeys([t.name for t in new] + [t.name for t in old]))
    for name in names:
        kind: Kind = "maintenance" if is_maintenance_template(name, settings) else "content"
        olds = [t.wikitext for t in old if t.name == name]
        news = [t.wikitext for t in new if t.name == name]
        left_new: list[str] = []
        for text in news:
            twin = next((o for o in olds if same_value(o, text, settings.redirects)), None)
            if twin is not None:
                olds.remove(twin)
            else:
                left_new.append(text)
        for text in left_new:
            if olds:
                before = olds.pop(0)
                changes.append(FieldChange("template", "changed", before, text, template=name, kind=kind))
            else:
                changes.append(FieldChange("template", "added", None, text, template=name, kind=kind))
        changes.extend(FieldChange("template", "removed", o, None, template=name, kind=kind) for o in olds)
    return changes
