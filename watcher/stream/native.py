"""Whether the stream's compiled helper is there (:mod:`watcher.stream._fastscan`, built with
``python -m watcher.stream.build``), and a way to run without it.

``fastscan`` is the module, or None where it is not built, where ``WATCHER_PURE_PYTHON`` is set, or
where its title keys would not match :class:`~watcher.stream.titleset.TitleSet` 's (the helper hashes
title bytes as Python's ``hash()`` does; a check at import makes sure). Everything it speeds up also
runs in Python, with the same results.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from watcher.stream import titleset

__all__ = ["describe", "fastscan"]

_PROBES = (b"", b"File:Example.jpg", "File:Ölbild – ein Test.jpg".encode(), b"x" * 300)

try:
    _compiled: ModuleType | None = importlib.import_module("watcher.stream._fastscan")
except ImportError:
    _compiled = None


def _usable(module: ModuleType | None) -> ModuleType | None:
    if module is None or os.environ.get("WATCHER_PURE_PYTHON"):
        return None
    if any(module.title_key(p) != titleset.key_of(p) for p in _PROBES):
        return None
    return module


fastscan: ModuleType | None = _usable(_compiled)


def describe() -> str:
    if fastscan is not None:
        return f"compiled helper in use ({fastscan.__file__})"
    if _compiled is not None:
        return "pure Python (the compiled helper is built but switched off)"
    return "pure Python (the compiled helper is not built: python -m watcher.stream.build)"
