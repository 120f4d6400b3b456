"""Reading parts of Action API answers: errors and warnings, thumbnails, labels per language.

Kept apart from :mod:`watcher.mediawiki.client` (the connection and the queries) so each stays short.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from watcher.mediawiki.types import Thumbnail

__all__ = ["first_error", "labels_by_language", "log_warnings", "snippet", "thumbnail_of"]

log = logging.getLogger("watcher.mediawiki.client")


def snippet(body: bytes | bytearray, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", "replace").strip()


def first_error(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The error of a response in the default (``bc``) or the newer ``errors`` list format."""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("code", "unknown")), str(error.get("info", error.get("*", "")))
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("code", "unknown")), str(first.get("text", first.get("*", "")))
    return None


def log_warnings(data: Mapping[str, Any]) -> None:
    warnings = data.get("warnings")
    if isinstance(warnings, dict):
        for module, body in warnings.items():
            text = body.get("warnings", body.get("*")) if isinstance(body, dict) else body
            log.warning("API warning from %s: %s", module, text)


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def thumbnail_of(page: Mapping[str, Any]) -> Thumbnail | None:
    """The thumbnail of the page's current file version (``imageinfo[0].thumburl``), where the answer
    gives one as an http(s) address; None for pages without a file, or a thumbnail error."""
    title, infos = page.get("title"), page.get("imageinfo")
    if not isinstance(title, str) or not isinstance(infos, list) or not infos:
        return None
    info = infos[0]
    url = info.get("thumburl") if isinstance(info, dict) else None
    if (
        not isinstance(url, str)
        or not url.startswith(("https://", "http://"))
        or any(c.isspace() for c in url)
    ):
        return None
    return Thumbnail(title, url, _size(info.get("thumbwidth")), _size(info.get("thumbheight")))


def labels_by_language(entity: Any, languages: Sequence[str]) -> dict[str, str]:
    """The entity's labels in ``languages`` (language → text); empty for none, a missing entity, or
    labels sent as ``[]`` (an empty map, T222159)."""
    labels = entity.get("labels") if isinstance(entity, dict) else None
    if not isinstance(labels, dict):
        return {}
    found: dict[str, str] = {}
    for language in languages:
        label = labels.get(language)
        value = label.get("value") if isinstance(label, dict) else None
        if isinstance(value, str) and value.strip():
            found[language] = value
    return found
