"""What the runtime library (`engine.dotnet`) defines, as the compiler and the run-time gate see it.

Deny by default: a member of a library value is allowed when its name is a C# identifier starting
with an upper-case letter (no `_`, so never a Python dunder), is not FORBIDDEN, and is defined by a
class of `engine.dotnet` (or by the namespace class of a built-in representation, such as
`StringMembers` for `str`). Classes are reached by module and name (`lib`), never by user text.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import keyword
import re
from decimal import Decimal
from typing import Any

CS_IDENT = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
FORBIDDEN = frozenset(
    {
        "GetType", "GetMethod", "GetField", "GetProperty", "GetMember", "InvokeMember", "Assembly",
        "Reflection", "Activator", "AppDomain", "Process", "Environment", "File", "Directory",
        "IO", "Marshal", "Type", "Invoke", "DynamicInvoke", "CreateDelegate", "MemberwiseClone",
        "Finalize", "Diagnostics", "InteropServices", "Threading", "Emit", "Registry",
        "Socket", "HttpClient", "WebClient", "ProcessStartInfo", "Eval",
    }
)
# Forbidden as type names and methods, but allowed as a read-only property where a class of the
# library declares one (`JToken.Type` is a `JTokenType`, `Jwt.Type` the `typ` header).
DECLARED_PROPERTY_ONLY = frozenset({"Type"})


def declared_property(cls: Any, name: str) -> bool:
    """True when `name` is a DECLARED_PROPERTY_ONLY name that `cls` defines as a property."""
    return (name in DECLARED_PROPERTY_ONLY and isinstance(cls, type)
            and isinstance(defined_by_library(cls, name), property))


_LIB_CACHE: dict[tuple[str, str], Any] = {}


def lib(module: str, name: str) -> Any:
    """`engine.dotnet.<module>.<name>`, or None when that module defines no such name."""
    key = (module, name)
    if key not in _LIB_CACHE:
        _LIB_CACHE[key] = getattr(importlib.import_module(f"engine.dotnet.{module}"), name, None)
    return _LIB_CACHE[key]


_WARM: list[bool] = []


def warm_up() -> None:
    """Import the whole runtime library once, at the first compilation, so that no evaluation pays
    for (and times out on) a module import the first time it reaches a part of the library."""
    if not _WARM:
        _WARM.append(True)
        _import_library()
        lib("registry", "runtime_class")


def _import_library() -> None:
    """Import every module of engine.dotnet (a module that fails to import is a bug: it raises)."""
    import pkgutil

    import engine.dotnet as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"engine.dotnet.{info.name}")


NAMESPACES = ("System.", "System.Text.", "System.Linq.", "System.Security.Cryptography.", "Newtonsoft.Json.Linq.",
              "Newtonsoft.Json.", "System.Text.RegularExpressions.", "System.Xml.Linq.", "System.Net.",
              "System.Collections.Generic.", "System.Globalization.", "System.IO.", "System.Web.")


def strip_namespace(name: str) -> str:
    for ns in sorted(NAMESPACES, key=len, reverse=True):
        if name.startswith(ns) and "." not in name[len(ns):]:
            return name[len(ns):]
    return name


_INSTANCE_NAMESPACES: list[tuple[type | tuple[type, ...], tuple[str, str]]] = [
    (bool, ("numbers", "BoolMembers")),
    (enum.Enum, ("enums", "EnumMembers")),  # before int: IntEnum values are ints
    (str, ("strings", "StringMembers")),
    ((int, float, Decimal), ("numbers", "NumberMembers")),
    ((bytes, bytearray), ("collectionmembers", "BytesMembers")),
    (list, ("collectionmembers", "ListMembers")),
    (tuple, ("collectionmembers", "ArrayMembers")),
    (dict, ("collectionmembers", "DictionaryMembers")),
    ((set, frozenset), ("collectionmembers", "SetMembers")),
]


def namespace_for(cls: type) -> Any:
    for py, (module, name) in _INSTANCE_NAMESPACES:
        if issubclass(cls, py):
            return lib(module, name)
    return None


def namespace_function(cls: type, name: str, *, array: bool = False) -> Any:
    """The library function for member `name` of a built-in-represented value, or None.

    Lists stand for both `T[]` and `List<T>`: both member sets are searched (arrays first when the
    static type is an array, so `Length` and `Count` both work).
    """
    spaces = [namespace_for(cls)]
    if issubclass(cls, list):
        arrays = lib("collectionmembers", "ArrayMembers")
        spaces = [arrays, spaces[0]] if array else [spaces[0], arrays]
    for space in spaces:
        fn = getattr(space, name, None) if space is not None and CS_IDENT.match(name) else None
        if fn is not None and callable(fn):
            return fn
    return None


def namespace_names(cls: type) -> list[str]:
    names: set[str] = set()
    for space in (namespace_for(cls), lib("collectionmembers", "ArrayMembers") if issubclass(cls, list) else None):
        if space is not None:
            names.update(n for n in dir(space) if CS_IDENT.match(n))
    return sorted(names)


def defined_by_library(cls: type, name: str) -> Any:
    """The class attribute `name` if a class of engine (not Python itself) defines it."""
    for klass in cls.__mro__:
        if name in vars(klass):
            module = getattr(klass, "__module__", "") or ""
            return vars(klass)[name] if module.startswith("engine.") else None
    return None


def returns_void(cls: type, name: str) -> bool:
    """True when the library method `name` of `cls` is declared `-> None` (a C# `void` method)."""
    attr = defined_by_library(cls, name)
    function = getattr(attr, "__func__", attr)
    return callable(function) and getattr(function, "__annotations__", {}).get("return") in ("None", None.__class__)


def has_library_member(cls: type, name: str) -> bool:
    """True when values of library class `cls` have member `name` (enums: also `EnumMembers`)."""
    if defined_by_library(cls, name) is not None:
        return True
    return issubclass(cls, enum.Enum) and _cs_name(name) and hasattr(lib("enums", "EnumMembers"), name)


def _cs_name(name: str) -> bool:
    return bool(CS_IDENT.match(name)) and name not in FORBIDDEN


NAMESPACE_PROPERTIES = frozenset({"Length", "Count", "Keys", "Values", "Key", "Value", "Chars", "Rank", "LongLength",
                                   "Capacity"})


def signature_arity(fn: Any, skip: int) -> tuple[int, int | None]:
    """(min, max) positional arguments of a library function after `skip` leading ones."""
    inner = getattr(fn, "__wrapped__", None) or (getattr(fn, "__kwdefaults__", None) or {}).get("__f")
    if inner is not None and callable(inner):  # null-checking wrappers of the library keep the original
        fn = inner
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return 0, None
    lo = 0
    hi: int | None = 0
    for p in list(sig.parameters.values())[skip:]:
        if p.kind is p.VAR_POSITIONAL:
            hi = None
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if hi is not None:
                hi += 1
            if p.default is p.empty:
                lo += 1
    return lo, hi


def py_name(holder: Any, name: str) -> str:
    """C# names that are Python keywords (`StringSplitOptions.None`) are spelled with a trailing '_'."""
    if keyword.iskeyword(name) and not hasattr(holder, name) and hasattr(holder, name + "_"):
        return name + "_"
    return name
