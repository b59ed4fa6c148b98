"""The allow-listed C# surface: types, their members, and the bindings to Python implementations.

Two sources of declarations, one rule (deny by default):

* the `context` object model of APIM (§2.5 of the spec) is declared here explicitly, member by
  member, onto the Python objects of `engine.context`;
* the .NET library lives in `engine.dotnet`, whose classes carry the exact C# member names. A
  member of a library value is allowed when its name is a C# identifier starting with an upper-case
  letter (no `_`, so never a Python dunder) and it is defined by a class of `engine.dotnet` (or by
  the namespace class for a built-in representation such as `StringMembers` for `str`).

`CsType` is the static type the checker/compiler tracks; `DYNAMIC` means "known at run time
only": such member accesses compile to `member_gate` lookups against the same rules.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

from engine import context as model  # re-exported: M.model
from engine.dotnet import clrnumeric
from engine.dotnet.clrnumeric import NumKind
from engine.dotnet.errors import (
    InvalidCastException,
    InvalidOperationException,
    KeyNotFoundException,
    NullReferenceException,
)
from engine.errors import SecurityError

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
            and isinstance(_defined_by_library(cls, name), property))


@dataclass(eq=False)
class Member:
    """One declared member. Properties: `impl(target)`; methods: `impl(target, *args)`."""

    name: str
    kind: str  # property | method
    impl: Callable[..., Any]
    returns: CsType | Callable[..., CsType] | None = None  # callable: f(type_args) -> CsType
    min_args: int = 0
    max_args: int | None = None  # None: any number
    generic: bool = False  # takes <T> as the first argument (passed as a type name string)
    out_positions: tuple[int, ...] = ()  # indices of `out` params (result tuple: (ret, *outs))
    path: str | None = None  # for properties that are a plain attribute path (fused getters)
    doc: str = ""
    inline: Callable[[str, list[str]], str] | None = None  # source template for the generated evaluator

    def result(self, type_args: tuple[Any, ...] = ()) -> CsType:
        if self.returns is None:
            return DYNAMIC
        if isinstance(self.returns, CsType):
            return self.returns
        return self.returns(type_args)


@dataclass(eq=False)
class CsType:
    """A static C# type: its name, the Python class(es) of its values and its declared members."""

    name: str
    pyclass: type | tuple[type, ...] | None = None
    members: dict[str, Member] = field(default_factory=dict)
    closed: bool = False  # unknown members are lint errors (else they go to the runtime gate)
    element: CsType | None = None  # element type for foreach / LINQ lambdas
    value: CsType | None = None  # a dictionary's value type (`GetValueOrDefault`, the indexer)
    items: tuple[CsType, ...] | None = None  # a value tuple's element types (deconstruction)
    numeric: bool = False
    kind: NumKind | None = None  # the CLR numeric type (numbers and char): selects width-specific operators

    def __repr__(self) -> str:
        return f"CsType({self.name})"

    def member(self, name: str) -> Member | None:
        return self.members.get(name)


DYNAMIC = CsType("object")
VOID = CsType("void")
NULL = CsType("null")
STRING = CsType("string", str)
CHAR = CsType("char", kind=clrnumeric.CHAR)
BOOL = CsType("bool", bool)
# `typeof(T)`: an argument of `Enum.Parse(typeof(T), ...)` and friends. System.Type is not on APIM's
# allow-list, so the value has no members (`typeof(int).Name` is a check-time error).
SYSTEM_TYPE = CsType("System.Type", str, closed=True)


def _numeric_type(kind: NumKind) -> CsType:
    return CsType(kind.keyword, int if kind.integral else float if kind is not clrnumeric.DECIMAL else Decimal,
                  numeric=True, kind=kind)


SBYTE = _numeric_type(clrnumeric.SBYTE)
BYTE = _numeric_type(clrnumeric.BYTE)
SHORT = _numeric_type(clrnumeric.INT16)
USHORT = _numeric_type(clrnumeric.UINT16)
INT = _numeric_type(clrnumeric.INT32)
UINT = _numeric_type(clrnumeric.UINT32)
LONG = _numeric_type(clrnumeric.INT64)
ULONG = _numeric_type(clrnumeric.UINT64)
FLOAT = _numeric_type(clrnumeric.SINGLE)
DOUBLE = _numeric_type(clrnumeric.DOUBLE)
DECIMAL = _numeric_type(clrnumeric.DECIMAL)
STRING_ARRAY = CsType("string[]", list, element=STRING)
STRING.element = CHAR
NUMERIC_TYPES: dict[NumKind, CsType] = {t.kind: t for t in (SBYTE, BYTE, SHORT, USHORT, INT, UINT, LONG, ULONG,
                                                           FLOAT, DOUBLE, DECIMAL, CHAR) if t.kind is not None}
PRIMITIVES = {
    "string": STRING, "bool": BOOL, **{t.name: t for t in NUMERIC_TYPES.values()},
    **{kind.name.rsplit(".", 1)[1]: t for kind, t in NUMERIC_TYPES.items()},
    "object": DYNAMIC, "null": NULL,
}


def prop(name: str, path: str, returns: CsType | None = None) -> Member:
    return Member(name, "property", attrgetter(path), returns, path=path)


def method(name: str, impl: Callable[..., Any], returns: CsType | Callable[..., CsType] | None,
           min_args: int, max_args: int | None, **kw: Any) -> Member:
    return Member(name, "method", impl, returns, min_args, max_args, **kw)


def declare(type_: CsType, *members: Member, closed: bool = True) -> CsType:
    for m in members:
        type_.members[m.name] = m
    type_.closed = closed
    return type_


# ---------------------------------------------------------------- library access (engine.dotnet)

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


def to_string(value: Any) -> str:
    from engine.dotnet.conversions import to_string as convert

    return convert(value)


# ---------------------------------------------------------------- dictionaries of the context


def _headers_get(h: model.Headers, name: str, default: Any = None) -> Any:
    return h.get(name, default)


def _headers_index(h: model.Headers, name: str) -> list[str]:
    if name not in h:
        raise KeyNotFoundException(f"The given key '{name}' was not present in the dictionary.")
    return h.get_list(name)


def _headers_try(h: model.Headers, name: str) -> tuple[bool, list[str] | None]:
    return (True, h.get_list(name)) if name in h else (False, None)


def KeyValuePair(key: Any, value: Any) -> Any:  # noqa: N802 - constructs the C# type
    """`KeyValuePair<TKey, TValue>` of the runtime library."""
    return lib("containers", "KeyValuePair")(key, value)


def _multi_get(d: dict[str, list[str]], name: str, default: Any = None) -> Any:
    values = d.get(name)
    return ",".join(values) if values is not None else default


def _dict_index(d: dict[str, Any], name: Any) -> Any:
    try:
        return d[name]
    except KeyError:
        raise KeyNotFoundException(f"The given key '{name}' was not present in the dictionary.") from None
    except TypeError:
        raise NullReferenceException() from None


def _dict_try(d: dict[str, Any], name: Any) -> tuple[bool, Any]:
    return (True, d[name]) if name in d else (False, None)


def _pairs(d: Any) -> list[Any]:  # KeyValuePair values
    if isinstance(d, model.Headers):
        return [KeyValuePair(n, v) for n, v in d.items()]
    return [KeyValuePair(k, v) for k, v in d.items()]


_VALUE_TYPE_DEFAULTS = {"int": 0, "long": 0, "short": 0, "byte": 0, "double": 0.0, "float": 0.0, "bool": False,
                        "decimal": Decimal(0), "uint": 0, "ulong": 0}


def variables_get(variables: dict[str, Any], type_arg: Any, name: str, *default: Any) -> Any:
    """`GetValueOrDefault<T>(name[, default])`: the value cast to T, or the default."""
    if name not in variables:
        if default:
            return default[0]
        return _VALUE_TYPE_DEFAULTS.get(str(type_arg)) if type_arg is not None else None
    value = variables[name]
    if type_arg is None or value is None:
        return value
    return cast_value(value, str(type_arg))


def _type_of_arg(type_args: tuple[Any, ...]) -> CsType:
    return resolve_type_name(type_args[0]) if type_args else DYNAMIC


def _dictionary_type(name: str, value: CsType, getter: Callable[..., Any], element: CsType) -> CsType:
    return declare(
        CsType(name, dict),
        method("GetValueOrDefault", getter, value if name != "IReadOnlyDictionary<string, string[]>" else STRING, 1, 2),
        method("ContainsKey", lambda d, k: k in d, BOOL, 1, 1, inline=_inline_contains),
        method("TryGetValue", _dict_try, BOOL, 2, 2, out_positions=(1,)),
        method("Item", _dict_index, value, 1, 1),
        Member("Count", "property", len, INT),
        Member("Keys", "property", lambda d: list(d.keys()), STRING_ARRAY),
        Member("Values", "property", lambda d: list(d.values()), DYNAMIC),
        closed=False,
    )


def _inline_get(target: str, args: list[str]) -> str:
    return f"{target}.get({', '.join(args)})"


def _inline_contains(target: str, args: list[str]) -> str:
    return f"({args[0]} in {target})"


HEADERS = declare(
    CsType("IReadOnlyDictionary<string, string[]>", model.Headers),
    method("GetValueOrDefault", _headers_get, STRING, 1, 2, inline=_inline_get),
    method("ContainsKey", lambda h, k: k in h, BOOL, 1, 1, inline=_inline_contains),
    method("TryGetValue", _headers_try, BOOL, 2, 2, out_positions=(1,)),
    method("Item", _headers_index, STRING_ARRAY, 1, 1),
    Member("Count", "property", len, INT),
    Member("Keys", "property", lambda h: h.names(), STRING_ARRAY),
    Member("Values", "property", lambda h: [h.get_list(n) for n in h.names()], DYNAMIC),
    closed=False,
)
HEADERS.element = CsType("KeyValuePair<string, string[]>")
QUERY = _dictionary_type("IReadOnlyDictionary<string, string[]>", STRING_ARRAY, _multi_get, DYNAMIC)
QUERY.members["GetValueOrDefault"] = method("GetValueOrDefault", _multi_get, STRING, 1, 2)
MATCHED = _dictionary_type("IReadOnlyDictionary<string, string>", STRING,
                           lambda d, k, default=None: d.get(k, default), DYNAMIC)
MATCHED.members["GetValueOrDefault"].inline = _inline_get
VARIABLES = _dictionary_type("IReadOnlyDictionary<string, object>", DYNAMIC, variables_get, DYNAMIC)
VARIABLES.members["GetValueOrDefault"] = method(
    "GetValueOrDefault", variables_get, _type_of_arg, 1, 2, generic=True
)

# ---------------------------------------------------------------- message bodies


def _body_bytes(body: model.MessageBody) -> bytes:
    return b"" if body.consumed else body.content


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def _parsed(body: model.MessageBody, kind: str, parse: Callable[[str], Any]) -> Any:
    """Parse the body once per content: repeated `As<JObject>(preserveContent: true)` reuse it."""
    content = _body_bytes(body)
    cache = getattr(body, "parsed", None)
    if cache is not None and cache[0] is content and cache[1] == kind:
        return cache[2]
    value = parse(_decode(content))
    try:
        body.parsed = (content, kind, value)
    except AttributeError:
        pass
    return value


_BODY_PARSERS = {
    "JObject": ("newtonsoft", "JObject"), "JToken": ("newtonsoft", "JToken"), "JArray": ("newtonsoft", "JArray"),
    "XElement": ("xlinq", "XElement"), "XDocument": ("xlinq", "XDocument"), "XNode": ("xlinq", "XElement"),
}


def body_as(body: model.MessageBody | None, type_arg: Any, preserveContent: bool = False) -> Any:  # noqa: N803
    """`IMessageBody.As<T>(preserveContent)` for T in string, byte[], JObject, JToken, JArray, X*."""
    if body is None:
        raise NullReferenceException()
    t = str(type_arg).replace(" ", "")
    try:
        if t in ("string", "String", "System.String"):
            return _decode(_body_bytes(body))
        if t in ("byte[]", "Byte[]"):
            return bytes(_body_bytes(body))
        if t in _BODY_PARSERS:
            cls = lib(*_BODY_PARSERS[t])
            if cls is None:
                raise InvalidCastException(f"As<{t}> is not available")
            return _parsed(body, t, cls.Parse)
        raise InvalidCastException(f"IMessageBody.As<{t}>() is not supported")
    finally:
        if not preserveContent:
            body.consumed = True


def body_form(body: model.MessageBody | None, preserveContent: bool = False) -> Any:  # noqa: N803
    from urllib.parse import parse_qsl

    if body is None:
        raise NullReferenceException()
    data: dict[str, list[str]] = {}
    for k, v in parse_qsl(_decode(_body_bytes(body)), keep_blank_values=True):
        data.setdefault(k, []).append(v)
    if not preserveContent:
        body.consumed = True
    return data


def _body_result(type_args: tuple[Any, ...]) -> CsType:
    return resolve_type_name(type_args[0]) if type_args else DYNAMIC


BODY = declare(
    CsType("IMessageBody", model.MessageBody),
    method("As", body_as, _body_result, 0, 1, generic=True),
    method("AsFormUrlEncodedContent", body_form, DYNAMIC, 0, 1),
)

# ---------------------------------------------------------------- the context object graph


def _as_datetime(value: Any) -> Any:
    """A Python aware datetime of the context model -> DOTNET's `DateTime` (UTC kind)."""
    cls = lib("datetimes", "DateTime")
    if value is None or cls is None:
        return value
    from datetime import UTC, datetime

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1, 1, 1, tzinfo=UTC)
    ticks = (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
    return cls(ticks, lib("datetimes", "DateTimeKind").Utc)


def _as_timespan(value: Any) -> Any:
    cls = lib("timespan", "TimeSpan")
    if cls is None:
        return value
    return cls(int(value.total_seconds() * 10_000_000))


def _as_guid(value: Any) -> Any:
    cls = lib("guid", "Guid")
    if cls is None:
        return str(value)
    return cls(str(value))


def _library_result(module: str, name: str) -> Callable[[tuple[Any, ...]], CsType]:
    """A lazy result type: the CsType of library class `module.name` (DYNAMIC while missing)."""

    def result(_type_args: tuple[Any, ...]) -> CsType:
        cls = lib(module, name)
        return library_type(cls) if isinstance(cls, type) else DYNAMIC

    return result


DATETIME_RESULT = _library_result("datetimes", "DateTime")


def _url_to_uri(url: model.Url) -> Any:
    uri = lib("uri", "Uri")
    return uri(str(url)) if uri is not None else str(url)


URL = declare(
    CsType("IUrl", model.Url),
    prop("Scheme", "scheme", STRING), prop("Host", "host", STRING), prop("Port", "port", INT),
    prop("Path", "path", STRING), prop("Query", "query", QUERY), prop("QueryString", "query_string", STRING),
    method("ToString", str, STRING, 0, 0), method("ToUri", _url_to_uri, DYNAMIC, 0, 0),
)
REQUEST = declare(
    CsType("IRequest", model.Request),
    prop("Method", "method", STRING), prop("Url", "url", URL), prop("OriginalUrl", "original_url", URL),
    prop("Headers", "headers", HEADERS), prop("Body", "body", BODY), prop("IpAddress", "ip_address", STRING),
    prop("MatchedParameters", "matched_parameters", MATCHED),
    Member("Certificate", "property", lambda r: None, DYNAMIC),
)
RESPONSE = declare(
    CsType("IResponse", model.Response),
    prop("StatusCode", "status_code", INT), prop("StatusReason", "status_reason", STRING),
    prop("Headers", "headers", HEADERS), prop("Body", "body", BODY),
)
GROUP = declare(CsType("IGroup", model.Group), prop("Id", "id", STRING), prop("Name", "name", STRING))
GROUPS = CsType("IEnumerable<IGroup>", list, element=GROUP)
API = declare(
    CsType("IApi", model.Api),
    prop("Id", "id", STRING), prop("Name", "name", STRING), prop("Path", "path", STRING),
    prop("Revision", "revision", STRING), prop("ServiceUrl", "service_url", URL), prop("Version", "version", STRING),
    prop("IsCurrentRevision", "is_current_revision", BOOL), prop("Protocols", "protocols", STRING_ARRAY),
)
OPERATION = declare(
    CsType("IOperation", model.Operation),
    prop("Id", "id", STRING), prop("Method", "method", STRING), prop("Name", "name", STRING),
    prop("UrlTemplate", "url_template", STRING),
)
PRODUCT = declare(
    CsType("IProduct", model.Product),
    prop("Id", "id", STRING), prop("Name", "name", STRING), prop("ApprovalRequired", "approval_required", BOOL),
    prop("SubscriptionRequired", "subscription_required", BOOL), prop("State", "state", STRING),
    prop("SubscriptionsLimit", "subscriptions_limit", INT), prop("SubscriptionLimit", "subscriptions_limit", INT),
    prop("Groups", "groups", GROUPS),
)
SUBSCRIPTION = declare(
    CsType("ISubscription", model.Subscription),
    prop("Id", "id", STRING), prop("Key", "key", STRING), prop("Name", "name", STRING),
    prop("PrimaryKey", "primary_key", STRING), prop("SecondaryKey", "secondary_key", STRING),
    Member("CreatedDate", "property", lambda s: _as_datetime(s.created_date), DATETIME_RESULT),
    Member("StartDate", "property", lambda s: _as_datetime(s.start_date), DATETIME_RESULT),
    Member("EndDate", "property", lambda s: _as_datetime(s.end_date), DATETIME_RESULT),
)
USER = declare(
    CsType("IUser", model.User),
    prop("Id", "id", STRING), prop("Email", "email", STRING), prop("FirstName", "first_name", STRING),
    prop("LastName", "last_name", STRING), prop("Note", "note", STRING), prop("Groups", "groups", GROUPS),
    Member("Identities", "property", lambda u: [], DYNAMIC),
    Member("RegistrationDate", "property", lambda u: _as_datetime(u.registration_date), DATETIME_RESULT),
)
LAST_ERROR = declare(
    CsType("ILastError", model.LastError),
    prop("Source", "source", STRING), prop("Reason", "reason", STRING), prop("Message", "message", STRING),
    prop("Scope", "scope", STRING), prop("Section", "section", STRING), prop("Path", "path", STRING),
    prop("PolicyId", "policy_id", STRING),
)
GATEWAY = declare(
    CsType("IGateway", model.Gateway),
    prop("Id", "id", STRING), prop("InstanceId", "instance_id", STRING), prop("IsManaged", "is_managed", BOOL),
)
DEPLOYMENT = declare(
    CsType("IDeployment", model.Deployment),
    prop("GatewayId", "gateway_id", STRING), prop("Region", "region", STRING),
    prop("ServiceName", "service_name", STRING), prop("ServiceId", "service_id", STRING),
    prop("Gateway", "gateway", GATEWAY),
)
AUTHORIZATION = declare(
    CsType("Authorization", model.Authorization),
    prop("AccessToken", "access_token", STRING), prop("Claims", "claims", VARIABLES),
)


def _trace(ctx: model.Context, message: Any) -> None:
    ctx.trace(to_string(message))


CONTEXT = declare(
    CsType("IContext", model.Context),
    prop("Request", "request", REQUEST), prop("Response", "response", RESPONSE),
    prop("Variables", "variables", VARIABLES), prop("Api", "api", API), prop("Operation", "operation", OPERATION),
    prop("Product", "product", PRODUCT), prop("Subscription", "subscription", SUBSCRIPTION),
    prop("User", "user", USER), prop("LastError", "last_error", LAST_ERROR),
    prop("Deployment", "deployment", DEPLOYMENT), prop("Tracing", "tracing", BOOL),
    Member("RequestId", "property", lambda c: _as_guid(c.request_id), _library_result("guid", "Guid")),
    Member("Timestamp", "property", lambda c: _as_datetime(c.timestamp), DATETIME_RESULT),
    Member("Elapsed", "property", lambda c: _as_timespan(_elapsed(c)), _library_result("timespan", "TimeSpan")),
    method("Trace", _trace, VOID, 1, 1),
)


def _elapsed(ctx: model.Context) -> Any:
    from datetime import timedelta

    return timedelta(seconds=ctx.elapsed_seconds)


MODEL_TYPES: dict[type, CsType] = {
    t.pyclass: t  # type: ignore[misc]
    for t in (CONTEXT, REQUEST, RESPONSE, URL, HEADERS, BODY, API, OPERATION, PRODUCT, SUBSCRIPTION, USER,
              LAST_ERROR, DEPLOYMENT, GROUP)
}
INTERFACES = {"IResponse": RESPONSE, "IRequest": RESPONSE if False else REQUEST, "IUrl": URL,
              "IMessageBody": BODY, "IContext": CONTEXT, "Authorization": AUTHORIZATION}

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
NAMESPACES = ("System.", "System.Text.", "System.Linq.", "System.Security.Cryptography.", "Newtonsoft.Json.Linq.",
              "Newtonsoft.Json.", "System.Text.RegularExpressions.", "System.Xml.Linq.", "System.Net.",
              "System.Collections.Generic.", "System.Globalization.", "System.IO.", "System.Web.")


def strip_namespace(name: str) -> str:
    for ns in sorted(NAMESPACES, key=len, reverse=True):
        if name.startswith(ns) and "." not in name[len(ns):]:
            return name[len(ns):]
    return name


def static_type(name: str) -> Any:
    """The object holding the statics of a C# type (a class of engine.dotnet), or None."""
    short = strip_namespace(name)
    spec = _STATICS.get(short)
    found = lib(*spec) if spec is not None else None
    if found is None and CS_IDENT.match(short):
        found = lib("registry", "runtime_class")(short)
    return found


def known_type_names() -> list[str]:
    return sorted(set(_STATICS) | set(INTERFACES) | set(PRIMITIVES))


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
    short = strip_namespace(text)
    if short in INTERFACES:
        return INTERFACES[short]
    cls = static_type(short)
    if isinstance(cls, type):
        return library_type(cls)
    return DYNAMIC


_LIBRARY_TYPES: dict[type, CsType] = {}
_NULLABLE: dict[str, CsType] = {}
_VALUE_TYPE_NAMES = frozenset({"DateTime", "TimeSpan", "DateTimeOffset", "Guid", "KeyValuePair"})


def is_value_type(t: CsType) -> bool:
    pyclass = t.pyclass if isinstance(t.pyclass, type) else None
    return (t.numeric or t is BOOL or t is CHAR or t.name in _VALUE_TYPE_NAMES
            or pyclass is not None and issubclass(pyclass, enum.Enum))


class _NoValue:
    """A null `T?` as the target of `Value`/`HasValue`/`GetValueOrDefault`, which work on null."""


NO_VALUE = _NoValue()
NULLABLE_MEMBERS = frozenset({"Value", "HasValue", "GetValueOrDefault"})


def _nullable_value(value: Any) -> Any:
    if value is None or value is NO_VALUE:
        raise InvalidOperationException("Nullable object must have a value.")
    return value


def zero_value(t: CsType) -> Any:
    """`default(T)` of a numeric, bool or enum type (None for the others)."""
    if t.kind is not None and t is not CHAR:
        return t.kind.box(t.kind.cls(0))
    if isinstance(t.pyclass, type) and issubclass(t.pyclass, enum.IntEnum | enum.IntFlag):
        from engine.dotnet.primitives import enum_value

        return enum_value(t.pyclass, 0)
    return False if t is BOOL else None


def nullable_type(inner: CsType) -> CsType:
    """`T?` / `Nullable<T>` of a value type `T`: the value itself or `null` at run time, with
    `Value`, `HasValue` and `GetValueOrDefault`; `x?.Member` reaches `T`'s members."""
    found = _NULLABLE.get(inner.name)
    if found is None:
        zero = zero_value(inner)
        found = _NULLABLE[inner.name] = CsType(inner.name + "?", inner.pyclass, members=dict(inner.members),
                                               element=inner.element)
        declare(found,
                Member("Value", "property", _nullable_value, inner),
                Member("HasValue", "property", lambda v: v is not None and v is not NO_VALUE, BOOL),
                method("GetValueOrDefault", lambda v, *d: v if v is not NO_VALUE else (d[0] if d else zero),
                       inner, 0, 1),
                closed=inner.closed)
    return found




def library_type(cls: type) -> CsType:
    """A CsType for a runtime class of engine.dotnet: members by introspection (open set)."""
    found = _LIBRARY_TYPES.get(cls)
    if found is None:
        found = _LIBRARY_TYPES[cls] = CsType(getattr(cls, "__name__", "object"), cls)
    return found


# ---------------------------------------------------------------- the dynamic gate

_INSTANCE_NAMESPACES: list[tuple[type | tuple[type, ...], tuple[str, str]]] = [
    (bool, ("numbers", "BoolMembers")),
    (enum.Enum, ("enums", "EnumMembers")),  # before int: IntEnum values are ints
    (str, ("strings", "StringMembers")),
    ((int, float, Decimal), ("numbers", "NumberMembers")),
    ((bytes, bytearray), ("containers", "BytesMembers")),
    (list, ("containers", "ListMembers")),
    (tuple, ("containers", "ArrayMembers")),
    (dict, ("containers", "DictionaryMembers")),
    ((set, frozenset), ("containers", "SetMembers")),
]


def _namespace_for(cls: type) -> Any:
    for py, (module, name) in _INSTANCE_NAMESPACES:
        if issubclass(cls, py):
            return lib(module, name)
    return None


def namespace_function(cls: type, name: str, *, array: bool = False) -> Any:
    """The library function for member `name` of a built-in-represented value, or None.

    Lists stand for both `T[]` and `List<T>`: both member sets are searched (arrays first when the
    static type is an array, so `Length` and `Count` both work).
    """
    spaces = [_namespace_for(cls)]
    if issubclass(cls, list):
        arrays = lib("containers", "ArrayMembers")
        spaces = [arrays, spaces[0]] if array else [spaces[0], arrays]
    for space in spaces:
        fn = getattr(space, name, None) if space is not None and CS_IDENT.match(name) else None
        if fn is not None and callable(fn):
            return fn
    return None


def namespace_names(cls: type) -> list[str]:
    names: set[str] = set()
    for space in (_namespace_for(cls), lib("containers", "ArrayMembers") if issubclass(cls, list) else None):
        if space is not None:
            names.update(n for n in dir(space) if CS_IDENT.match(n))
    return sorted(names)


def _defined_by_library(cls: type, name: str) -> Any:
    """The class attribute `name` if a class of engine (not Python itself) defines it."""
    for klass in cls.__mro__:
        if name in vars(klass):
            module = getattr(klass, "__module__", "") or ""
            return vars(klass)[name] if module.startswith("engine.") else None
    return None


def returns_void(cls: type, name: str) -> bool:
    """True when the library method `name` of `cls` is declared `-> None` (a C# `void` method)."""
    attr = _defined_by_library(cls, name)
    function = getattr(attr, "__func__", attr)
    return callable(function) and getattr(function, "__annotations__", {}).get("return") in ("None", None.__class__)


def has_library_member(cls: type, name: str) -> bool:
    """True when values of library class `cls` have member `name` (enums: also `EnumMembers`)."""
    if _defined_by_library(cls, name) is not None:
        return True
    return issubclass(cls, enum.Enum) and _cs_name(name) and hasattr(lib("enums", "EnumMembers"), name)


def _cs_name(name: str) -> bool:
    return bool(CS_IDENT.match(name)) and name not in FORBIDDEN


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
            attr = _defined_by_library(cls, name)
            if attr is not None:
                getter = attrgetter(name) if not callable(attr) or isinstance(attr, property) else None
                if isinstance(attr, property | _static_property_type()):
                    getter = attrgetter(name)
                function = _method_in_mro(cls, name)
                result = Resolved(getter, _bound_method(name) if function is not None and getter is None else
                                  _unbound(function) if function is not None else None)
            else:
                fn = namespace_function(cls, name)
                if fn is not None:
                    is_prop = name in _NAMESPACE_PROPERTIES
                    result = Resolved(fn, None) if is_prop else Resolved(None, fn)
    _GATE[key] = result
    return result


_NAMESPACE_PROPERTIES = frozenset({"Length", "Count", "Keys", "Values", "Key", "Value", "Chars", "Rank", "LongLength",
                                   "Capacity"})


def _static_property_type() -> type:
    from engine.dotnet.primitives import static_property

    return static_property


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
        if obj.__class__ is model.Headers and name != "GetValueOrDefault":
            obj = _pairs(obj)
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


# ---------------------------------------------------------------- extension methods

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


def cast_value(value: Any, type_name: str) -> Any:
    """Explicit cast `(T)value`, including the context interfaces (`(IResponse)x`)."""
    short = strip_namespace(type_name.replace(" ", ""))
    iface = INTERFACES.get(short)
    if iface is not None:
        if value is None or isinstance(value, iface.pyclass):  # type: ignore[arg-type]
            return value
        from engine.dotnet.primitives import dotnet_type_name

        raise InvalidCastException(f"Unable to cast object of type '{dotnet_type_name(value)}' to type '{short}'.")
    from engine.dotnet.conversions import cast

    return cast(value, short)


def unbox_value(value: Any, type_name: str) -> Any:
    """`(T)obj` where `obj` is statically `object` (`(int)context.Variables["n"]`): C# unboxing.

    A boxed number unboxes only to its own CLR type (`(long)(object)5` throws
    InvalidCastException, as in C#); `(T?)` of null is null; other casts are conversions.
    """
    kind = clrnumeric.kind_of(value)
    if kind is not None:
        from engine.dotnet.primitives import dotnet_type_name, type_ref

        target = type_ref(type_name.replace(" ", "").rstrip("?")).name
        wanted = clrnumeric.KINDS.get(target)
        if wanted is not None and wanted is not kind:
            raise InvalidCastException(
                f"Unable to cast object of type '{dotnet_type_name(value)}' to type '{target}'.")
        if wanted is not None:
            return value
    return cast_value(value, type_name)


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
