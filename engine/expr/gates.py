"""The run-time gate: what a value whose type is known only at run time may touch.

Member access and calls (`member_gate`, `call_gate`: deny by default, by the same rules as the
compiler's static binding, see `engine.expr.library`), and the container operations: `foreach`,
indexers, assignments and initializers.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from engine.context import Headers
from engine.dotnet.clrnumeric import ByteValue
from engine.dotnet.collectioncore import KeyValuePair, add_entry
from engine.dotnet.containers import RectangularArray
from engine.dotnet.errors import (
    ArgumentOutOfRangeException,
    IndexOutOfRangeException,
    KeyNotFoundException,
    NullReferenceException,
)
from engine.dotnet.keyed import KeyedDict, KeyedSet
from engine.dotnet.newtonsoft import JObject
from engine.dotnet.primitives import static_property
from engine.errors import SecurityError
from engine.expr import ast
from engine.expr import runtime as rt
from engine.expr.closures import _located
from engine.expr.contexttypes import MODEL_TYPES, dict_index, headers_index, pairs
from engine.expr.library import (
    CS_IDENT,
    FORBIDDEN,
    NAMESPACE_PROPERTIES,
    declared_property,
    defined_by_library,
    lib,
    namespace_function,
)
from engine.expr.names import extension

# ---------------------------------------------------------------- members and calls

class MemberAccessError(SecurityError):
    """The dynamic gate refused a member name (located at the name, not the whole access)."""


class Resolved:
    """How a (runtime class, member name) pair is accessed: property getter or method function."""

    __slots__ = ("getter", "method")

    def __init__(self, getter: Callable[[Any], Any] | None, method: Callable[..., Any] | None) -> None:
        self.getter = getter
        self.method = method


_GATE: dict[tuple[type, str], Resolved | None] = {}


def resolve_runtime(cls: type, name: str) -> Resolved | None:
    """Deny-by-default resolution of `name` on values of `cls` (cached; None: not allowed)."""
    key = (cls, name)
    if key in _GATE:
        return _GATE[key]
    result: Resolved | None = None
    if declared_property(cls, name):
        result = Resolved(attrgetter(name), None)
    elif CS_IDENT.match(name) and name not in FORBIDDEN:
        model_type = MODEL_TYPES.get(cls)
        if model_type is not None:
            m = model_type.members.get(name)
            if m is not None:
                result = Resolved(m.impl, None) if m.kind == "property" else Resolved(None, m.impl)
        else:
            attr = defined_by_library(cls, name)
            if attr is not None:
                getter = attrgetter(name) if not callable(attr) or isinstance(attr, property) else None
                if isinstance(attr, property | static_property):
                    getter = attrgetter(name)
                function = _method_in_mro(cls, name)
                result = Resolved(getter, _bound_method(name) if function is not None and getter is None else
                                  _unbound(function) if function is not None else None)
            else:
                fn = namespace_function(cls, name)
                if fn is not None:
                    is_prop = name in NAMESPACE_PROPERTIES
                    result = Resolved(fn, None) if is_prop else Resolved(None, fn)
    _GATE[key] = result
    return result


def _method_in_mro(cls: type, name: str) -> Any:
    """The first plain function `name` in the MRO (skipping properties): `JValue.Value<T>()`."""
    for klass in cls.__mro__:
        attr = vars(klass).get(name)
        if attr is None or isinstance(attr, property):
            continue
        if not (getattr(klass, "__module__", "") or "").startswith("engine."):
            return None
        return attr
    return None


def _unbound(attr: Any) -> Callable[..., Any]:
    if isinstance(attr, staticmethod):
        fn = attr.__func__
        return lambda obj, *a, **k: fn(*a, **k)
    if isinstance(attr, classmethod):
        fn = attr.__func__
        return lambda obj, *a, **k: fn(type(obj), *a, **k)
    function: Callable[..., Any] = attr
    return function


def _bound_method(name: str) -> Callable[..., Any]:
    def call(obj: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(obj, name)(*args, **kwargs)

    return call


def member_gate(obj: Any, name: str) -> Any:
    """Read property `name` of a value whose type is only known at run time."""
    if obj is None:
        raise NullReferenceException()
    r = resolve_runtime(obj.__class__, name)
    if r is None or r.getter is None:
        if r is not None:
            raise MemberAccessError(f"'{name}' is a method of {_type_label(obj)}: call it with ()")
        raise MemberAccessError(f"{_type_label(obj)} has no accessible member '{name}'")
    return r.getter(obj)


def call_gate(obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Any:
    """Call method `name` of a value whose type is only known at run time (extensions included)."""
    if obj is not None:
        r = resolve_runtime(obj.__class__, name)
        if r is not None and r.method is not None:
            return r.method(obj, *args, **kwargs) if kwargs else r.method(obj, *args)
    ext = extension(name)
    if ext is not None:
        if obj.__class__ is Headers and name != "GetValueOrDefault":
            obj = pairs(obj)
        return ext(obj, *args, **kwargs) if kwargs else ext(obj, *args)
    if obj is None:
        raise NullReferenceException()
    raise MemberAccessError(f"{_type_label(obj)} has no accessible method '{name}'")


def _type_label(obj: Any) -> str:
    from engine.dotnet.primitives import dotnet_type_name

    model_type = MODEL_TYPES.get(obj.__class__)
    if model_type is not None:
        return f"'{model_type.name}'"
    return f"'{dotnet_type_name(obj).rsplit('.', 1)[-1]}'"


# ---------------------------------------------------------------- containers


def iterate(obj: Any, pos: ast.Pos) -> Any:
    """What `foreach` and LINQ may enumerate: collections, strings (chars), dictionaries (pairs)."""
    if obj is None:
        raise _located(NullReferenceException(), pos)
    cls = obj.__class__
    if cls is list or cls is KeyedSet or cls is tuple or cls is set or cls is frozenset:
        return obj
    if isinstance(obj, str):
        from engine.dotnet.primitives import Char

        return map(Char, obj)  # lazily: a foreach over a long string ticks per char
    if isinstance(obj, dict) or cls is Headers:
        return pairs(obj)
    if isinstance(obj, bytes | bytearray):
        return list(map(ByteValue, obj))  # a byte[]'s elements are bytes
    if cls is JObject:  # JObject.GetEnumerator(): KeyValuePair<string, JToken> (`Properties()` gives JProperty)
        return [KeyValuePair(p.Name, p.Value) for p in obj.Properties()]
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
    if cls is KeyedDict and len(keys) == 1:  # a Dictionary read by a string/int key: its values dict, no frame
        key, key_cls = keys[0], keys[0].__class__
        if (key_cls is str or key_cls is int) and obj._plain:
            try:
                return obj._values[key]
            except KeyError:
                raise KeyNotFoundException(f"The given key '{key}' was not present in the dictionary.") from None
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
        return obj[key] if cls is list or cls is tuple else ByteValue(obj[key])  # a byte[] holds bytes
    if isinstance(obj, str):
        return lib("strings", "StringMembers").Item(obj, key)
    if isinstance(obj, dict):
        return dict_index(obj, key)
    if cls is Headers:
        return headers_index(obj, key)
    if defined_by_library(cls, "__getitem__") is not None:
        return obj[key]
    raise rt.SecurityError(f"values of type '{cls.__name__}' have no indexer")


def setitem_gate(obj: Any, keys: list[Any], value: Any, is_list: bool = False) -> None:
    if obj is None:
        raise NullReferenceException()
    cls = obj.__class__
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
    if cls is KeyedDict or cls is dict:
        obj[key] = value
        return
    if defined_by_library(cls, "__setitem__") is not None:
        obj[key] = value
        return
    raise rt.SecurityError(f"values of type '{type(obj).__name__}' cannot be modified with an indexer")


def setattr_gate(obj: Any, name: str, value: Any) -> None:
    if obj is None:
        raise NullReferenceException()
    if not CS_IDENT.match(name) or name in FORBIDDEN:
        raise rt.SecurityError(f"'{name}' is not accessible")
    attr = defined_by_library(obj.__class__, name)
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
    elif cls is KeyedDict:
        add_entry(obj, *values)
    elif cls is KeyedSet:
        obj.insert(values[0])
    elif cls is dict:
        if values[0] in obj:  # `{ { "a", 1 }, { "a", 2 } }` is Add twice: ArgumentException
            call_gate(obj, "Add", tuple(values))
        obj[values[0]] = values[1]
    elif cls is set:
        obj.add(values[0])
    else:
        call_gate(obj, "Add", tuple(values))
