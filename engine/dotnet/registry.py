"""Look up runtime classes by their C# name (used by casts, ``is``/``as`` and the compiler)."""

from __future__ import annotations

import importlib
from functools import lru_cache

_MODULES = (
    "newtonsoft",
    "datetimes",
    "timespan",
    "timezones",
    "guid",
    "uri",
    "regex",
    "regexengine",
    "stringbuilder",
    "strings",
    "primitives",
    "jwt",
    "xlinq",
    "textio",
    "crypto",
    "rsa",
    "containers",
    "collectioncore",
    "collectionmembers",
    "systemconvert",
    "culture",
    "mathlib",
    "net",
    "x509",
    "jsonconvert",
    "linq",
    "numbers",
    "enums",
    "errors",
    "objects",
)

_ALIASES = {"Exception": "DotNetException"}


@lru_cache(maxsize=512)
def runtime_class(name: str) -> type | None:
    """The runtime class for a C# type name, or ``None`` (statics objects such as ``Int32`` and
    enum members are not classes and are not returned).

    Accepts short (``JObject``) and namespace-qualified (``System.Text.StringBuilder``) names.
    """
    short = name.rsplit(".", 1)[-1]
    short = _ALIASES.get(short, short)
    if not short or not short[0].isupper() or "_" in short:
        return None
    for module_name in _MODULES:
        module = importlib.import_module(f"{__package__}.{module_name}")
        found = vars(module).get(short)
        if isinstance(found, type) and (
            found.__module__ == module.__name__ or short in getattr(module, "__all__", ())
        ):
            return found
    return None


__all__ = ["runtime_class"]
