"""Import-ready profiles (issue 12 item 4), each read back by what reads it in the museum.

- generic: Python's csv, and LibreOffice headless (Debian's libreoffice-calc-nogui: CSV → XLSX → CSV)
  for encoding (å ä ö, Cyrillic, emoji), quoting (``;``, ``"``, line breaks) and the formula guard;
- collectiveaccess and omeka: PHP's own CSV parser set up exactly as the importers set it up
  (Providence's DelimitedDataParser: ``fgetcsv`` and ``trim``; Omeka S CSV Import's CsvFile:
  ``SplFileObject`` with READ_CSV, READ_AHEAD, SKIP_EMPTY, ``\\`` escape, BOM stripped, ``trim``), so the
  cells each importer gets are the cells the watcher meant, backslashes included; CollectiveAccess'
  starter mapping converted to XLSX by LibreOffice as docs/export-profiles.md says.

Without ``soffice`` or ``php`` these tests skip with the reason; under CI (``$CI`` set) they fail instead
(`make office` installs both).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.support.export_sample import TRICKY, museum_sample, records
from watcher.config import Config
from watcher.export.profiles import (
    CA_SETTINGS,
    COLLECTIVEACCESS,
    GENERIC,
    OMEKA,
    PROFILE_NAMES,
    REGISTRY,
    companion_path,
    companion_text,
    get_profile,
    iter_profile,
    profile_table,
    write_profile,
)
from watcher.export.wide import PROVENANCE, WideTable
from watcher.store.db import Database
from watcher.store.queue import ChangeRecord

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PHP = shutil.which("php")
MUSEUM = (
    '\n[export.columns]\n"description/sv" = "Beskrivning"\n"date" = "Datering"\n"category" = "Ämnesord"\n'
)
GUARDED = {TRICKY["formula"], TRICKY["minus"]}


def need(tool: str | None, what: str) -> str:
    if tool is None:
        reason = f"{what} is not installed (`make office` installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: under CI this test must run", pytrace=False)
        pytest.skip(reason)
    return tool


def guarded(cells: list[str]) -> list[str]:
    return ["'" + c if c in GUARDED else c for c in cells]


def write(
    tmp_path: Path, found: Sequence[ChangeRecord], profile: str, config: Config
) -> tuple[Path, WideTable]:
    path = tmp_path / f"{profile}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        table = write_profile(found, profile, config, out)
    return path, table


# -- the registry ------------------------------------------------------------------------------------


def test_profiles_are_one_registry_with_their_encoding() -> None:
    assert PROFILE_NAMES == ("generic", "collectiveaccess", "omeka")
    assert [get_profile(n) for n in PROFILE_NAMES] == list(REGISTRY)
    assert all(p.layout == "wide" and p.dialect.delimiter == "," for p in REGISTRY)
    assert (GENERIC.bom, COLLECTIVEACCESS.bom, OMEKA.bom) == (True, False, False)
    assert (GENERIC.formula_guard, COLLECTIVEACCESS.formula_guard, OMEKA.formula_guard) == (
        True,
        False,
        False,
    )
    with pytest.raises(
        ValueError, match="unknown export profile 'excel' \\(one of generic, collectiveaccess, omeka\\)"
    ):
        get_profile("excel")


async def test_the_museums_columns_win_over_a_profiles_defaults(
    db: Database, make_config: Callable[..., Config]
) -> None:
    await museum_sample(db)
    found = await records(db)
    header = profile_table(found, OMEKA, make_config(MUSEUM)).header()
    assert header[:6] == [
        "dcterms:identifier",
        "file",
        "Beskrivning",
        "Datering",
        "Ämnesord",
        "Ämnesord (removed)",
    ]
    assert {"dcterms:description", "dcterms:description @en", "dcterms:description @fi", "dcterms:title",
            "dcterms:medium", "dcterms:extent", "dcterms:source"} <= set(header)  # fmt: skip
    plain = profile_table(found, OMEKA, make_config()).header()
    assert (
        "dcterms:description @sv" in plain
        and "dcterms:subject" in plain
        and "dcterms:subject (removed)" in plain
    )
    ca = profile_table(found, COLLECTIVEACCESS, make_config(MUSEUM)).header()
    assert ca[0] == "idno" and ca[2:4] == ["Beskrivning", "Datering"]


# -- generic: Python's csv and LibreOffice -----------------------------------------------------------


async def test_generic_is_a_bom_csv_that_pythons_csv_reads_cell_for_cell(
    db: Database, make_config: Callable[..., Config], tmp_path: Path
) -> None:
    await museum_sample(db)
    config = make_config(MUSEUM)
    found = await records(db)
    path, table = write(tmp_path, found, "generic", config)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    expected = table.lists()
    assert rows[0] == expected[0] and rows[1:] == [guarded(r) for r in expected[1:]]
    assert "".join(iter_profile(found, "generic", config)) == raw.decode("utf-8")


async def test_libreoffice_reads_the_generic_csv_with_every_character_and_no_formula(
    db: Database, make_config: Callable[..., Config], tmp_path: Path
) -> None:
    soffice = need(SOFFICE, "LibreOffice (soffice)")
    await museum_sample(db)
    path, table = write(tmp_path, await records(db), "generic", make_config(MUSEUM))
    # The Text Import choices a user makes: UTF-8 (76), comma (44), double quote (34), from line 1.
    xlsx = convert(soffice, tmp_path, [path], "xlsx", infilter="CSV:44,34,76,1")[0]
    back = convert(soffice, tmp_path, [xlsx], "csv:Text - txt - csv (StarCalc):44,34,76", outdir="back")[0]
    with back.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    expected = table.lists()
    assert rows[0] == expected[0]
    # A spreadsheet keeps a cell's line breaks as LF; everything else comes back as written, the
    # formulas as text (their guard apostrophe shown), never evaluated.
    assert rows[1:] == [[c.replace("\r\n", "\n") for c in guarded(r)] for r in expected[1:]]
    scripts = next(r for r in rows if TRICKY["scripts"] in r)
    assert "Привет" in " ".join(scripts) and "🎨" in " ".join(scripts)


def convert(
    soffice: str, tmp_path: Path, files: list[Path], target: str, *, infilter: str = "", outdir: str = "xlsx"
) -> list[Path]:
    """Files converted by LibreOffice headless (its own profile folder, so runs never share one)."""
    folder = tmp_path / outdir
    command = [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", target, "--outdir", str(folder), *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    extension = target.split(":", 1)[0]
    made = [folder / f"{f.stem}.{extension}" for f in files]
    missing = [m for m in made if not m.is_file()]
    assert not missing and done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    return made


# -- CollectiveAccess and Omeka S: PHP reads them as the importers do ---------------------------------

# Providence's DelimitedDataParser: fgetcsv($file, 0, ',', '"') (escape "\"), getRowValue() trims.
CA_READER = r"""
$f = fopen($argv[1], "r"); $rows = [];
while (($line = fgetcsv($f, 0, ",", '"')) !== false) { $rows[] = array_map("trim", $line); }
echo json_encode($rows);
"""
# Omeka S CSVImport's CsvFile + AbstractSource: SplFileObject READ_CSV|READ_AHEAD|SKIP_EMPTY,
# setCsvControl(',', '"', '\\'), the BOM stripped from the first header, every cell trimmed.
OMEKA_READER = r"""
$it = new SplFileObject($argv[1]);
$it->setFlags(SplFileObject::READ_CSV | SplFileObject::READ_AHEAD | SplFileObject::SKIP_EMPTY);
$it->setCsvControl(",", '"', "\\");
$rows = [];
foreach (new LimitIterator($it, 0, -1) as $row) { $rows[] = array_map("trim", $row); }
if ($rows && substr($rows[0][0], 0, 3) === "\xef\xbb\xbf") { $rows[0][0] = substr($rows[0][0], 3); }
echo json_encode($rows);
"""


def php_rows(tmp_path: Path, reader: str, path: Path) -> list[list[str]]:
    php = need(PHP, "PHP (php-cli)")
    script = tmp_path / "reader.php"
    script.write_text("<?php\n" + reader, encoding="utf-8")
    done = subprocess.run(
        [php, str(script), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    rows: list[list[str]] = json.loads(done.stdout)
    return rows


@pytest.mark.parametrize(("profile", "reader"), [("collectiveaccess", CA_READER), ("omeka", OMEKA_READER)])
async def test_the_importers_csv_parser_gets_every_cell_backslashes_included(
    db: Database, make_config: Callable[..., Config], tmp_path: Path, profile: str, reader: str
) -> None:
    await museum_sample(db)
    path, table = write(tmp_path, await records(db), profile, make_config(MUSEUM))
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = php_rows(tmp_path, reader, path)
    expected = [[c.strip() for c in row] for row in table.lists()]  # both importers trim every cell
    assert rows == expected  # unguarded: the importer stores what Commons says
    cells = {c for row in rows for c in row}
    assert {TRICKY["backslash end, quoted"], TRICKY["backslash quote"], TRICKY["formula"]} <= cells
    # What Python's csv (RFC 4180) would have written trips PHP up: the profiles must not write it.
    rfc = tmp_path / "rfc.csv"
    with rfc.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\r\n").writerows(table.lists())
    assert php_rows(tmp_path, reader, rfc) != expected


async def test_collectiveaccess_rows_are_keyed_on_idno_with_a_starter_mapping(
    db: Database, make_config: Callable[..., Config], tmp_path: Path
) -> None:
    await museum_sample(db)
    path, table = write(tmp_path, await records(db), "collectiveaccess", make_config(MUSEUM))
    header = table.header()
    assert header[0] == "idno" and [r[0] for r in table.lists()[1:]] == ["EXM-1", "EXM-2", ""]
    mapping_path = companion_path(path, COLLECTIVEACCESS)
    assert mapping_path == tmp_path / "collectiveaccess.mapping.csv"
    text = companion_text(table, COLLECTIVEACCESS)
    assert text is not None
    mapping_path.write_text(text, encoding="utf-8", newline="")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    settings = {r[1]: r[2] for r in rows if r[0] == "Setting"}
    assert settings == {name: value for name, value, _ in CA_SETTINGS}
    assert settings["existingRecordPolicy"] == "merge_on_idno_with_replace" and settings["mergeOnly"] == "1"
    sources = [r for r in rows if r[0] in ("Mapping", "Skip")]
    # One row per data column, by number, naming it; only idno is mapped until the museum fills in its
    # element codes, so the sheet loads as it stands and imports nothing it was not told to.
    assert [int(r[1]) for r in sources] == list(range(1, len(header) + 1))
    assert [r[9] for r in sources] == header
    assert [r[0] for r in sources].count("Mapping") == 1 and sources[0][:3] == [
        "Mapping",
        "1",
        "ca_objects.idno",
    ]
    subjects = sources[header.index("Ämnesord")]
    assert json.loads(subjects[4]) == {"delimiter": "; ", "add": 1}
    assert all(sources[header.index(p)][0] == "Skip" for p in PROVENANCE)
    # The documented step: save the sheet as XLSX with LibreOffice; it keeps every cell.
    soffice = need(SOFFICE, "LibreOffice (soffice)")
    xlsx = convert(soffice, tmp_path, [mapping_path], "xlsx", infilter="CSV:44,34,76,1")[0]
    back = convert(soffice, tmp_path, [xlsx], "csv:Text - txt - csv (StarCalc):44,34,76", outdir="back")[0]
    with back.open(encoding="utf-8", newline="") as handle:
        assert [r + [""] * (len(rows[0]) - len(r)) for r in csv.reader(handle)] == rows


async def test_omeka_headers_are_terms_with_a_column_checklist(
    db: Database, make_config: Callable[..., Config], tmp_path: Path
) -> None:
    await museum_sample(db)
    path, table = write(tmp_path, await records(db), "omeka", make_config())
    header = table.header()
    assert header[0] == "dcterms:identifier"
    assert {"dcterms:description", "dcterms:description @sv", "dcterms:date", "dcterms:subject"} <= set(
        header
    )
    row = table.dicts()[0]
    assert row["dcterms:subject"] == "Chairs in Nordiska museet; Gustavian furniture"  # multivalue ";"
    text = companion_text(table, OMEKA)
    assert text is not None and companion_path(path, OMEKA) == tmp_path / "omeka.columns.csv"
    notes = {r[1]: r for r in csv.reader(io.StringIO(text, newline=""))}
    assert notes["dcterms:description @sv"][2:4] == ["dcterms:description", "sv"]
    assert notes["dcterms:subject"][2:5] == ["dcterms:subject", "", "yes"]
    assert notes["dcterms:subject (removed)"][2] == "" and "by hand" in notes["dcterms:subject (removed)"][5]
    assert "Resource identifier column" in notes["dcterms:identifier"][5]
    assert all(notes[p][2] == "" for p in PROVENANCE)
    assert [r[0] for r in csv.reader(io.StringIO(text, newline=""))][1:] == [
        str(n) for n in range(1, len(header) + 1)
    ]
