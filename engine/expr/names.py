"""Name resolution: C# type names to static types and statics holders, and extension methods.

`static_type("Convert")` is the class of `engine.dotnet` holding a type's statics (the table
below, then the runtime registry); `resolve_type_name` gives the `CsType` of a written type;
`extension(name)` the extension method (LINQ, `AsJwt`, ...) usable on a receiver.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine import context as model
from engine.dotnet import clrnumeric
from engine.dotnet.errors import NullReferenceException
from engine.errors import SecurityError
from engine.expr.contexttypes import INTERFACES, MODEL_TYPES
from engine.expr.cstypes import (
    BOOL,
    BYTE,
    DOUBLE,
    DYNAMIC,
    INT,
    NULL,
    NUMERIC_TYPES,
    PRIMITIVES,
    STRING,
    STRING_ARRAY,
    CsType,
    is_value_type,
    library_type,
    nullable_type,
)
from engine.expr.library import CS_IDENT, FORBIDDEN, NAMESPACES, lib, strip_namespace

# ---------------------------------------------------------------- static types by C# name

_STATICS: dict[str, tuple[str, str]] = {
    "String": ("strings", "String"), "string": ("strings", "String"),
    "Object": ("objects", "Object"), "object": ("objects", "Object"),
    "StringComparison": ("strings", "StringComparison"), "StringSplitOptions": ("strings", "StringSplitOptions"),
    "StringComparer": ("strings", "StringComparer"),
    "Int32": ("numbers", "Int32"), "int": ("numbers", "Int32"), "Int64": ("numbers", "Int64"),
    "long": ("numbers", "Int64"), "Int16": ("numbers", "Int16"), "short": ("numbers", "Int16"),
    "UInt32": ("numbers", "UInt32"), "uint": ("numbers", "UInt32"), "UInt64": ("numbers", "UInt64"),
    "ulong": ("numbers", "UInt64"), "Byte": ("numbers", "Byte"), "byte": ("numbers", "Byte"),
    "SByte": ("numbers", "SByte"), "sbyte": ("numbers", "SByte"), "UInt16": ("numbers", "UInt16"),
    "ushort": ("numbers", "UInt16"),
    "Double": ("numbers", "Double"), "double": ("numbers", "Double"), "Single": ("numbers", "Single"),
    "float": ("numbers", "Single"), "Decimal": ("numbers", "Decimal"), "decimal": ("numbers", "Decimal"),
    "Boolean": ("numbers", "Boolean"), "bool": ("numbers", "Boolean"), "Char": ("primitives", "Char"),
    "char": ("primitives", "Char"),
    "Math": ("mathlib", "Math"), "Convert": ("systemconvert", "Convert"), "BitConverter": ("systemconvert", "BitConverter"),
    "Encoding": ("systemconvert", "Encoding"), "Guid": ("guid", "Guid"),
    "DateTime": ("datetimes", "DateTime"), "TimeSpan": ("timespan", "TimeSpan"),
    "DateTimeOffset": ("datetimes", "DateTimeOffset"), "DateTimeKind": ("datetimes", "DateTimeKind"),
    "DayOfWeek": ("datetimes", "DayOfWeek"),
    "JObject": ("newtonsoft", "JObject"), "JArray": ("newtonsoft", "JArray"), "JToken": ("newtonsoft", "JToken"),
    "JValue": ("newtonsoft", "JValue"), "JProperty": ("newtonsoft", "JProperty"),
    "JTokenType": ("newtonsoft", "JTokenType"), "JsonConvert": ("jsonconvert", "JsonConvert"),
    "Formatting": ("newtonsoft", "Formatting"),
    "Regex": ("regex", "Regex"), "RegexOptions": ("regexengine", "RegexOptions"), "Match": ("regex", "Match"),
    "Uri": ("uri", "Uri"), "UriKind": ("uri", "UriKind"), "UriPartial": ("uri", "UriPartial"),
    "UriHostNameType": ("uri", "UriHostNameType"),
    "WebUtility": ("uri", "WebUtility"), "HttpUtility": ("uri", "HttpUtility"),
    "Uri.EscapeDataString": ("uri", "Uri"),
    "StringBuilder": ("stringbuilder", "StringBuilder"),
    "XElement": ("xlinq", "XElement"), "XDocument": ("xlinq", "XDocument"), "XAttribute": ("xlinq", "XAttribute"),
    "XName": ("xlinq", "XName"), "XNamespace": ("xlinq", "XNamespace"),
    "Jwt": ("jwt", "Jwt"), "BasicAuthCredentials": ("jwt", "BasicAuthCredentials"),
    "Enumerable": ("linq", "Enumerable"),
    "Random": ("mathlib", "Random"),
    "HMACSHA256": ("crypto", "HMACSHA256"), "HMACSHA1": ("crypto", "HMACSHA1"), "HMACSHA512": ("crypto", "HMACSHA512"),
    "HMACSHA384": ("crypto", "HMACSHA384"), "HMACMD5": ("crypto", "HMACMD5"),
    "SHA256": ("crypto", "SHA256"), "SHA1": ("crypto", "SHA1"), "SHA512": ("crypto", "SHA512"),
    "SHA384": ("crypto", "SHA384"), "MD5": ("crypto", "MD5"), "Aes": ("crypto", "Aes"),
    "SHA256Managed": ("crypto", "SHA256Managed"), "SHA1Managed": ("crypto", "SHA1Managed"),
    "RandomNumberGenerator": ("crypto", "RandomNumberGenerator"),
    "CipherMode": ("crypto", "CipherMode"), "PaddingMode": ("crypto", "PaddingMode"),
    "HashAlgorithmName": ("crypto", "HashAlgorithmName"), "RSA": ("rsa", "RSA"),
    "RSASignaturePadding": ("rsa", "RSASignaturePadding"),
    "SymmetricAlgorithm": ("crypto", "SymmetricAlgorithm"),
    "Exception": ("errors", "DotNetException"), "Array": ("containers", "Array"),
    "List": ("containers", "List"), "Dictionary": ("containers", "Dictionary"),
    "HashSet": ("containers", "HashSet"), "Tuple": ("containers", "Tuple"),
    "Nullable": ("containers", "Nullable"), "Enum": ("enums", "Enum"),
    "CultureInfo": ("culture", "CultureInfo"), "NumberStyles": ("culture", "NumberStyles"),
    "DateTimeStyles": ("culture", "DateTimeStyles"), "IPAddress": ("net", "IPAddress"),
    "StringReader": ("textio", "StringReader"), "StringWriter": ("textio", "StringWriter"),
    "LoadOptions": ("xlinq", "LoadOptions"), "SaveOptions": ("xlinq", "SaveOptions"),
}


def static_type(name: str) -> Any:
    """The object holding the statics of a C# type (a class of engine.dotnet), or None."""
    short = strip_namespace(name)
    spec = _STATICS.get(short)
    found = lib(*spec) if spec is not None else None
    if found is None and CS_IDENT.match(short):
        found = lib("registry", "runtime_class")(short)
    return found


def is_namespace_prefix(name: str) -> bool:
    """True for `System`, `System.Text`...: the start of a namespace the library's types live in."""
    return any(ns.startswith(name + ".") or ns == name + "." for ns in NAMESPACES)


def known_type_names() -> list[str]:
    return sorted(set(_STATICS) | set(INTERFACES) | set(PRIMITIVES))


@functools.cache
def _array_type(element: str) -> CsType:
    return CsType(f"{element}[]", list, element=PRIMITIVES[element])


def resolve_type_name(t: Any) -> CsType:
    """Static type for a TypeName (or its text)."""
    text = str(t).replace(" ", "")
    if text.endswith("?") or text.startswith(("Nullable<", "System.Nullable<")) and text.endswith(">"):
        inner = resolve_type_name(text[:-1] if text.endswith("?") else text[text.index("<") + 1:-1])
        return nullable_type(inner) if is_value_type(inner) else inner
    if text in PRIMITIVES:
        return PRIMITIVES[text]
    if text in ("string[]", "String[]"):
        return STRING_ARRAY
    if text.endswith("[]") and text[:-2] in PRIMITIVES and PRIMITIVES[text[:-2]] not in (DYNAMIC, NULL, BYTE):
        return _array_type(text[:-2])  # `int[] a`: an array of ints (as `new int[n]` is; a byte[] is bytes)
    short = strip_namespace(text)
    if short in INTERFACES:
        return INTERFACES[short]
    cls = static_type(short)
    if isinstance(cls, type):
        return library_type(cls)
    return DYNAMIC


# ---------------------------------------------------------------- extension methods

# ---------------------------------------------------------------- static members of types


def static_attr(holder: Any, name: str) -> Any:
    """The attribute as the class defines it (a property object, not its value), or None."""
    try:
        return inspect.getattr_static(holder, name)
    except AttributeError:
        return None


def is_enum_member(value: Any) -> bool:
    return isinstance(value, enum.Enum)


def value_type(value: Any) -> CsType:
    """The static type of a constant or static field's value (`int.MaxValue` is an int)."""
    if isinstance(value, bool):
        return BOOL
    kind = clrnumeric.kind_of(value)
    if kind is not None:
        return NUMERIC_TYPES[kind]
    if isinstance(value, int) and not is_enum_member(value):
        return INT
    if isinstance(value, str):
        return STRING
    if isinstance(value, float):
        return DOUBLE
    cls = type(value)
    if cls.__module__.startswith("engine.dotnet"):  # (`DayOfWeek.Monday` is a DayOfWeek)
        return library_type(cls)
    return DYNAMIC


def static_property_type(holder: Any, name: str) -> CsType:
    """The type of a static property (`DateTime.UtcNow`, `Encoding.UTF8`): DYNAMIC when not declared."""
    if name in ("UtcNow", "Now", "Today", "MinValue", "MaxValue") and isinstance(holder, type):
        return library_type(holder)
    if name == "Empty" and getattr(holder, "__name__", "") == "String":
        return STRING
    if name in ("UTF8", "ASCII", "Unicode", "UTF32", "Default", "Latin1", "BigEndianUnicode"):
        cls = lib("systemconvert", "Encoding")
        return library_type(cls) if isinstance(cls, type) else DYNAMIC
    return DYNAMIC


_EXT_SOURCES = (("linq", "Enumerable"), ("jwt", "Extensions"), ("crypto", "Extensions"))
_EXTENSIONS: dict[str, Callable[..., Any] | None] = {}
_EXT_ORIGIN: dict[str, str] = {"GetValueOrDefault": "linq"}  # name -> module ("linq": any enumerable)


def _dict_get_value_or_default(d: Any, name: Any, default: Any = None) -> Any:
    if isinstance(d, model.Headers):
        return d.get(name, default)
    if d is None:
        raise NullReferenceException()
    if not isinstance(d, dict):
        raise SecurityError("GetValueOrDefault needs a dictionary")
    if name not in d:
        return default
    value = d[name]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return value


_OWN_EXTENSIONS: dict[str, Callable[..., Any]] = {"GetValueOrDefault": _dict_get_value_or_default}


def extension(name: str) -> Callable[..., Any] | None:
    """An extension method usable on any receiver (LINQ, AsJwt, GetValueOrDefault...)."""
    if name in _EXTENSIONS:
        return _EXTENSIONS[name]
    found: Callable[..., Any] | None = None
    if CS_IDENT.match(name) and name not in FORBIDDEN:
        found = _OWN_EXTENSIONS.get(name)
        for module, holder in _EXT_SOURCES:
            if found is not None:
                break
            ns = lib(module, holder)
            candidate = getattr(ns, name, None) if ns is not None else None
            if candidate is not None and callable(candidate) and not isinstance(candidate, type):
                found = candidate
                _EXT_ORIGIN[name] = module
    _EXTENSIONS[name] = found
    return found


def extension_names() -> list[str]:
    """Every extension method name (for "did you mean" hints)."""
    names = set(_OWN_EXTENSIONS)
    for module, holder in _EXT_SOURCES:
        ns = lib(module, holder)
        if ns is not None:
            names.update(n for n in dir(ns) if CS_IDENT.match(n) and extension(n) is not None)
    return sorted(names)


_RECEIVERS = {"jwt": (str,), "crypto": (bytes, bytearray)}
_NOT_ENUMERABLE = (bool, int, float, Decimal)
_ENUMERABLE = (str, list, tuple, dict, set, frozenset, bytes, bytearray, model.Headers)


def is_enumerable(type_: CsType) -> bool:
    """False only when the static type is known not to be a sequence (LINQ does not apply)."""
    cls = type_.pyclass
    if type_.element is not None or not isinstance(cls, type):
        return True
    if issubclass(cls, _ENUMERABLE):
        return True
    if issubclass(cls, _NOT_ENUMERABLE) or cls in MODEL_TYPES:
        return False
    if (getattr(cls, "__module__", "") or "").startswith("engine.dotnet"):
        return getattr(cls, "__iter__", None) is not None or getattr(cls, "GetEnumerator", None) is not None
    return True


def extension_receiver(name: str) -> str:
    """What the extension method `name` extends, for messages."""
    return {"jwt": "'string'", "crypto": "'byte[]'"}.get(_EXT_ORIGIN.get(name, "linq"), "sequences (IEnumerable<T>)")


def applicable_extension(type_: CsType, name: str) -> Callable[..., Any] | None:
    """The extension method `name` if it can apply to a receiver of static type `type_`.

    `AsJwt`/`AsBasic`/`TryParse*` take a string, `Encrypt`/`Decrypt` a byte array, LINQ and
    `GetValueOrDefault` a sequence; a receiver whose type is only known at run time accepts all.
    """
    ext = extension(name)
    if ext is None:
        return None
    cls = type_.pyclass
    if not isinstance(cls, type):
        return ext
    receivers = _RECEIVERS.get(_EXT_ORIGIN.get(name, "linq"))
    if receivers is not None:
        return ext if issubclass(cls, receivers) else None
    return ext if is_enumerable(type_) else None
