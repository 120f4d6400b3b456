"""Import-ready profiles: the wide layout as a collection system's own importer reads it, unedited.

Each profile is one entry of ``REGISTRY``: its column names (defaults under the museum's
``[export.columns]``, which always win), encoding, delimiter, quoting and BOM, whether cells are
guarded against spreadsheet formulas, and an optional companion file (a starter mapping). What each was
checked against, and how to import it step by step, is in docs/export-profiles.md.

- ``generic``: a spreadsheet. UTF-8 with a BOM (Excel reads it as UTF-8), comma-delimited, CRLF, every
  cell holding a comma, quote, line break or ``;`` in quotes (a locale whose list separator is ``;``
  does not split it), one sheet, formula guard on.
- ``collectiveaccess``: the data CSV for Providence's Data Importer keyed on ``idno``, for a mapping
  with ``existingRecordPolicy = merge_on_idno_with_replace`` and ``mergeOnly = 1`` (existing objects
  are updated, none created); the companion is a starter mapping sheet. UTF-8 without a BOM (PHP's
  ``fgetcsv`` does not strip one), backslashes written the way ``fgetcsv`` reads them.
- ``omeka``: the CSV for Omeka S' CSV Import module, action "Append" matched on ``dcterms:identifier``
  (multivalue separator ``;``); headers are property terms so that they map themselves, a language
  column is ``TERM @LANG`` for its language to be set in the mapping step; the companion lists every
  column's property and language.

Adding a profile: a ``Profile`` line in ``REGISTRY`` (and, where it needs one, a companion function).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from watcher.base.values import ExportLayout
from watcher.config import Config
from watcher.export.csvfile import guard_formula
from watcher.export.delimited import BOM, RFC4180, Dialect
from watcher.export.shared import CHUNK_ROWS, index_url
from watcher.export.wide import (
    COLLECTION,
    FIXED,
    JOIN,
    PROVENANCE,
    REMOVED,
    WideTable,
    arrange,
    is_set_key,
    present_keys,
    row_collections,
    wide_rows,
)
from watcher.store.queue import ChangeRecord

Companion = Callable[[WideTable, "Profile"], str]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str  # the `--profile` value
    label: str  # what a form shows
    description: str
    layout: ExportLayout
    columns: Mapping[str, str]  # default column names for keys [export.columns] does not map
    dialect: Dialect
    bom: bool
    formula_guard: bool  # guard cells a spreadsheet would run as formulas
    # How a FIELD/LANGUAGE column is named from FIELD's default name ("{column} @{language}"); None: it
    # has no default name.
    language_column: str | None = None
    separator: str = JOIN  # between the values of one cell (categories, statements, files, editors)
    extension: str = "csv"
    content_type: str = "text/csv"
    companion: Companion | None = None
    companion_suffix: str = ""  # the companion file's name: the data file's stem + this
    reference: str = ""  # the importer's documentation

    def column_names(self, museum: Mapping[str, str], present: set[str]) -> dict[str, str]:
        """The museum's columns, then this profile's defaults for the keys it leaves unmapped.

        Field defaults apply only to keys the export holds, so that a profile adds no empty columns;
        the fixed and provenance columns' defaults always apply.
        """
        names = dict(museum)
        for key, column in self.columns.items():
            if key in names:
                continue
            if key in FIXED or key in PROVENANCE or key in present:
                names[key] = column
        if self.language_column:
            for key in sorted(present):
                base, _, language = key.partition("/")
                if key not in names and language and not key.endswith(REMOVED) and base in self.columns:
                    names[key] = self.language_column.format(column=self.columns[base], language=language)
        return names


def profile_table(records: Sequence[ChangeRecord], profile: Profile, config: Config) -> WideTable:
    """The wide table of ``records`` with the profile's column names under the museum's."""
    collections = row_collections(config)
    rows = wide_rows(records, index_url(config), separator=profile.separator, collections=collections)
    names = profile.column_names(config.export.columns, present_keys(rows))
    return arrange(rows, names, by_collection=collections is not None)


def iter_table(
    table: WideTable, profile: Profile, *, bom: bool | None = None, formula_guard: bool | None = None
) -> Iterator[str]:
    """The table as text chunks of up to CHUNK_ROWS rows, in the profile's dialect."""
    guard = profile.formula_guard if formula_guard is None else formula_guard
    dialect = profile.dialect
    lines: list[str] = [BOM] if (profile.bom if bom is None else bom) else []
    for number, cells in enumerate(table.lists(profile.separator)):
        lines.append(dialect.line(guard_formula(c) if guard else c for c in cells))
        if number % CHUNK_ROWS == 0 and number:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def iter_profile(
    records: Sequence[ChangeRecord],
    profile: Profile | str,
    config: Config,
    *,
    bom: bool | None = None,
    formula_guard: bool | None = None,
) -> Iterator[str]:
    """``records`` in ``profile`` as text chunks (a streamed download); ``bom``/``formula_guard`` override it."""
    spec = get_profile(profile) if isinstance(profile, str) else profile
    yield from iter_table(profile_table(records, spec, config), spec, bom=bom, formula_guard=formula_guard)


def write_profile(
    records: Sequence[ChangeRecord],
    profile: Profile | str,
    config: Config,
    out: TextIO,
    *,
    bom: bool | None = None,
    formula_guard: bool | None = None,
) -> WideTable:
    """Write ``records`` to ``out`` in ``profile``; returns the table (its ``ids`` are what was written).

    ``out`` is a text stream opened with ``newline=""`` (the dialect writes its own line ends).
    """
    spec = get_profile(profile) if isinstance(profile, str) else profile
    table = profile_table(records, spec, config)
    for chunk in iter_table(table, spec, bom=bom, formula_guard=formula_guard):
        out.write(chunk)
    return table


def companion_path(data_path: Path, profile: Profile) -> Path | None:
    """Where the profile's companion goes beside a data file (``x.csv`` → ``x.mapping.csv``); None: none."""
    if profile.companion is None:
        return None
    return data_path.with_name(data_path.stem + profile.companion_suffix)


def companion_text(table: WideTable, profile: Profile) -> str | None:
    """The profile's companion for this table (a starter mapping...), CSV text; None where it has none."""
    return None if profile.companion is None else profile.companion(table, profile)


# -- the wide layout as the formats of `watcher export --layout wide` ---------------------------------


def write_wide_csv(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """`--layout wide --format csv`: the generic profile, BOM and guard as the caller says."""
    yield from iter_profile(records, GENERIC, config, bom=bom, formula_guard=formula_guard)


def write_wide_jsonl(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """`--layout wide --format jsonl`: one JSON object a row, keyed by column name (never guarded)."""
    del bom, formula_guard, labels  # JSON is not opened by spreadsheets; the wide rows hold no words
    table = profile_table(records, GENERIC, config)
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in table.dicts(GENERIC.separator)]
    for start in range(0, len(lines), CHUNK_ROWS):
        yield "".join(lines[start : start + CHUNK_ROWS])


# -- companions ----------------------------------------------------------------------------------------

_CA_HEADER = (
    "Rule type", "Source", "CA table.element", "Group", "Options", "Refinery", "Refinery parameters",
    "Original values", "Replacement values", "Source description", "Notes",
)  # fmt: skip
CA_SETTINGS = (
    ("name", "Commons Watcher: accepted changes", "Human readable name of the mapping"),
    ("code", "commons_watcher", "Alphanumeric code of the mapping"),
    ("inputFormats", "CSVDelimited", "The data file is comma-delimited CSV, UTF-8"),
    ("table", "ca_objects", "Objects"),
    ("existingRecordPolicy", "merge_on_idno_with_replace", "Update the object whose idno is in column 1"),
    ("mergeOnly", "1", "Never create an object: rows whose idno matches none are skipped"),
    ("ignoreTypeForExistingRecordPolicy", "1", "Match on idno whatever the object's type"),
    ("numInitialRowsToSkip", "1", "The first row holds the column names"),
    ("errorPolicy", "ignore", "One bad row does not stop the others"),
)


def collectiveaccess_mapping(table: WideTable, profile: Profile) -> str:
    """A starter import mapping sheet for the data file (save as XLSX before uploading it).

    It loads as it stands and matches objects on idno; every other column is a ``Skip`` row naming its
    source, for the museum to give its element code and turn into ``Mapping``.
    """
    rows: list[list[str]] = [list(_CA_HEADER)]
    rows += [["Setting", name, value, "", "", "", "", "", "", "", note] for name, value, note in CA_SETTINGS]
    header = table.header()
    notes: dict[str, tuple[str, str, str, str]] = {  # key → (rule type, destination, options, notes)
        "object_id": ("Mapping", "ca_objects.idno", "", "The museum's object id: matches existing objects"),
        "file": ("Skip", "", "", "The Commons file (File:…); map to a note or URL element if wanted"),
    }
    for key in table.keys:
        base, _, language = key.partition("/")
        if key.endswith(REMOVED):
            notes[key] = (
                "Skip",
                "",
                "",
                "Removed on Commons: remove these values in CollectiveAccess by hand",
            )
        elif is_set_key(key):
            options = json.dumps({"delimiter": profile.separator, "add": 1})
            notes[key] = ("Skip", "", options, f"Values added on Commons, separated by {profile.separator!r}")
        elif language and base != "statement":
            notes[key] = (
                "Skip", "", "",
                f'Language {language}: add the option "locale" with your locale code for it (e.g. '
                '{"locale": "sv_SE"}). The replace policy replaces the element\'s values in every locale: '
                'map each language to its own element, or add "add": 1 and remove the old value by hand',
            )  # fmt: skip
        else:
            notes[key] = ("Skip", "", "", "Set your element code (e.g. ca_objects.description), then Mapping")
    for key in PROVENANCE:
        notes[key] = ("Skip", "", "", "Provenance from Commons Watcher, not for import")
    notes[COLLECTION] = ("Skip", "", "", "The watcher's collection ([[collection]] name) of the row")
    notes["cleared"] = (
        "Skip",
        "",
        "",
        "Fields emptied on Commons: the importer skips empty cells, clear by hand",
    )
    for number, key in enumerate(table.columns, start=1):
        rule, destination, options, note = notes[key]
        rows.append([rule, str(number), destination, "", options, "", "", "", "", header[number - 1], note])
    return "".join(RFC4180.line(r) for r in rows)


def omeka_mapping_notes(table: WideTable, profile: Profile) -> str:
    """Each column's property and language for CSV Import's mapping step (columns by number)."""
    rows = [["Column", "Header", "Property", "Language", "Multivalue", "Notes"]]
    header = table.header()
    for number, key in enumerate(table.columns, start=1):
        name = header[number - 1]
        term, _, language = name.partition(" @")
        multivalue = "yes" if is_set_key(key) else ""
        if key == "object_id":
            note = "Advanced settings: Resource identifier column; identifier property dcterms:identifier"
        elif key in PROVENANCE or key in ("file", COLLECTION):
            term, language, note = "", "", "Do not map (provenance)"
        elif key.endswith(REMOVED):
            term, language, note = "", "", "Do not map: removed on Commons, remove them by hand"
        elif ":" in term and " " not in term:
            note = f"Add {term} and set its language to {language}" if language else "Maps itself"
        else:
            field_name, _, qualifier = key.partition("/")
            term, language = "", "" if field_name == "statement" else qualifier
            note = f"Choose the property for {key}"
        rows.append([str(number), name, term, language, multivalue, note])
    return "".join(RFC4180.line(r) for r in rows)


# -- the registry ------------------------------------------------------------------------------------

GENERIC = Profile(
    name="generic",
    label="Spreadsheet (CSV, UTF-8 with BOM)",
    description="One row per object for Excel, LibreOffice or any CSV importer: UTF-8 with a BOM, commas, "
    "quoted where a cell holds a comma, quote, line break or ';', formulas guarded.",
    layout="wide",
    columns={},
    dialect=RFC4180,
    bom=True,
    formula_guard=True,
)
COLLECTIVEACCESS = Profile(
    name="collectiveaccess",
    label="CollectiveAccess (Data Importer, merge on idno)",
    description="The data CSV for Providence's Data Importer keyed on idno (merge_on_idno_with_replace, "
    "mergeOnly), with a starter mapping sheet.",
    layout="wide",
    columns={"object_id": "idno"},
    dialect=Dialect(php_escape=True),
    bom=False,
    formula_guard=False,
    companion=collectiveaccess_mapping,
    companion_suffix=".mapping.csv",
    reference="https://docs.collectiveaccess.org/providence/user/import/",
)
OMEKA = Profile(
    name="omeka",
    label="Omeka S (CSV Import, append by dcterms:identifier)",
    description="The CSV for Omeka S' CSV Import module: headers are property terms, items matched on "
    "dcterms:identifier (action Append, multivalue separator ';').",
    layout="wide",
    columns={
        "object_id": "dcterms:identifier",
        "title": "dcterms:title",
        "description": "dcterms:description",
        "date": "dcterms:date",
        "author": "dcterms:creator",
        "medium": "dcterms:medium",
        "dimensions": "dcterms:extent",
        "source": "dcterms:source",
        "location": "dcterms:spatial",
        "category": "dcterms:subject",
    },
    dialect=Dialect(php_escape=True),
    bom=False,
    formula_guard=False,
    language_column="{column} @{language}",
    companion=omeka_mapping_notes,
    companion_suffix=".columns.csv",
    reference="https://omeka.org/s/docs/user-manual/modules/csvimport/",
)

REGISTRY: tuple[Profile, ...] = (GENERIC, COLLECTIVEACCESS, OMEKA)
BY_NAME: dict[str, Profile] = {p.name: p for p in REGISTRY}
PROFILE_NAMES: tuple[str, ...] = tuple(p.name for p in REGISTRY)
DEFAULT_PROFILE = GENERIC.name


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ValueError (saying which exist) where there is none."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown export profile {name!r} (one of {', '.join(PROFILE_NAMES)})") from None
