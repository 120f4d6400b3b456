"""Build the stream's compiled helper (:mod:`watcher.stream._fastscan`) next to its source.

    python -m watcher.stream.build           # compile it (needs Cython from PyPI and a C compiler)
    python -m watcher.stream.build --check   # say which path the stream takes, build nothing

Where it cannot be built (no Cython, no compiler), nothing changes: the stream runs the same loops
in Python, only slower (docs/benchmarks.md says by how much). ``WATCHER_PURE_PYTHON=1`` makes a
process ignore a built helper.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from watcher.stream import native


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:  # then the helper is not built, and the fallback stays
        return None


# Only the build needs these (from PyPI: Cython; setuptools, which Python 3.11's venv brings).
_cython = _optional("Cython.Build")
_setuptools = _optional("setuptools")
_build_ext = _optional("setuptools.command.build_ext")

SOURCE = Path(__file__).with_name("_fastscan.pyx")
ROOT = Path(__file__).resolve().parent.parent.parent  # the folder holding the watcher package
MODULE = "watcher.stream._fastscan"


class BuildFailed(Exception):
    """The helper could not be built; the message says why and what to install."""


def build(target: Path = ROOT) -> Path:
    """Compile the helper into ``target``/watcher/stream/ (by default: beside its source); its path."""
    if _cython is None:
        raise BuildFailed("Cython is not installed: `pip install cython` (from PyPI), then build again")
    if _setuptools is None or _build_ext is None:
        raise BuildFailed("setuptools is not installed: `pip install setuptools`, then build again")
    with tempfile.TemporaryDirectory(prefix="watcher-build-") as tmp:
        extension = _setuptools.Extension(
            MODULE, [str(SOURCE)], include_dirs=[str(SOURCE.parent)], extra_compile_args=["-O2"]
        )
        modules = _cython.cythonize([extension], build_dir=tmp, quiet=True, language_level=3)
        dist = _setuptools.Distribution({"name": "watcher-fastscan", "ext_modules": modules})
        command: Any = _build_ext.build_ext(dist)
        command.build_lib = str(target)
        command.build_temp = tmp
        command.ensure_finalized()
        try:
            command.run()
        except Exception as exc:  # CompileError, LinkError, a missing compiler: all "not built"
            raise BuildFailed(f"the C compiler failed ({type(exc).__name__}: {exc})") from exc
        outputs = command.get_outputs()
    return Path(outputs[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m watcher.stream.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="only say which path the stream takes")
    args = parser.parse_args(argv)
    if args.check:
        print(native.describe())
        return 0 if native.fastscan is not None else 1
    try:
        path = build()
    except BuildFailed as exc:
        print(
            f"the stream's compiled helper was not built: {exc}; the pure-Python path stays", file=sys.stderr
        )
        return 1
    print(f"built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
