"""Run-time gates for containers: what `foreach`, indexers and initializers may touch."""

from __future__ import annotations

from typing import Any

from engine.context import Headers
from engine.dotnet.containers import RectangularArray
from engine.dotnet.errors import ArgumentOutOfRangeException, IndexOutOfRangeException, NullReferenceException
from engine.expr import ast
from engine.expr import members as M
from engine.expr import runtime as rt
from engine.expr.closures import _located


def iterate(obj: Any, pos: ast.Pos) -> Any:
    """What `foreach` and LINQ may enumerate: collections, strings (chars), dictionaries (pairs)."""
    if obj is None:
        raise _located(NullReferenceException(), pos)
    cls = obj.__class__
    if cls is list or cls is tuple or cls is set or cls is frozenset:
        return obj
    if isinstance(obj, str):
        from engine.dotnet.primitives import Char

        return map(Char, obj)  # lazily: a foreach over a long string ticks per char
    if isinstance(obj, dict) or cls is Headers:
        return M._pairs(obj)
    if isinstance(obj, bytes | bytearray):
        return list(obj)
    module = getattr(cls, "__module__", "") or ""
    if module.startswith("engine.") or cls.__name__ in ("generator", "map", "filter", "dict_keys", "dict_values"):
        return obj
    raise _located(rt.SecurityError(f"values of type '{cls.__name__}' cannot be enumerated"), pos)


def is_list_type(t: Any) -> bool:
    """A static `List<T>` / `IList<T>` (held as a Python list, like arrays, whose indexer differs)."""
    return str(getattr(t, "name", "")).startswith(("List<", "IList<"))


def _list_range(obj: Any, key: Any) -> None:
    """`List<T>`'s indexer (unlike an array's) throws ArgumentOutOfRangeException."""
    if isinstance(key, int) and not isinstance(key, bool) and not 0 <= key < len(obj):
        raise ArgumentOutOfRangeException(
            "index", "Index was out of range. Must be non-negative and less than the size of the collection.")


def index_gate(obj: Any, keys: list[Any], is_list: bool = False) -> Any:
    """`obj[key]` for the container types an expression can hold (`is_list`: statically a `List<T>`)."""
    if is_list and obj.__class__ is list and len(keys) == 1:
        _list_range(obj, keys[0])
    cls = obj.__class__
    if len(keys) != 1:
        if cls is RectangularArray:
            return obj[tuple(keys)]
        raise rt.DotNetTypeError("multi-dimensional indexers are not supported")
    key = keys[0]
    if cls is list or cls is tuple or cls is bytes or cls is bytearray:
        if not isinstance(key, int) or isinstance(key, bool):
            raise rt.DotNetTypeError("array index must be an integer")
        if not 0 <= key < len(obj):
            raise IndexOutOfRangeException()
        return obj[key]
    if isinstance(obj, str):
        return M.lib("strings", "StringMembers").Item(obj, key)
    if isinstance(obj, dict):
        return M._dict_index(obj, key)
    if cls is Headers:
        return M._headers_index(obj, key)
    if M._defined_by_library(cls, "__getitem__") is not None:
        return obj[key]
    raise rt.SecurityError(f"values of type '{cls.__name__}' have no indexer")


def setitem_gate(obj: Any, keys: list[Any], value: Any, is_list: bool = False) -> None:
    cls = obj.__class__ if obj is not None else None
    if obj is None:
        raise NullReferenceException()
    if is_list and cls is list and len(keys) == 1:
        _list_range(obj, keys[0])
    if len(keys) != 1:
        if cls is RectangularArray:
            obj[tuple(keys)] = value
            return
        raise rt.DotNetTypeError("multi-dimensional indexers are not supported")
    key = keys[0]
    if cls is list or cls is bytearray:
        if not isinstance(key, int) or not 0 <= key < len(obj):
            raise IndexOutOfRangeException()
        obj[key] = value
        return
    if cls is dict:
        obj[key] = value
        return
    if M._defined_by_library(cls, "__setitem__") is not None:  # type: ignore[arg-type]
        obj[key] = value
        return
    raise rt.SecurityError(f"values of type '{type(obj).__name__}' cannot be modified with an indexer")


def setattr_gate(obj: Any, name: str, value: Any) -> None:
    if obj is None:
        raise NullReferenceException()
    if not M.CS_IDENT.match(name) or name in M.FORBIDDEN:
        raise rt.SecurityError(f"'{name}' is not accessible")
    attr = M._defined_by_library(obj.__class__, name)
    if isinstance(attr, property) and attr.fset is not None:
        setattr(obj, name, value)
        return
    raise rt.SecurityError(f"property '{name}' cannot be assigned")


def add_gate(obj: Any, values: list[Any]) -> None:
    """Collection initializer element: `Add(...)`."""
    cls = obj.__class__
    if cls is list:
        obj.append(values[0])
        rt.check_size(len(obj))
    elif cls is dict:
        if values[0] in obj:  # `{ { "a", 1 }, { "a", 2 } }` is Add twice: ArgumentException
            M.call_gate(obj, "Add", tuple(values))
        obj[values[0]] = values[1]
    elif cls is set:
        obj.add(values[0])
    else:
        M.call_gate(obj, "Add", tuple(values))
