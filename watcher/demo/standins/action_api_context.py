"""Parameter handling shared by the Action API stand-in's modules: errors, warnings, limits, continuation.

It mimics how MediaWiki treats parameters, because clients break on exactly these details:
``toomanyvalues`` beyond 50 values, ``max`` limits, warnings (not errors) for unrecognised
parameters and values, and opaque continuation tokens that are rejected when tampered with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from watcher.demo.standins.action_api_titles import compact, namespace_of
from watcher.demo.standins.action_api_wiki import Wiki

T = TypeVar("T")

GENERAL = frozenset(
    [
        "action",
        "format",
        "formatversion",
        "maxlag",
        "continue",
        "utf8",
        "errorformat",
        "curtimestamp",
        "servedby",
        "assert",
        "origin",
        "uselang",
        "requestid",
        "smaxage",
        "maxage",
    ]
)
DOCREF = (
    "See {url} for API usage. Subscribe to the mediawiki-api-announce mailing list at "
    "<https://lists.wikimedia.org/postorius/lists/mediawiki-api-announce.lists.wikimedia.org/> "
    "for notice of API deprecations and breaking changes."
)


class UsageError(Exception):
    """An API error answer (HTTP 200 with ``{"error": {...}}``)."""

    def __init__(self, code: str, info: str, **extra: Any) -> None:
        super().__init__(f"{code}: {info}")
        self.code = code
        self.info = info
        self.extra = extra

    def body(self, url: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "info": self.info,
            **self.extra,
            "docref": DOCREF.format(url=url or "api.php"),
        }


@dataclass
class Context:
    """One request: parameter access (which also marks parameters as recognised), warnings, continuation."""

    wiki: Wiki
    params: dict[str, str]
    max_limit: int = 500
    max_values: int = 50
    used: set[str] = field(default_factory=lambda: set(GENERAL))
    warnings: dict[str, list[str]] = field(default_factory=dict)
    cont: dict[str, str] = field(default_factory=dict)
    batchcomplete: bool = True

    def get(self, name: str, default: str | None = None) -> str | None:
        self.used.add(name)
        return self.params.get(name, default)

    def has(self, name: str) -> bool:
        self.used.add(name)
        return name in self.params

    def recognise(self, *prefixes: str) -> None:
        """Mark the parameters of modules that were asked for but had nothing to do."""
        self.used.update(k for k in self.params if k.startswith(prefixes))

    def warn(self, module: str, text: str) -> None:
        self.warnings.setdefault(module, []).append(text)

    def multi(self, name: str, allowed: Sequence[str], default: str = "", module: str = "main") -> list[str]:
        """A ``|``-separated value; unknown values are dropped with a warning, as MediaWiki does."""
        raw = self.get(name, default) or ""
        out: list[str] = []
        for value in raw.split("|") if raw else []:
            if value not in allowed:
                self.warn(module, f'Unrecognized value for parameter "{name}": {value}')
            elif value not in out:
                out.append(value)
        return out

    def strict_multi(self, name: str, allowed: Sequence[str]) -> list[str]:
        raw = self.get(name) or ""
        values = [v for v in raw.split("|") if v] if raw else []
        for value in values:
            if value not in allowed:
                raise UsageError("badvalue", f'Unrecognized value for parameter "{name}": {value}.')
        return list(dict.fromkeys(values))

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        value = self.get(name, default) or default
        if value not in allowed:
            raise UsageError("badvalue", f'Unrecognized value for parameter "{name}": {value}.')
        return value

    def integer(self, name: str, value: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise UsageError(
                "badinteger", f'Invalid value "{value}" for integer parameter "{name}".'
            ) from None

    def limit(self, name: str, default: int, maximum: int, module: str) -> int:
        raw = self.get(name)
        if raw is None:
            return min(default, maximum)
        if raw == "max":
            return maximum
        value = self.integer(name, raw)
        if value > maximum:
            self.warn(module, f'Limit for parameter "{name}" exceeded, must be no greater than {maximum}.')
            return maximum
        return max(value, 1)

    def values(self, name: str) -> list[str]:
        raw = self.get(name) or ""
        values = list(dict.fromkeys(v for v in raw.split("|") if v))
        if len(values) > self.max_values:
            raise UsageError(
                "toomanyvalues",
                f'Too many values supplied for parameter "{name}". The limit is {self.max_values}.',
                limit=self.max_values,
                lowlimit=self.max_values,
                highlimit=self.max_values * 10,
            )
        return values

    def timestamp(self, name: str) -> str | None:
        raw = self.get(name)
        if raw is None:
            return None
        try:
            return compact(raw)
        except ValueError:
            raise UsageError(
                "badtimestamp", f'Invalid value "{raw}" for timestamp parameter "{name}".'
            ) from None

    def runs(self, prefix: str) -> bool:
        """Whether a list module still has work in a continued request (finished modules are left out)."""
        self.used.add(f"{prefix}continue")
        continuing = "continue" in self.params and any(
            k.endswith("continue") and k != "continue" for k in self.params
        )
        return not continuing or f"{prefix}continue" in self.params

    def continue_with(self, key: str, token: str, *, prop: bool = False) -> None:
        self.cont[key] = token
        self.cont["continue"] = "||" if prop else "-||"
        if prop:
            self.batchcomplete = False

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(k for k in self.params if k not in self.used)
        if unknown:
            label = "parameter" if len(unknown) == 1 else "parameters"
            self.warn("main", f"Unrecognized {label}: {', '.join(unknown)}.")
        out: dict[str, Any] = {}
        if result.get("query") is not None or not result:
            if self.batchcomplete:
                out["batchcomplete"] = True
            if self.cont:
                out["continue"] = self.cont
        if self.warnings:
            out["warnings"] = {m: {"warnings": "\n".join(w)} for m, w in self.warnings.items()}
        out.update(result)
        return out


def window(
    items: list[T],
    key: Callable[[T], tuple[Any, ...]],
    start: tuple[Any, ...] | None,
    limit: int,
    *,
    descending: bool = False,
) -> tuple[list[T], T | None]:
    """One page of a sorted listing from a continuation point, and the first item of the next page."""
    items = sorted(items, key=key, reverse=descending)
    if start is not None:
        items = [i for i in items if (key(i) <= start if descending else key(i) >= start)]
    return items[:limit], (items[limit] if len(items) > limit else None)


def token(ctx: Context, name: str, parts: Sequence[Callable[[str], Any]]) -> tuple[Any, ...] | None:
    raw = ctx.get(name)
    if raw is None:
        return None
    pieces = raw.split("|")
    try:
        if len(pieces) != len(parts):
            raise ValueError(raw)
        return tuple(parse(piece) for parse, piece in zip(parts, pieces, strict=True))
    except (ValueError, KeyError):
        raise UsageError(
            "badcontinue",
            "Invalid continue param. You should pass the original value returned by the previous query.",
        ) from None


def title_out(title: str) -> dict[str, Any]:
    return {"ns": namespace_of(title), "title": title}
