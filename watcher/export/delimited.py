"""Delimited text (CSV) lines for the wide layout and the import profiles, one encoder for both.

Python's ``csv`` quotes a cell only for the delimiter, the quote and line breaks. A file meant for
spreadsheets must also quote cells holding ``;``: Excel in a locale whose list separator is ``;``
(Swedish, German, ...) splits on it. :class:`Dialect` names the characters that force quoting.

Two readers matter and they disagree on one thing. RFC 4180 (Python, LibreOffice, Excel) knows only
doubled quotes. PHP's ``fgetcsv``/``SplFileObject`` — what CollectiveAccess' and Omeka S' importers read
CSV with — also treat a backslash as an escape inside quotes: the character after it is kept as it is
and cannot close the cell, so a cell ending in ``\\`` swallows the rest of the file. ``php_escape``
writes what PHP reads back exactly: a quote right after an escaping backslash is not doubled, and a
quoted cell that ends in an escaping backslash gets one trailing space, which both importers trim. A
cell without a backslash is written the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str = ","
    quote_also: str = ";"  # characters besides the delimiter, the quote and line breaks that force quotes
    line_end: str = "\r\n"
    php_escape: bool = False  # the reader is PHP's fgetcsv (backslash escapes inside quotes)

    def needs_quotes(self, cell: str) -> bool:
        special = f'{self.delimiter}"\r\n{self.quote_also}'
        return any(c in special for c in cell) or cell != cell.strip(" \t")

    def cell(self, value: str) -> str:
        if not self.needs_quotes(value):
            return value
        if not self.php_escape or "\\" not in value:
            return '"' + value.replace('"', '""') + '"'
        return '"' + _php_quoted(value) + '"'

    def line(self, cells: Iterable[str]) -> str:
        return self.delimiter.join(self.cell(c) for c in cells) + self.line_end


def _php_quoted(value: str) -> str:
    """The inside of a quoted cell as PHP's fgetcsv (escape ``\\``) reads it back as ``value``."""
    out: list[str] = []
    escaped = False  # the previous character was an escaping backslash
    for char in value:
        if escaped:
            out.append(char)  # kept as it is by PHP, a quote included: not doubled
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == '"':
            out.append('""')
        else:
            out.append(char)
    if escaped:
        out.append(" ")  # else the closing quote would be escaped; both importers trim the cell
    return "".join(out)


RFC4180 = Dialect()  # comma, CRLF, `;` quoted: spreadsheets and Python's csv
