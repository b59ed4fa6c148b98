"""Newtonsoft.Json.Linq: ``JToken``, ``JContainer``, ``JObject``, ``JArray``, ``JProperty``, ``JValue``.

Semantics follow Json.NET 13: ``JObject`` indexers return ``null`` for missing names, adding a
token that already has a parent adds a deep clone, explicit conversions (``(string)token``,
``(int)token``...) go through :meth:`JToken.explicit_conversion`, ``ToString()`` is indented JSON
with two spaces (``Formatting.None`` gives compact JSON) and ``JValue.ToString()`` is the bare
value. Parsing keeps Newtonsoft's leniency and turns ISO-8601 date strings into ``Date`` values.
Python ``==`` on tokens is reference equality, like C#'s ``==`` on ``JToken``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from typing import Any, TypeVar, cast

from . import clrnumeric
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    JsonReaderException,
)
from .jsonpath import select_token, select_tokens
from .jsonreader import UNDEFINED, looks_like_date, read_json
from .jsonwriter import json_scalar, json_string
from .limits import TextBuffer, paced
from .primitives import NEW_LINE, Char, TypeRef, type_ref

_INT64 = clrnumeric.INT64
_INT64_LO, _INT64_HI = _INT64.lo, _INT64.hi


class JTokenType(enum.IntEnum):
    """``Newtonsoft.Json.Linq.JTokenType``."""

    None_ = 0
    Object = 1
    Array = 2
    Constructor = 3
    Property = 4
    Comment = 5
    Integer = 6
    Float = 7
    String = 8
    Boolean = 9
    Null = 10
    Undefined = 11
    Date = 12
    Raw = 13
    Bytes = 14
    Guid = 15
    Uri = 16
    TimeSpan = 17

    def ToString(self, fmt: str | None = None) -> str:
        from .enums import EnumMembers

        return EnumMembers.ToString(self, fmt)


class Formatting(enum.IntEnum):
    """``Newtonsoft.Json.Formatting``."""

    None_ = 0
    Indented = 1

    def ToString(self, fmt: str | None = None) -> str:
        from .enums import EnumMembers

        return EnumMembers.ToString(self, fmt)


_MISSING = object()
_SIMPLE_NAME = re.compile(r"^[^.\[\]()'\"\s]+$")


def _date_hook(text: str) -> Any:
    from .datetimes import parse_json_date

    return parse_json_date(text)


# ---------------------------------------------------------------------------------------------
# JToken
# ---------------------------------------------------------------------------------------------


class JToken:
    """``Newtonsoft.Json.Linq.JToken``: the base of every JSON node."""

    dotnet_name = "Newtonsoft.Json.Linq.JToken"
    formattable = False
    __slots__ = ("_parent",)

    def __init__(self) -> None:
        self._parent: JContainer | None = None

    implicit_from_scalars = True  # C#'s `JToken t = 5;` (not `JObject o = 5;`: JToken's own operators)

    @staticmethod
    def implicit_from(value: Any) -> Any:
        """JToken's implicit conversions from scalars (`JToken t = 5;` is a JValue); other values unchanged."""
        if value is None or isinstance(value, JToken | dict | list | tuple | set | frozenset):
            return value
        return JValue(value)

    # -- navigation ----------------------------------------------------------------------------
    @property
    def Type(self) -> JTokenType:
        raise NotImplementedError

    @property
    def Parent(self) -> JContainer | None:
        return self._parent

    @property
    def Root(self) -> JToken:
        token: JToken = self
        while token._parent is not None:
            token = token._parent
        return token

    @property
    def HasValues(self) -> bool:
        return False

    @property
    def First(self) -> JToken | None:
        raise InvalidOperationException(f"Cannot access child value on {type(self).dotnet_name}.")

    @property
    def Last(self) -> JToken | None:
        raise InvalidOperationException(f"Cannot access child value on {type(self).dotnet_name}.")

    @property
    def Next(self) -> JToken | None:
        siblings = self._parent._items() if self._parent is not None else []
        for i, t in enumerate(siblings):
            if t is self:
                return siblings[i + 1] if i + 1 < len(siblings) else None
        return None

    @property
    def Previous(self) -> JToken | None:
        siblings = self._parent._items() if self._parent is not None else []
        for i, t in enumerate(siblings):
            if t is self:
                return siblings[i - 1] if i > 0 else None
        return None

    @property
    def Path(self) -> str:
        parts: list[str] = []
        token: JToken = self
        while token._parent is not None:
            parent = token._parent
            if isinstance(parent, JArray):
                parts.append(f"[{_index_of(parent._list, token)}]")
            elif isinstance(token, JProperty):
                name = token.Name
                parts.append(
                    ("." + name) if _SIMPLE_NAME.match(name) else "['" + name.replace("'", "\\'") + "']"
                )
            token = parent
        text = "".join(reversed(parts))
        return text[1:] if text.startswith(".") else text

    def _items(self) -> list[JToken]:
        return []

    def Children(self, t: Any = None) -> list[JToken]:
        """``Children()``, or ``Children<T>()``: the children that are a ``T`` (``JProperty``, ``JValue``...)."""
        if t is None:
            return list(self._items())
        from .conversions import is_type

        return [child for child in self._items() if is_type(child, t)]

    def Descendants(self) -> list[JToken]:
        out: list[JToken] = []
        for child in self._items():
            out.append(child)
            out.extend(child.Descendants())
        return out

    def DescendantsAndSelf(self) -> list[JToken]:
        return [self, *self.Descendants()]

    def Ancestors(self) -> list[JToken]:
        out: list[JToken] = []
        token = self._parent
        while token is not None:
            out.append(token)
            token = token._parent
        return out

    def AncestorsAndSelf(self) -> list[JToken]:
        return [self, *self.Ancestors()]

    def __iter__(self) -> Iterator[JToken]:
        return iter(list(self._items()))

    # -- indexers ------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> JToken | None:
        raise InvalidOperationException(f"Cannot access child value on {type(self).dotnet_name}.")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise InvalidOperationException(f"Cannot set child value on {type(self).dotnet_name}.")

    def Item(self, key: Any) -> JToken | None:
        return self[key]

    # -- values --------------------------------------------------------------------------------
    def Value(self, t: Any = "object", key: Any = _MISSING) -> Any:
        """``Value<T>()`` (convert this token) or ``Value<T>(key)`` (convert ``this[key]``)."""
        from .jtokenvalues import convert_token

        token = self if key is _MISSING else self[key]
        return convert_token(token, type_ref(t))

    def ValueOf(self, t: Any = "object", key: Any = _MISSING) -> Any:
        """``Value<T>(...)`` under a name that no ``Value`` property shadows (``JValue``/``JProperty``)."""
        return JToken.Value(self, t, key)

    def Values(self, t: Any = "JToken", key: Any = _MISSING) -> list[Any]:
        """``Values<T>()``: the children (or their ``key`` values) converted to ``T``."""
        from .jtokenvalues import _is_token_type, convert_token

        tr = type_ref(t)
        out: list[Any] = []
        for child in self._items():
            if isinstance(child, JProperty):
                child = child.Value
            if key is not _MISSING:
                out.append(convert_token(child[key], tr))
            elif isinstance(child, JContainer) and not _is_token_type(tr):
                out.extend(convert_token(c, tr) for c in child._items())
            else:
                out.append(convert_token(child, tr))
        return out

    def ToObject(self, t: Any = "object") -> Any:
        from .jtokenvalues import to_object

        return to_object(self, type_ref(t))

    def SelectToken(self, path: str, error_when_no_match: Any = False) -> JToken | None:
        return select_token(
            self, path, bool(error_when_no_match) if not isinstance(error_when_no_match, dict) else False
        )

    def SelectTokens(self, path: str, error_when_no_match: Any = False) -> list[JToken]:
        return select_tokens(self, path, bool(error_when_no_match))

    # -- mutation ------------------------------------------------------------------------------
    def Remove(self) -> None:
        if self._parent is None:
            raise InvalidOperationException("The parent is missing.")
        self._parent._remove_child(self)

    def Replace(self, value: Any) -> None:
        if self._parent is None:
            raise InvalidOperationException("The parent is missing.")
        self._parent._replace_child(self, to_token(value))

    def AddAfterSelf(self, content: Any) -> None:
        if self._parent is None:
            raise InvalidOperationException("The parent is missing.")
        self._parent._insert_near(self, content, after=True)

    def AddBeforeSelf(self, content: Any) -> None:
        if self._parent is None:
            raise InvalidOperationException("The parent is missing.")
        self._parent._insert_near(self, content, after=False)

    def DeepClone(self) -> JToken:
        raise NotImplementedError

    # -- text ----------------------------------------------------------------------------------
    def ToString(self, formatting: Any = Formatting.Indented, *converters: Any) -> str:
        indented = not (isinstance(formatting, int) and int(formatting) == int(Formatting.None_))
        out = TextBuffer()
        self._write(out, indented, 0)
        return out.text()

    def _write(self, out: list[str], indented: bool, level: int) -> None:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.ToString()

    def Equals(self, other: Any) -> bool:
        return self is other

    def GetHashCode(self) -> int:
        return id(self) & 0x7FFFFFFF

    def GetType(self) -> str:
        return type(self).dotnet_name

    # -- statics -------------------------------------------------------------------------------
    @staticmethod
    def Parse(text: str, settings: Any = None) -> JToken:
        return from_parsed(read_json(_need_text(text), _date_hook, strict_dates=False), _date_hook)

    @staticmethod
    def FromObject(value: Any, serializer: Any = None) -> JToken:
        if value is None:
            raise ArgumentNullException("o")
        return from_object(value)

    @staticmethod
    def DeepEquals(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return a is b
        # C#'s implicit conversions make `JToken.DeepEquals(1, 1.0)` compare two JValues
        a = a if isinstance(a, JToken) else JValue(a)
        b = b if isinstance(b, JToken) else JValue(b)
        return deep_equals(a, b)

    @staticmethod
    def explicit_conversion(token: JToken | None, t: TypeRef) -> Any:
        """Newtonsoft's ``explicit operator T(JToken)`` (used by ``conversions.cast``)."""
        from .jtokenvalues import explicit_conversion

        return explicit_conversion(token, t)


def _index_of(items: list[JToken], token: JToken) -> int:
    for i, t in enumerate(items):
        if t is token:
            return i
    return -1


def _need_text(text: Any) -> str:
    if text is None:
        raise ArgumentNullException("json")
    return str(text)


# ---------------------------------------------------------------------------------------------
# containers
# ---------------------------------------------------------------------------------------------

_Token = TypeVar("_Token", bound=JToken)


class JContainer(JToken):
    """``Newtonsoft.Json.Linq.JContainer``: a token with children."""

    dotnet_name = "Newtonsoft.Json.Linq.JContainer"
    __slots__ = ()

    @property
    def HasValues(self) -> bool:
        return bool(self._items())

    @property
    def First(self) -> JToken | None:
        items = self._items()
        return items[0] if items else None

    @property
    def Last(self) -> JToken | None:
        items = self._items()
        return items[-1] if items else None

    @property
    def Count(self) -> int:
        return len(self._items())

    def _adopt(self, token: _Token) -> _Token:
        if token._parent is not None or token is self or token is self.Root:
            token = cast(_Token, token.DeepClone())  # each kind's DeepClone returns its own kind
        token._parent = self
        return token

    def _remove_child(self, token: JToken) -> None:
        raise NotImplementedError

    def _replace_child(self, old: JToken, new: JToken) -> None:
        raise NotImplementedError

    def _insert_near(self, anchor: JToken, content: Any, after: bool) -> None:
        raise NotImplementedError

    def RemoveAll(self) -> None:
        for child in list(self._items()):
            self._remove_child(child)

    def Merge(self, content: Any, settings: Any = None) -> None:
        if content is None:
            return
        other = to_token(content)
        _merge(self, other)


def _merge(target: JContainer, source: JToken) -> None:
    if isinstance(target, JObject) and isinstance(source, JObject):
        for prop in source.Properties():
            existing = target.Property(prop.Name)
            if existing is None:
                target.Add(prop.Name, prop.Value)
            elif (
                isinstance(existing.Value, JContainer)
                and isinstance(prop.Value, JContainer)
                and existing.Value.Type == prop.Value.Type
            ):
                _merge(existing.Value, prop.Value)
            elif not (isinstance(prop.Value, JValue) and prop.Value.Type == JTokenType.Null):
                existing.Value = prop.Value
    elif isinstance(target, JArray) and isinstance(source, JArray):
        for item in source:
            target.Add(item)


def _is_enumerable_content(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset | Iterator) or (
        hasattr(value, "__iter__") and not isinstance(value, str | bytes | bytearray | dict | JToken)
    )


class JObject(JContainer):
    """``Newtonsoft.Json.Linq.JObject``: ordered properties; missing names index to ``null``."""

    dotnet_name = "Newtonsoft.Json.Linq.JObject"
    __slots__ = ("_props",)

    def __init__(self, *content: Any) -> None:
        super().__init__()
        self._props: dict[str, JProperty] = {}
        for item in content:
            self.Add(item)

    @property
    def Type(self) -> JTokenType:
        return JTokenType.Object

    def _items(self) -> list[JToken]:
        return list(self._props.values())

    def __getitem__(self, key: Any) -> JToken | None:
        if not isinstance(key, str):
            raise ArgumentException(
                f"Accessed JObject values with invalid key value: {_key_text(key)}. Object property name expected."
            )
        prop = self._props.get(key)
        return prop.Value if prop is not None else None

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, str):
            raise ArgumentException(
                f"Set JObject values with invalid key value: {_key_text(key)}. Object property name expected."
            )
        prop = self._props.get(key)
        if prop is not None:
            prop.Value = value
        else:
            self._add_property(JProperty(key, value))

    def _add_property(self, prop: JProperty) -> None:
        if prop.Name in self._props:
            raise ArgumentException(
                f"Can not add property {prop.Name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
            )
        prop = self._adopt(prop)
        self._props[prop.Name] = prop

    def Add(self, name_or_content: Any, value: Any = _MISSING) -> None:
        if value is not _MISSING:
            if name_or_content is None:
                raise ArgumentNullException("propertyName")
            self._add_property(JProperty(str(name_or_content), value))
            return
        content = name_or_content
        if isinstance(content, JProperty):
            self._add_property(content)
        elif isinstance(content, JObject):
            for prop in content.Properties():
                self._add_property(prop)
        elif _is_enumerable_content(content):
            for item in paced(content):
                self.Add(item)
        elif content is None:
            return
        else:
            token = to_token(content)
            raise ArgumentException(f"Can not add {type(token).dotnet_name} to {self.dotnet_name}.")

    def GetEnumerator(self) -> Iterator[Any]:
        """What ``foreach`` over a ``JObject`` yields: ``KeyValuePair<string, JToken>``."""
        from .collectioncore import KeyValuePair

        return iter([KeyValuePair(k, p.Value) for k, p in self._props.items()])

    def Properties(self) -> list[JProperty]:
        return list(self._props.values())

    def PropertyValues(self) -> list[JToken]:
        return [p.Value for p in self._props.values()]

    def Property(self, name: str, comparison: Any = None) -> JProperty | None:
        if name is None:
            return None
        prop = self._props.get(name)
        if prop is None and comparison is not None and int(comparison) in (1, 3, 5):
            folded = name.upper()
            for key, p in self._props.items():
                if key.upper() == folded:
                    return p
        return prop

    def GetValue(self, name: str, comparison: Any = None) -> JToken | None:
        prop = self.Property(name, comparison)
        return prop.Value if prop is not None else None

    def TryGetValue(self, name: str, comparison: Any = None) -> tuple[bool, JToken | None]:
        value = self.GetValue(name, comparison)
        return (self.Property(name, comparison) is not None), value

    def ContainsKey(self, name: str) -> bool:
        if name is None:
            raise ArgumentNullException("propertyName")
        return name in self._props

    def Remove(self, name: Any = _MISSING) -> Any:
        if name is _MISSING:
            return super().Remove()
        prop = self._props.get(name)
        if prop is None:
            return False
        del self._props[name]
        prop._parent = None
        return True

    def _remove_child(self, token: JToken) -> None:
        if isinstance(token, JProperty) and self._props.get(token.Name) is token:
            del self._props[token.Name]
            token._parent = None

    def _replace_child(self, old: JToken, new: JToken) -> None:
        if not isinstance(new, JProperty):
            raise ArgumentException(f"Can not add {type(new).dotnet_name} to {self.dotnet_name}.")
        items = [
            (new.Name if p is old else k, self._adopt(new) if p is old else p) for k, p in self._props.items()
        ]
        old._parent = None
        self._props = dict(items)

    def _insert_near(self, anchor: JToken, content: Any, after: bool) -> None:
        new = to_token(content)
        if not isinstance(new, JProperty):
            raise ArgumentException(f"Can not add {type(new).dotnet_name} to {self.dotnet_name}.")
        if new.Name in self._props:
            raise ArgumentException(
                f"Can not add property {new.Name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
            )
        items: list[tuple[str, JProperty]] = []
        for k, p in self._props.items():
            if p is anchor and not after:
                items.append((new.Name, self._adopt(new)))
            items.append((k, p))
            if p is anchor and after:
                items.append((new.Name, self._adopt(new)))
        self._props = dict(items)

    def DeepClone(self) -> JObject:
        clone = JObject()
        for prop in self._props.values():
            clone._add_property(prop.DeepClone())
        return clone

    def _write(self, out: list[str], indented: bool, level: int) -> None:
        _write_children(out, self._props.values(), "{}", indented, level)

    # IDictionary-style members
    @property
    def Keys(self) -> list[str]:
        return list(self._props)

    @property
    def Values_(self) -> list[JToken]:
        return self.PropertyValues()

    @staticmethod
    def Parse(text: str, settings: Any = None) -> JObject:
        return _parse_as(text, JObject, "an object")

    @staticmethod
    def FromObject(value: Any, serializer: Any = None) -> JObject:
        return _from_object_as(value, JObject)


class JArray(JContainer):
    """``Newtonsoft.Json.Linq.JArray``."""

    dotnet_name = "Newtonsoft.Json.Linq.JArray"
    __slots__ = ("_list",)

    def __init__(self, *content: Any) -> None:
        super().__init__()
        self._list: list[JToken] = []
        if len(content) == 1 and isinstance(content[0], JArray):
            content = tuple(content[0]._list)  # the JArray(JArray other) copy constructor
        for item in content:
            self.Add(item)

    @property
    def Type(self) -> JTokenType:
        return JTokenType.Array

    def _items(self) -> list[JToken]:
        return self._list

    def _check_index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise ArgumentException(
                f"Accessed JArray values with invalid key value: {_key_text(index)}. Int32 array index expected."
            )
        if not 0 <= index < len(self._list):
            raise ArgumentOutOfRangeException(
                "index",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            )
        return index

    def __getitem__(self, index: Any) -> JToken:
        return self._list[self._check_index(index)]

    def __setitem__(self, index: Any, value: Any) -> None:
        i = self._check_index(index)
        self._list[i]._parent = None
        self._list[i] = self._adopt(to_token(value))

    def Add(self, content: Any) -> None:
        if _is_enumerable_content(content) and not isinstance(content, JToken):
            for item in paced(content):
                self.Add(item)
            return
        self._list.append(self._adopt(to_token(content)))

    def Insert(self, index: int, content: Any) -> None:
        if not 0 <= index <= len(self._list):
            raise ArgumentOutOfRangeException("index", "Index must be within the bounds of the List.")
        self._list.insert(index, self._adopt(to_token(content)))

    def RemoveAt(self, index: int) -> None:
        i = self._check_index(index)
        self._list.pop(i)._parent = None

    def Remove(self, item: Any = _MISSING) -> Any:
        if item is _MISSING:
            return super().Remove()
        i = _index_of(self._list, item)
        if i < 0:
            return False
        self._list.pop(i)._parent = None
        return True

    def Clear(self) -> None:
        for t in self._list:
            t._parent = None
        self._list = []

    def Contains(self, item: Any) -> bool:
        return _index_of(self._list, item) >= 0

    def IndexOf(self, item: Any) -> int:
        return _index_of(self._list, item)

    def _remove_child(self, token: JToken) -> None:
        self.Remove(token)

    def _replace_child(self, old: JToken, new: JToken) -> None:
        i = _index_of(self._list, old)
        old._parent = None
        self._list[i] = self._adopt(new)

    def _insert_near(self, anchor: JToken, content: Any, after: bool) -> None:
        i = _index_of(self._list, anchor) + (1 if after else 0)
        self._list.insert(i, self._adopt(to_token(content)))

    def DeepClone(self) -> JArray:
        clone = JArray()
        for t in self._list:
            clone._list.append(clone._adopt(t.DeepClone()))
        return clone

    def _write(self, out: list[str], indented: bool, level: int) -> None:
        _write_children(out, self._list, "[]", indented, level)

    @staticmethod
    def Parse(text: str, settings: Any = None) -> JArray:
        return _parse_as(text, JArray, "an array")

    @staticmethod
    def FromObject(value: Any, serializer: Any = None) -> JArray:
        return _from_object_as(value, JArray)


class JProperty(JContainer):
    """``Newtonsoft.Json.Linq.JProperty``: a name and one value."""

    dotnet_name = "Newtonsoft.Json.Linq.JProperty"
    __slots__ = ("_name", "_value")
    _value: JToken

    def __init__(self, name: Any, *content: Any) -> None:
        super().__init__()
        if name is None:
            raise ArgumentNullException("name")
        if isinstance(name, JProperty):
            self._name = name.Name
            self._value = self._adopt(name.Value.DeepClone())
            return
        self._name = str(name)
        if len(content) == 1 and not _is_enumerable_content(content[0]):
            value = to_token(content[0])
        elif len(content) == 1:
            value = JArray(content[0])
        elif not content:
            value = JValue(None)
        else:
            value = JArray(*content)
        self._value = self._adopt(value)

    @property
    def Type(self) -> JTokenType:
        return JTokenType.Property

    @property
    def Name(self) -> str:
        return self._name

    # JProperty.Value is a property while JToken.Value<T>() is a method, as in .NET
    @property  # type: ignore[override]
    def Value(self) -> JToken:
        return self._value

    @Value.setter
    def Value(self, value: Any) -> None:
        self._value._parent = None
        self._value = self._adopt(to_token(value))

    def _items(self) -> list[JToken]:
        return [self._value]

    def __getitem__(self, key: Any) -> JToken | None:
        raise InvalidOperationException(f"Cannot access child value on {self.dotnet_name}.")

    def _remove_child(self, token: JToken) -> None:
        raise InvalidOperationException("Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.")

    def _replace_child(self, old: JToken, new: JToken) -> None:
        self.Value = new

    def _insert_near(self, anchor: JToken, content: Any, after: bool) -> None:
        raise InvalidOperationException("Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.")

    def DeepClone(self) -> JProperty:
        return JProperty(self._name, self._value.DeepClone())

    def _write(self, out: list[str], indented: bool, level: int) -> None:
        out.append(json_string(self._name))
        out.append(": " if indented else ":")
        self._value._write(out, indented, level)


class JValue(JToken):
    """``Newtonsoft.Json.Linq.JValue``: a primitive (string, number, bool, null, date, guid...)."""

    dotnet_name = "Newtonsoft.Json.Linq.JValue"
    formattable = True
    __slots__ = ("_value", "_type")
    _value: Any

    def __init__(self, value: Any = None, value_type: JTokenType | None = None) -> None:
        super().__init__()
        if isinstance(value, JValue):
            value, value_type = value._value, value._type
        self._value = _normalise_scalar(value)
        self._type = value_type if value_type is not None else _scalar_type(self._value)

    @property
    def Type(self) -> JTokenType:
        return self._type

    @property
    def Value(self) -> Any:
        value = self._value
        if value.__class__ is int and _INT64_LO <= value <= _INT64_HI:  # Newtonsoft holds integers as long
            return _INT64.box(value)
        return None if value is UNDEFINED else value

    @Value.setter
    def Value(self, value: Any) -> None:
        self._value = _normalise_scalar(value)
        self._type = _scalar_type(self._value)

    def DeepClone(self) -> JValue:
        return JValue(self._value, self._type)

    def _write(self, out: list[str], indented: bool, level: int) -> None:
        if self._type == JTokenType.Undefined:
            out.append("undefined")
        elif self._type == JTokenType.Comment:
            out.append(f"/*{self._value or ''}*/")
        else:
            out.append(json_scalar(self._value))

    def ToString(self, formatting: Any = _MISSING, *args: Any) -> str:
        if isinstance(formatting, Formatting):
            return super().ToString(formatting)
        value = self.Value
        if value is None:
            return ""
        fmt = formatting if isinstance(formatting, str) else None
        if fmt is not None:
            from .formatting import format_value

            return format_value(value, fmt)
        from .conversions import to_string

        return to_string(value)

    def Equals(self, other: Any) -> bool:
        return isinstance(other, JValue) and _values_equal(self, other)

    def GetHashCode(self) -> int:
        return hash(self._value) & 0x7FFFFFFF if self._value is not None else 0

    def CompareTo(self, other: JValue) -> int:
        a, b = self.Value, other.Value if isinstance(other, JValue) else other
        if a is None or b is None:
            return 0 if a is b else (-1 if a is None else 1)
        try:
            return int(a > b) - int(a < b)
        except TypeError:
            sa, sb = str(a), str(b)
            return (sa > sb) - (sa < sb)

    @staticmethod
    def CreateNull() -> JValue:
        return JValue(None)

    @staticmethod
    def CreateString(value: str | None) -> JValue:
        return JValue(value, JTokenType.String if value is not None else JTokenType.Null)

    @staticmethod
    def CreateUndefined() -> JValue:
        return JValue(UNDEFINED, JTokenType.Undefined)

    @staticmethod
    def CreateComment(value: str | None) -> JValue:
        return JValue(value, JTokenType.Comment)


class JRaw(JValue):
    """``Newtonsoft.Json.Linq.JRaw``: raw JSON written as is."""

    dotnet_name = "Newtonsoft.Json.Linq.JRaw"
    __slots__ = ()

    def __init__(self, raw: Any) -> None:
        super().__init__(
            None if raw is None else str(raw.ToString(Formatting.None_) if isinstance(raw, JToken) else raw),
            JTokenType.Raw,
        )

    def _write(self, out: list[str], indented: bool, level: int) -> None:
        out.append(self._value or "")

    def DeepClone(self) -> JRaw:
        return JRaw(self._value)


# ---------------------------------------------------------------------------------------------
# helpers: scalars, construction, equality
# ---------------------------------------------------------------------------------------------


def _normalise_scalar(value: Any) -> Any:
    if isinstance(value, Char):
        return str(value)
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def _scalar_type(value: Any) -> JTokenType:
    if value is None:
        return JTokenType.Null
    if value is UNDEFINED:
        return JTokenType.Undefined
    if isinstance(value, bool):
        return JTokenType.Boolean
    if isinstance(value, int):
        return JTokenType.Integer
    if isinstance(value, float | Decimal):
        return JTokenType.Float
    if isinstance(value, str):
        return JTokenType.String
    if isinstance(value, bytes):
        return JTokenType.Bytes
    kind = getattr(type(value), "json_token_type", None)
    if kind is not None:
        return JTokenType[kind]
    raise ArgumentException(
        f"Could not determine JSON object type for type {getattr(type(value), 'dotnet_name', type(value).__name__)}."
    )


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return f'"{key}"'
    from .conversions import to_string

    return to_string(key)


def _reader_item(token: JToken) -> str:
    return {JTokenType.Object: "StartObject", JTokenType.Array: "StartArray"}.get(
        token.Type, token.Type.ToString()
    )


def _first_pos(text: str) -> int:
    stripped = text.lstrip()
    return len(text) - len(stripped) + 1


_Container = TypeVar("_Container", bound=JContainer)


def _parse_as(text: str, cls: type[_Container], item: str) -> _Container:
    """``JObject.Parse``/``JArray.Parse``: the parsed token, which must be a ``cls`` (``item`` names it)."""
    token = from_parsed(read_json(_need_text(text), _date_hook, strict_dates=False), _date_hook)
    if not isinstance(token, cls):
        raise JsonReaderException(
            f"Error reading {cls.__name__} from JsonReader. Current JsonReader item is not {item}: {_reader_item(token)}. Path '', line 1, position {_first_pos(text)}."
        )
    return token


def _from_object_as(value: Any, cls: type[_Container]) -> _Container:
    """``JObject.FromObject``/``JArray.FromObject``: the token for ``value``, which must be a ``cls``."""
    token = JToken.FromObject(value)
    if not isinstance(token, cls):
        raise ArgumentException(f"Object serialized to {token.Type.ToString()}. {cls.__name__} instance expected.")
    return token


def _write_children(
    out: list[str], children: Collection[JToken], brackets: str, indented: bool, level: int
) -> None:
    """Write an object's properties or an array's items between ``brackets`` (``"{}"``/``"[]"``)."""
    if not children:
        out.append(brackets)
        return
    out.append(brackets[0])
    for i, child in enumerate(children):
        if i:
            out.append(",")
        if indented:
            out.append(NEW_LINE + "  " * (level + 1))
        child._write(out, indented, level + 1)
    if indented:
        out.append(NEW_LINE + "  " * level)
    out.append(brackets[1])


def from_parsed(data: Any, date_hook: Callable[[str], Any] | None = None) -> JToken:
    """Build tokens from :func:`read_json` output (``date_hook``: for the date strings it left,
    ``strict_dates=False``)."""
    if isinstance(data, dict):
        obj = JObject()
        for k, v in data.items():
            prop = JProperty.__new__(JProperty)
            prop._parent = obj
            prop._name = k
            child = from_parsed(v, date_hook)
            child._parent = prop
            prop._value = child
            obj._props[k] = prop
        return obj
    if isinstance(data, list):
        arr = JArray()
        for v in data:
            child = from_parsed(v, date_hook)
            child._parent = arr
            arr._list.append(child)
        return arr
    kind = _FAST_TYPES.get(type(data))
    if kind is JTokenType.String and date_hook is not None and looks_like_date(data):
        date = date_hook(data)
        if date is not None:
            return JValue(date)
    if kind is not None:
        value = JValue.__new__(JValue)
        value._parent = None
        value._value = data
        value._type = kind
        return value
    return JValue(data)


_FAST_TYPES = {
    str: JTokenType.String,
    int: JTokenType.Integer,
    float: JTokenType.Float,
    bool: JTokenType.Boolean,
    type(None): JTokenType.Null,
}


def to_token(value: Any) -> JToken:
    """Implicit conversion of a value to a ``JToken`` (``JValue`` for scalars)."""
    if isinstance(value, JToken):
        return value
    if isinstance(value, dict | list | tuple | set | frozenset):
        return from_object(value)
    return JValue(value)


def from_object(value: Any) -> JToken:
    """``JToken.FromObject``: dicts (anonymous objects) become objects, sequences arrays."""
    if isinstance(value, JToken):
        return value.DeepClone()
    if isinstance(value, dict):
        obj = JObject()
        for k, v in paced(value.items()):
            obj._add_property(JProperty(_dict_key(k), JValue(None) if v is None else from_object(v)))
        return obj
    if isinstance(value, list | tuple | set | frozenset) or (isinstance(value, Iterator)):
        arr = JArray()
        for v in paced(value):
            arr._list.append(arr._adopt(from_object(v) if v is not None else JValue(None)))
        return arr
    to_json = getattr(value, "to_json_object", None)
    if to_json is not None:
        return from_object(to_json())
    return JValue(value)


def _dict_key(key: Any) -> str:
    from .conversions import to_string

    return to_string(key)


def _values_equal(a: JValue, b: JValue) -> bool:
    x, y = a.Value, b.Value
    if x is None or y is None:
        return x is None and y is None and a.Type == b.Type or (x is None and y is None)
    if isinstance(x, bool) or isinstance(y, bool):
        return isinstance(x, bool) and isinstance(y, bool) and x == y
    if isinstance(x, int | float | Decimal) and isinstance(y, int | float | Decimal):
        if isinstance(x, float) and math.isnan(x):
            return isinstance(y, float) and math.isnan(y)
        return float(x) == float(y) if isinstance(x, float) or isinstance(y, float) else x == y
    if type(x) is not type(y):
        return False
    return bool(x == y)


def deep_equals(a: JToken, b: JToken) -> bool:
    if a.Type != b.Type:  # Newtonsoft: values of different JTokenTypes (Integer 1, Float 1.0) differ
        return False
    if isinstance(a, JValue) and isinstance(b, JValue):
        return _values_equal(a, b)
    if isinstance(a, JProperty) and isinstance(b, JProperty):
        return a.Name == b.Name and deep_equals(a.Value, b.Value)
    if isinstance(a, JObject) and isinstance(b, JObject):
        if a._props.keys() != b._props.keys():
            return False
        return all(deep_equals(a._props[k].Value, b._props[k].Value) for k in a._props)
    ia, ib = a._items(), b._items()
    return len(ia) == len(ib) and all(deep_equals(x, y) for x, y in zip(ia, ib, strict=True))


__all__ = [
    "Formatting",
    "JArray",
    "JContainer",
    "JObject",
    "JProperty",
    "JRaw",
    "JToken",
    "JTokenType",
    "JValue",
    "deep_equals",
    "from_object",
    "from_parsed",
    "to_token",
]
