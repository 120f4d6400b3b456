"""The store's SQL in either engine's words: SQLite's as written, PostgreSQL's translated (issue 20).

The queries stay written once, in the SQLite dialect the store has always used; :meth:`Dialect.sql`
turns one statement into what asyncpg sends PostgreSQL. Pure text work on a token stream (string
literals, quoted identifiers and comments are never touched), cached per statement. Only mechanical
translations, each tested against a real server (tests/store/test_dialect.py):

- ``?`` placeholders become ``$1, $2, …`` in order;
- identifiers PostgreSQL reserves but the schema uses as column names (``user``) are double-quoted:
  unquoted, ``SELECT user FROM changes`` silently returns the database role's name;
- ``x IS ?`` / ``x IS NOT ?`` (SQLite's null-safe comparison with any operand) become
  ``IS [NOT] DISTINCT FROM``;
- ``INSERT OR IGNORE`` becomes ``INSERT … ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` becomes an
  upsert on the table's key, which must be given (:attr:`Dialect.replace_keys`);
- in ``ON CONFLICT … DO UPDATE SET``, a bare column of the insert list on the right of ``=`` (SQLite
  reads the existing row, PostgreSQL calls it ambiguous) is qualified with the table;
- column types: ``INTEGER`` → ``BIGINT`` (SQLite's integers are 64-bit), ``INTEGER PRIMARY KEY`` →
  an identity column (SQLite's rowid alias numbers rows itself), ``REAL`` → ``DOUBLE PRECISION``,
  ``BLOB`` → ``BYTEA``.

What is SQLite's own and has no mechanical equivalent (PRAGMA, json_extract, julianday, GLOB, scalar
max/min, COLLATE NOCASE, triggers, …) raises :class:`UntranslatableSQL` naming it, so a statement that
was not ported fails in the tests instead of misbehaving on a museum's server. docs/postgresql.md says
how each of those is to be ported.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from watcher.base.values import POSTGRESQL_SCHEMES as POSTGRESQL_SCHEMES
from watcher.base.values import Engine as Engine
from watcher.base.values import engine_of as engine_of


class UntranslatableSQL(ValueError):
    """A statement uses a SQLite construct the dialect layer cannot carry over mechanically."""


# Column names of the schema that PostgreSQL reserves (pg_get_keywords() catcode 'R' or 'T');
# tests/store/test_dialect.py checks this against the migrated schema and the real server's keywords.
RESERVED_COLUMNS = frozenset({"user"})

# Words after IS that keep their PostgreSQL meaning (IS NULL, IS NOT TRUE, IS DISTINCT FROM, …).
_IS_KEEPS = frozenset({"null", "true", "false", "unknown", "distinct", "not", "document", "normalized"})

_TYPES = {"integer": "BIGINT", "real": "DOUBLE PRECISION", "blob": "BYTEA"}

# SQLite's own functions and words: what each is, for the refusal's message.
_REFUSED_FUNCTIONS = {
    "json_extract": "json_extract with anything but a column or value and a '$.key' path",
    "julianday": "julianday with other than one argument (timestamp arithmetic)",
    "json_each": "json_each (jsonb_each / jsonb_array_elements)",
    "json_group_array": "json_group_array (jsonb_agg)",
    "datetime": "datetime() (timestamp functions)",
    "strftime": "strftime() (to_char)",
    "unixepoch": "unixepoch() (extract(epoch …))",
    "instr": "instr() (strpos)",
    "group_concat": "group_concat (string_agg)",
    "ifnull": "ifnull (coalesce, on both engines)",
    "iif": "iif (CASE, on both engines)",
    "printf": "printf (format)",
    "typeof": "typeof (pg_typeof)",
    "pragma_table_info": "pragma_table_info (information_schema.columns)",
}
_REFUSED_WORDS = {
    "pragma": "PRAGMA",
    "glob": "GLOB against anything but a string literal (LIKE or a regular expression)",
    "nocase": "COLLATE NOCASE (lower() in a unique index, or citext)",
    "rowid": "rowid",
    "_rowid_": "rowid",
    "oid": "rowid (oid)",
    "autoincrement": "AUTOINCREMENT",
    "sqlite_master": "sqlite_master (information_schema.tables)",
    "sqlite_schema": "sqlite_schema (information_schema.tables)",
    "sqlite_sequence": "sqlite_sequence",
    "trigger": "a trigger (a PL/pgSQL trigger function)",
    "vacuum": "VACUUM",
    "attach": "ATTACH",
}
# Called with no arguments: the same names are tables here (``changes``).
_REFUSED_NULLARY = {
    "last_insert_rowid": "last_insert_rowid() (RETURNING id)",
    "changes": "changes() (the command status's row count)",
    "total_changes": "total_changes()",
}
# After BEGIN: SQLite's locking modes (the connection's transaction() says how PostgreSQL begins).
_REFUSED_BEGIN = frozenset({"immediate", "exclusive", "deferred"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<unterminated>['"]|/\*)
  | (?P<param>\?\d*|[:@$][A-Za-z_]\w*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
  | (?P<op>.)
    """,
    re.S | re.X,
)


@dataclass
class _Token:
    kind: str
    text: str

    @property
    def word(self) -> str:
        """The keyword's lower-case spelling ('' for anything but a bare word)."""
        return self.text.lower() if self.kind == "word" else ""


def _tokens(statement: str) -> list[_Token]:
    found: list[_Token] = []
    for match in _TOKEN.finditer(statement):
        kind = match.lastgroup or "op"
        if kind == "unterminated":
            raise UntranslatableSQL(f"an unterminated literal, identifier or comment at {match.start()}")
        found.append(_Token(kind, match.group()))
    return found


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted identifier (the same on both engines)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Dialect:
    """How one engine spells the store's SQL. ``replace_keys``: each table's key columns, for
    ``INSERT OR REPLACE`` (PostgreSQL needs the conflict target named)."""

    engine: Engine
    replace_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def for_engine(cls, engine: Engine, replace_keys: Mapping[str, tuple[str, ...]] | None = None) -> Dialect:
        keys = tuple(sorted((table.lower(), tuple(cols)) for table, cols in (replace_keys or {}).items()))
        return cls(engine, keys)

    def sql(self, statement: str) -> str:
        """``statement`` (written for SQLite) as this engine runs it; raises :class:`UntranslatableSQL`."""
        if self.engine is Engine.SQLITE:
            return statement
        return _to_postgresql(statement, self.replace_keys)


SQLITE = Dialect(Engine.SQLITE)
POSTGRESQL = Dialect(Engine.POSTGRESQL)


def _significant(tokens: list[_Token], start: int) -> int:
    """The index of the first token at or after ``start`` that is not space or a comment (or len)."""
    while start < len(tokens) and tokens[start].kind in ("space", "comment"):
        start += 1
    return start


def _text_at(tokens: list[_Token], index: int) -> str:
    return tokens[index].text if 0 <= index < len(tokens) else ""


def _previous(tokens: list[_Token], start: int) -> int:
    """The index of the last significant token before ``start`` (or -1)."""
    start -= 1
    while start >= 0 and tokens[start].kind in ("space", "comment"):
        start -= 1
    return start


def _refuse(tokens: list[_Token]) -> None:
    for i, token in enumerate(tokens):
        if token.kind == "param" and token.text != "?":
            raise UntranslatableSQL(f"the placeholder {token.text}: write positional ? placeholders")
        word = token.word
        if not word:
            continue
        after = _significant(tokens, i + 1)
        called = after < len(tokens) and tokens[after].text == "("
        qualified = i > 0 and tokens[i - 1].text == "."
        if called and word in _REFUSED_FUNCTIONS and not qualified:
            raise UntranslatableSQL(f"SQLite's {_REFUSED_FUNCTIONS[word]} has no mechanical translation")
        if called and word in _REFUSED_NULLARY and _text_at(tokens, _significant(tokens, after + 1)) == ")":
            raise UntranslatableSQL(f"SQLite's {_REFUSED_NULLARY[word]} has no mechanical translation")
        if (
            word in _REFUSED_BEGIN
            and _previous(tokens, i) >= 0
            and tokens[_previous(tokens, i)].word == "begin"
        ):
            raise UntranslatableSQL(f"BEGIN {word.upper()}: begin through the connection's transaction()")
        if word in _REFUSED_WORDS and not qualified and not called:
            raise UntranslatableSQL(f"SQLite's {_REFUSED_WORDS[word]} has no mechanical translation")
        if called and word in ("max", "min") and _top_level_commas(tokens, after) > 0:
            raise UntranslatableSQL(
                f"SQLite's scalar {word}(a, b, …) is NULL when any argument is, PostgreSQL's "
                f"{'greatest' if word == 'max' else 'least'} skips NULLs: write the comparison out"
            )
        if word == "replace" and _previous(tokens, i) < 0:
            raise UntranslatableSQL("REPLACE INTO: write INSERT … ON CONFLICT (…) DO UPDATE")
        if word == "or" and _previous(tokens, i) >= 0 and tokens[_previous(tokens, i)].word == "insert":
            action = tokens[after].word if after < len(tokens) else ""
            if action not in ("ignore", "replace"):
                raise UntranslatableSQL(
                    f"INSERT OR {action.upper()}: only OR IGNORE and OR REPLACE translate"
                )


def _top_level_commas(tokens: list[_Token], open_paren: int) -> int:
    """How many commas separate the arguments of the parenthesis opened at ``open_paren``."""
    depth, commas = 0, 0
    for token in tokens[open_paren:]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
            if depth == 0:
                break
        elif token.text == "," and depth == 1:
            commas += 1
    return commas


def _depth0(tokens: list[_Token], word: str, start: int = 0) -> int:
    """The index of ``word`` at parenthesis depth 0 from ``start`` on (or -1)."""
    depth = 0
    for i in range(start, len(tokens)):
        text = tokens[i].text
        depth += (text == "(") - (text == ")")
        if depth == 0 and tokens[i].word == word:
            return i
    return -1


@functools.lru_cache(maxsize=4096)
def _to_postgresql(statement: str, replace_keys: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    tokens = _tokens(statement)
    tokens = _sqlite_functions(tokens)
    _refuse(tokens)
    _insert_or(tokens, dict(replace_keys))
    _qualify_upsert(tokens)
    _types(tokens)
    _is_operands(tokens)
    _quote_reserved(tokens)
    _number_placeholders(tokens)
    return "".join(token.text for token in tokens)


_JSON_PATH = re.compile(r"^'\$\.([A-Za-z_][A-Za-z0-9_]*)'$")
_GLOB_SPECIAL = set(".^$+(){}|\\")


def _closing(tokens: list[_Token], open_paren: int) -> int:
    """The index of the parenthesis that closes the one at ``open_paren`` (or -1)."""
    depth = 0
    for i in range(open_paren, len(tokens)):
        if tokens[i].text == "(":
            depth += 1
        elif tokens[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _arguments(tokens: list[_Token], open_paren: int, close: int) -> list[list[_Token]]:
    """The top-level arguments between the parentheses, each its tokens (spaces kept)."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens[open_paren + 1 : close]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if token.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _glob_regex(literal: str) -> str:
    """A GLOB pattern (a string literal) as an anchored POSIX regular expression literal: ``*`` any
    run, ``?`` one character, ``[...]`` a class as it is; everything else matches itself."""
    pattern, out, i = literal[1:-1].replace("''", "'"), ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            out.append(pattern[i : end + 1])
            i = end
        else:
            out.append("\\" + ch if ch in _GLOB_SPECIAL else ch)
        i += 1
    out.append("$")
    return "'" + "".join(out).replace("'", "''") + "'"


def _cast(type_name: str) -> list[_Token]:
    """``::type`` as tokens (the tokenizer would read ``:type`` as a named placeholder)."""
    return [_Token("op", ":"), _Token("op", ":"), _Token("word", type_name)]


def _sqlite_functions(tokens: list[_Token]) -> list[_Token]:
    """SQLite functions with a faithful PostgreSQL spelling, rewritten in place:

    - ``json_extract(x, '$.key')`` → ``(x::jsonb ->> 'key')``: text, where SQLite gives a JSON number
      as a number, so the store casts a number it compares (``CAST(json_extract(…) AS INTEGER)``,
      which reads the same on both engines);
    - ``julianday(x)`` → the Julian day number of the ISO time ``x``, as SQLite counts it;
    - ``x GLOB 'pattern'`` → ``x ~ '^regex$'`` (case-sensitive, as GLOB is).
    Anything else named so is left for :func:`_refuse`.
    """
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        word = token.word
        after = _significant(tokens, i + 1)
        called = word in ("json_extract", "julianday") and _text_at(tokens, after) == "("
        if called and not (i > 0 and tokens[i - 1].text == "."):
            close = _closing(tokens, after)
            args = [_sqlite_functions(a) for a in _arguments(tokens, after, close)] if close > 0 else []
            if word == "json_extract" and len(args) == 2:
                path = "".join(t.text for t in args[1]).strip()
                key = _JSON_PATH.match(path)
                if key is not None:
                    out += [_Token("op", "("), _Token("op", "("), *args[0], _Token("op", ")")]
                    out += [*_cast("jsonb"), *_tokens(f" ->> '{key.group(1)}')")]
                    i = close + 1
                    continue
            if word == "julianday" and len(args) == 1:
                out += [*_tokens("(extract(epoch from ("), *args[0], _Token("op", ")"), *_cast("timestamptz")]
                out += _tokens(") / 86400.0 + 2440587.5)")
                i = close + 1
                continue
        if word == "glob":
            literal = _significant(tokens, i + 1)
            if literal < len(tokens) and tokens[literal].kind == "string":
                out += [
                    _Token("op", "~"),
                    _Token("space", " "),
                    _Token("string", _glob_regex(tokens[literal].text)),
                ]
                i = literal + 1
                continue
        out.append(token)
        i += 1
    return out


def _insert_target(tokens: list[_Token]) -> tuple[str, list[str]] | None:
    """The table (or its alias) and the column list of an ``INSERT INTO t [AS a] (c, …)``, if any."""
    into = _depth0(tokens, "into")
    if into < 0 or _depth0(tokens, "insert") < 0:
        return None
    table_at = _significant(tokens, into + 1)
    if table_at >= len(tokens):
        return None
    name = tokens[table_at].text
    nxt = _significant(tokens, table_at + 1)
    if nxt < len(tokens) and tokens[nxt].word == "as":
        alias_at = _significant(tokens, nxt + 1)
        name, nxt = tokens[alias_at].text, _significant(tokens, alias_at + 1)
    columns: list[str] = []
    if nxt < len(tokens) and tokens[nxt].text == "(":
        for token in tokens[nxt + 1 :]:
            if token.text == ")":
                break
            if token.kind in ("word", "quoted"):
                columns.append(token.text.strip('"').lower())
    return name, columns


def _insert_or(tokens: list[_Token], replace_keys: dict[str, tuple[str, ...]]) -> None:
    """``INSERT OR IGNORE|REPLACE`` → ``INSERT … ON CONFLICT …`` (before a RETURNING clause)."""
    insert = _significant(tokens, 0)
    if insert >= len(tokens) or tokens[insert].word != "insert":
        return
    or_at = _significant(tokens, insert + 1)
    if or_at >= len(tokens) or tokens[or_at].word != "or":
        return
    action_at = _significant(tokens, or_at + 1)
    action = tokens[action_at].word
    if _depth0(tokens, "conflict") >= 0:
        raise UntranslatableSQL(f"INSERT OR {action.upper()} with an ON CONFLICT clause")
    del tokens[insert + 1 : action_at + 1]
    target = _insert_target(tokens)
    if action == "ignore":
        clause = " ON CONFLICT DO NOTHING"
    else:
        if target is None or not target[1]:
            raise UntranslatableSQL("INSERT OR REPLACE needs an explicit column list")
        table, columns = target
        key = replace_keys.get(table.strip('"').lower())
        if key is None:
            raise UntranslatableSQL(f"INSERT OR REPLACE INTO {table}: the dialect knows no key for it")
        updates = [c for c in columns if c not in key]
        keys = ", ".join(_identifier(c) for c in key)
        if updates:
            sets = ", ".join(f"{_identifier(c)} = EXCLUDED.{_identifier(c)}" for c in updates)
            clause = f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        else:
            clause = f" ON CONFLICT ({keys}) DO NOTHING"
    end = _depth0(tokens, "returning")
    if end < 0:
        end = len(tokens)
        while end > 0 and (tokens[end - 1].kind in ("space", "comment") or tokens[end - 1].text == ";"):
            end -= 1
    else:
        clause = clause.lstrip() + " "
    tokens.insert(end, _Token("op", clause))  # already in PostgreSQL's words: later passes skip it


def _identifier(name: str) -> str:
    return quote_identifier(name) if name in RESERVED_COLUMNS else name


def _qualify_upsert(tokens: list[_Token]) -> None:
    """In ``DO UPDATE SET`` (and its WHERE), a bare inserted column is the existing row's: say so."""
    target = _insert_target(tokens)
    conflict = _depth0(tokens, "conflict")
    if target is None or conflict < 0:
        return
    update = _depth0(tokens, "update", conflict)
    set_at = _depth0(tokens, "set", update) if update >= 0 else -1
    if set_at < 0:
        return
    table, columns = target
    end = _depth0(tokens, "returning", set_at)
    end = len(tokens) if end < 0 else end
    depth, assigning = 0, True
    for i in range(set_at + 1, end):
        token = tokens[i]
        depth += (token.text == "(") - (token.text == ")")
        if depth == 0 and (token.text == "," or token.word == "where"):
            assigning = token.text == ","
            continue
        if token.kind != "word" or token.word not in columns:
            continue
        before, after = _previous(tokens, i), _significant(tokens, i + 1)
        if before >= 0 and tokens[before].text == ".":
            continue
        if after < len(tokens) and tokens[after].text in (".", "("):
            continue
        if assigning and depth == 0 and after < len(tokens) and tokens[after].text == "=":
            continue  # the column being set: PostgreSQL wants it bare
        tokens[i] = _Token("op", f"{table}.{_identifier(token.word)}")


def _types(tokens: list[_Token]) -> None:
    """SQLite's type names as PostgreSQL's; ``INTEGER PRIMARY KEY`` numbers rows as rowid did."""
    for i, token in enumerate(tokens):
        if token.word not in _TYPES:
            continue
        if i > 0 and tokens[i - 1].text == ".":
            continue
        primary = _significant(tokens, i + 1)
        key = _significant(tokens, primary + 1)
        if (
            token.word == "integer"
            and key < len(tokens)
            and tokens[primary].word == "primary"
            and tokens[key].word == "key"
        ):
            tokens[i] = _Token("op", "BIGINT GENERATED BY DEFAULT AS IDENTITY")
        else:
            tokens[i] = _Token("op", _TYPES[token.word])


def _is_operands(tokens: list[_Token]) -> None:
    """``a IS b`` / ``a IS NOT b`` with any operand other than NULL, TRUE, …: IS [NOT] DISTINCT FROM."""
    for i, token in enumerate(tokens):
        if token.word != "is":
            continue
        operand = _significant(tokens, i + 1)
        negated = operand < len(tokens) and tokens[operand].word == "not"
        if negated:
            operand = _significant(tokens, operand + 1)
        if operand >= len(tokens) or tokens[operand].word in _IS_KEEPS:
            continue
        tokens[i] = _Token("op", "IS DISTINCT FROM" if negated else "IS NOT DISTINCT FROM")
        if negated:
            del tokens[i + 1 : operand]
            tokens.insert(i + 1, _Token("space", " "))


def _quote_reserved(tokens: list[_Token]) -> None:
    for i, token in enumerate(tokens):
        if token.word in RESERVED_COLUMNS:
            tokens[i] = _Token("quoted", quote_identifier(token.word))


def _number_placeholders(tokens: list[_Token]) -> None:
    number = 0
    for i, token in enumerate(tokens):
        if token.kind == "param":
            number += 1
            tokens[i] = _Token("op", f"${number}")
