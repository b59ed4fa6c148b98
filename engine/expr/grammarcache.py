"""The expression grammar's text (package data of `engine`) and the cache files built from it.

Building a parser from the grammar takes seconds, so what is built (Lark's parser, the parser's own
tables) is kept in the user's cache directory under a key made of the grammar text, the parser
options, the Lark version and the kind of file: a changed grammar or Lark gets new files, and stale
ones are never read. Reading the key needs neither Lark nor a parse.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import tempfile
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import IO, Any

OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "start": ["expression", "block"],
    "propagate_positions": True,
    "strict": True,
    "maybe_placeholders": True,
}


@functools.cache
def grammar_text() -> str:
    return files("engine").joinpath("grammar", "expression.lark").read_text(encoding="utf-8")


@functools.cache
def lark_version() -> str:
    """The installed Lark's version, read from its `__init__.py` (importing Lark costs ~0.1 s)."""
    spec = importlib.util.find_spec("lark")
    if spec is not None and spec.origin:
        found = re.search(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""",
                          Path(spec.origin).read_text(encoding="utf-8"), re.M)
        if found:
            return found.group(1)
    import lark
    return str(lark.__version__)


def cache_key(kind: str, text: str | None = None) -> str:
    """The key of a `kind` of file built from the grammar `text` (default: the packaged grammar)."""
    source = grammar_text() if text is None else text
    return hashlib.sha256(f"{source}\0{OPTIONS!r}\0{lark_version()}\0{kind}".encode()).hexdigest()[:24]


def cache_path(kind: str, suffix: str) -> Path:
    return cache_dir() / f"expression-{cache_key(kind)}.{suffix}"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "policygate"


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a cache file atomically into a private directory; silently skip when not writable."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as stream:
            write(stream)
        os.replace(stream.name, path)
    except OSError:
        return
