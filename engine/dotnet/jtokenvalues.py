"""Values out of Newtonsoft tokens: explicit casts, ``Value<T>``, ``ToObject<T>``.

(``JsonConvert`` itself, serializing and deserializing, is `engine.dotnet.jsonconvert`.)

* :func:`explicit_conversion` — ``(string)token``, ``(int)token``... with Newtonsoft's checks of
  the token type and ``Convert.ChangeType`` semantics;
* :func:`convert_token` — ``Extensions.Convert`` behind ``Value<T>()``/``Values<T>()``
  (a missing token gives ``default(T)``);
* :func:`to_object` — ``ToObject<T>()`` for tokens, lists, arrays and dictionaries;
* :func:`to_native` — plain Python structures.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .errors import ArgumentException, ArgumentNullException, InvalidCastException
from .newtonsoft import JArray, JObject, JProperty, JToken, JTokenType, JValue
from .primitives import Char, TypeRef, dotnet_type_name, type_ref

_TOKEN_TYPES = {"JToken", "JContainer", "JObject", "JArray", "JProperty", "JValue", "JRaw", "System.Object"}

_ALLOWED = {
    "System.String": {
        JTokenType.String,
        JTokenType.Float,
        JTokenType.Integer,
        JTokenType.Boolean,
        JTokenType.Date,
        JTokenType.Bytes,
        JTokenType.Guid,
        JTokenType.Uri,
        JTokenType.TimeSpan,
        JTokenType.Comment,
        JTokenType.Raw,
    },
    "System.Boolean": {
        JTokenType.Integer,
        JTokenType.Float,
        JTokenType.String,
        JTokenType.Comment,
        JTokenType.Boolean,
    },
    "number": {
        JTokenType.Integer,
        JTokenType.Float,
        JTokenType.String,
        JTokenType.Comment,
        JTokenType.Boolean,
    },
    "System.Char": {
        JTokenType.Integer,
        JTokenType.Float,
        JTokenType.String,
        JTokenType.Comment,
        JTokenType.Raw,
    },
    "System.DateTime": {JTokenType.Date, JTokenType.String, JTokenType.Comment, JTokenType.Raw},
    "System.DateTimeOffset": {JTokenType.Date, JTokenType.String, JTokenType.Comment, JTokenType.Raw},
    "System.Guid": {JTokenType.String, JTokenType.Comment, JTokenType.Raw, JTokenType.Guid, JTokenType.Bytes},
    "System.TimeSpan": {JTokenType.String, JTokenType.Comment, JTokenType.Raw, JTokenType.TimeSpan},
    "System.Uri": {JTokenType.String, JTokenType.Comment, JTokenType.Raw, JTokenType.Uri},
    "System.Byte[]": {
        JTokenType.String,
        JTokenType.Comment,
        JTokenType.Raw,
        JTokenType.Bytes,
        JTokenType.Integer,
    },
}

_NUMERIC_NAMES = {
    "System.Int32",
    "System.Int64",
    "System.Int16",
    "System.Byte",
    "System.SByte",
    "System.UInt16",
    "System.UInt32",
    "System.UInt64",
    "System.Double",
    "System.Single",
    "System.Decimal",
}


def _is_token_type(t: TypeRef) -> bool:
    return t.name in _TOKEN_TYPES


def _dotnet_short(t: TypeRef) -> str:
    return t.short.removesuffix("[]") + ("[]" if t.is_array else "")


def explicit_conversion(token: JToken | None, t: TypeRef) -> Any:
    """Newtonsoft's ``explicit operator T(JToken)``."""
    if t.name in _TOKEN_TYPES:
        if token is None or t.name in ("JToken", "System.Object"):
            return token
        from .registry import runtime_class

        cls = runtime_class(t.name)
        if cls is not None and isinstance(token, cls):
            return token
        raise InvalidCastException(
            f"Unable to cast object of type '{getattr(type(token), 'dotnet_name', type(token).__name__)}' to type '{getattr(cls, 'dotnet_name', t.name) if cls else t.name}'."
        )
    reference = t.name in ("System.String", "System.Uri", "System.Byte[]")
    if token is None:
        if t.nullable or reference:
            return None
        raise ArgumentNullException("value")
    allowed = _ALLOWED.get("number" if t.name in _NUMERIC_NAMES else t.name)
    if allowed is None:
        raise InvalidCastException(
            f"Unable to cast object of type '{type(token).dotnet_name}' to type '{t.name}'."
        )
    if not isinstance(token, JValue) or (
        token.Type not in allowed
        and not ((t.nullable or reference) and token.Type in (JTokenType.Null, JTokenType.Undefined))
    ):
        kind = token.Type.ToString()
        target = t.short + ("?" if t.nullable else "")
        if t.nullable:
            target = f"Nullable`1[{t.name}]"
        raise ArgumentException(f"Can not convert {kind} to {target if not t.nullable else t.short}.")
    value = token.Value
    if value is None:
        return None
    from .systemconvert import change_type

    if t.name == "System.String" and isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    if t.name == "System.String" and getattr(type(value), "dotnet_name", "") == "System.Uri":
        return value.OriginalString
    return change_type(value, TypeRef(t.name))


def convert_token(token: JToken | None, t: TypeRef) -> Any:
    """Newtonsoft ``Extensions.Convert<JToken, U>`` behind ``Value<U>()``/``Values<U>()``."""
    if token is None:
        return _default_of(t)
    if _is_token_type(t):
        return explicit_conversion(token, t)
    if not isinstance(token, JValue):
        raise InvalidCastException(f"Cannot cast {type(token).dotnet_name} to {t.name}.")
    value = token.Value
    if value is None:
        if t.nullable or t.name in ("System.String", "System.Object", "System.Uri", "System.Byte[]"):
            return None
        raise InvalidCastException("Null object cannot be converted to a value type.")
    if t.name in _NOT_CONVERTIBLE:  # Convert.ChangeType: only a value already of the type
        from .registry import runtime_class

        cls = runtime_class(t.name)
        if cls is not None and isinstance(value, cls):
            return value
        raise InvalidCastException(f"Invalid cast from '{dotnet_type_name(value)}' to '{t.name}'.")
    from .systemconvert import change_type

    return change_type(value, TypeRef(t.name))


_NOT_CONVERTIBLE = frozenset({"System.Guid", "System.TimeSpan", "System.Uri", "System.DateTimeOffset"})


def _default_of(t: TypeRef) -> Any:
    if t.nullable:
        return None
    if t.name in ("System.Double", "System.Single"):
        return 0.0
    if t.name == "System.Decimal":
        return Decimal(0)
    if t.name == "System.Boolean":
        return False
    if t.name in _NUMERIC_NAMES:
        return 0
    if t.name == "System.Char":
        return Char("\0")
    if t.name in ("System.DateTime", "System.TimeSpan", "System.Guid", "System.DateTimeOffset"):
        from .registry import runtime_class

        cls = runtime_class(t.name)
        return cls.default() if cls is not None and hasattr(cls, "default") else None
    return None


def to_native(token: JToken | None) -> Any:
    """Plain Python structure for a token (objects -> dict, arrays -> list)."""
    if token is None:
        return None
    if isinstance(token, JObject):
        return {k: to_native(p.Value) for k, p in token._props.items()}
    if isinstance(token, JArray):
        return [to_native(t) for t in token._list]
    if isinstance(token, JProperty):
        return {token.Name: to_native(token.Value)}
    return token.Value


_DICT_RE = re.compile(r"^(?:I?Dictionary|IReadOnlyDictionary)<([^,]+),(.+)>$")
_LIST_RE = re.compile(
    r"^(?:List|IList|IEnumerable|ICollection|IReadOnlyList|IReadOnlyCollection|HashSet)<(.+)>$"
)


def to_object(token: JToken, t: TypeRef) -> Any:
    """``ToObject<T>()`` for the types expressions use."""
    if t.name == "System.Object":
        if isinstance(token, JValue):
            return token.Value
        return token
    if _is_token_type(t):
        return explicit_conversion(token, t)
    short = t.name
    m = _DICT_RE.match(short)
    if m:
        if not isinstance(token, JObject):
            from .errors import JsonSerializationException

            raise JsonSerializationException(
                f"Cannot deserialize the current JSON {token.Type.ToString().lower()} into type '{short}'."
            )
        value_type = type_ref(m.group(2))
        return {k: to_object(p.Value, value_type) for k, p in token._props.items()}
    m = _LIST_RE.match(short)
    if m or t.is_array:
        if not isinstance(token, JArray):
            from .errors import JsonSerializationException

            raise JsonSerializationException(
                f"Cannot deserialize the current JSON {token.Type.ToString().lower()} into type '{short}'."
            )
        elem = type_ref(m.group(1)) if m else t.element
        items = [to_object(x, elem) for x in token._list]
        if t.name == "System.Byte[]":
            return bytes(items)
        return set(items) if short.startswith("HashSet") else items
    if isinstance(token, JValue):
        if token.Value is None:
            return _default_of(t) if not t.nullable else None
        return explicit_conversion(token, t)
    from .errors import JsonSerializationException

    raise JsonSerializationException(
        f"Cannot deserialize the current JSON {token.Type.ToString().lower()} into type '{short}'."
    )


__all__ = ["convert_token", "explicit_conversion", "to_native", "to_object"]
