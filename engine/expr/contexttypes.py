"""The `context` surface: the APIM object model (§2.5 of the spec) declared member by member.

Each `CsType` here maps C# members onto the Python objects of `engine.context` (closed sets:
anything not declared is an error). Also the casts to the context interfaces (`(IResponse)x`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine import context as model
from engine.dotnet import clrnumeric
from engine.dotnet.conversions import to_string
from engine.dotnet.errors import InvalidCastException, KeyNotFoundException, NullReferenceException
from engine.expr.cstypes import (
    BOOL,
    DYNAMIC,
    INT,
    STRING,
    STRING_ARRAY,
    VOID,
    CsType,
    Member,
    declare,
    library_type,
    method,
    prop,
)
from engine.expr.library import lib, strip_namespace

# ---------------------------------------------------------------- dictionaries of the context


def _headers_get(h: model.Headers, name: str, default: Any = None) -> Any:
    return h.get(name, default)


def headers_index(h: model.Headers, name: str) -> list[str]:
    if name not in h:
        raise KeyNotFoundException(f"The given key '{name}' was not present in the dictionary.")
    return h.get_list(name)


def _headers_try(h: model.Headers, name: str) -> tuple[bool, list[str] | None]:
    return (True, h.get_list(name)) if name in h else (False, None)


def KeyValuePair(key: Any, value: Any) -> Any:  # noqa: N802 - constructs the C# type
    """`KeyValuePair<TKey, TValue>` of the runtime library."""
    return lib("collectioncore", "KeyValuePair")(key, value)


def _multi_get(d: dict[str, list[str]], name: str, default: Any = None) -> Any:
    values = d.get(name)
    return ",".join(values) if values is not None else default


def dict_index(d: dict[str, Any], name: Any) -> Any:
    try:
        return d[name]
    except KeyError:
        raise KeyNotFoundException(f"The given key '{name}' was not present in the dictionary.") from None
    except TypeError:
        raise NullReferenceException() from None


def _dict_try(d: dict[str, Any], name: Any) -> tuple[bool, Any]:
    return (True, d[name]) if name in d else (False, None)


def pairs(d: Any) -> list[Any]:  # KeyValuePair values
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


def _type_argument(type_args: tuple[CsType, ...]) -> CsType:
    """The result type of `As<T>()` / `GetValueOrDefault<T>(...)`: T (the caller resolves it)."""
    return type_args[0] if type_args else DYNAMIC


def _dictionary_type(name: str, value: CsType, getter: Callable[..., Any], element: CsType) -> CsType:
    return declare(
        CsType(name, dict),
        method("GetValueOrDefault", getter, value if name != "IReadOnlyDictionary<string, string[]>" else STRING, 1, 2),
        method("ContainsKey", lambda d, k: k in d, BOOL, 1, 1, inline=_inline_contains),
        method("TryGetValue", _dict_try, BOOL, 2, 2, out_positions=(1,)),
        method("Item", dict_index, value, 1, 1),
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
    method("Item", headers_index, STRING_ARRAY, 1, 1),
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
    "GetValueOrDefault", variables_get, _type_argument, 1, 2, generic=True
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


BODY = declare(
    CsType("IMessageBody", model.MessageBody),
    method("As", body_as, _type_argument, 0, 1, generic=True),
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
    return cls(value)  # Guid takes the uuid.UUID as it is (no text round trip)


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
    Member("Certificate", "property", lambda r: r.certificate, _library_result("x509", "X509Certificate2")),
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



def _json_token(value: Any) -> Any:
    """A resolver's JSON-like value (parent object, arguments) as a Newtonsoft JToken."""
    return lib("newtonsoft", "from_parsed")(value)


JOBJECT_RESULT = _library_result("newtonsoft", "JObject")
GRAPHQL = declare(
    CsType("IGraphQL", model.GraphQL),
    Member("Parent", "property", lambda g: _json_token(g.parent), JOBJECT_RESULT),
    Member("Arguments", "property", lambda g: _json_token(g.arguments), JOBJECT_RESULT),
    Member("GraphQLArguments", "property", lambda g: _json_token(g.arguments), JOBJECT_RESULT),
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
    prop("GraphQL", "graphql", GRAPHQL),
    Member("RequestId", "property", lambda c: _as_guid(c.request_id), _library_result("guid", "Guid")),
    Member("Timestamp", "property", lambda c: _as_datetime(c.timestamp), DATETIME_RESULT),
    Member("Elapsed", "property", lambda c: _as_timespan(_elapsed(c)), _library_result("timespan", "TimeSpan")),
    method("Trace", _trace, VOID, 1, 1),
)


def _elapsed(ctx: model.Context) -> Any:
    from datetime import timedelta

    return timedelta(seconds=ctx.elapsed_seconds)


MODEL_TYPES: dict[type, CsType] = {
    t.pyclass: t
    for t in (CONTEXT, REQUEST, RESPONSE, URL, HEADERS, BODY, API, OPERATION, PRODUCT, SUBSCRIPTION, USER,
              LAST_ERROR, DEPLOYMENT, GROUP)
    if isinstance(t.pyclass, type)
}
INTERFACES = {"IResponse": RESPONSE, "IRequest": RESPONSE if False else REQUEST, "IUrl": URL,
              "IMessageBody": BODY, "IContext": CONTEXT, "Authorization": AUTHORIZATION}


def cast_value(value: Any, type_name: str) -> Any:
    """Explicit cast `(T)value`, including the context interfaces (`(IResponse)x`)."""
    short = strip_namespace(type_name.replace(" ", ""))
    iface = INTERFACES.get(short)
    if iface is not None and iface.pyclass is not None:
        if value is None or isinstance(value, iface.pyclass):
            return value
        from engine.dotnet.primitives import dotnet_type_name

        raise InvalidCastException(f"Unable to cast object of type '{dotnet_type_name(value)}' to type '{short}'.")
    from engine.dotnet.conversions import cast

    return cast(value, short)


def token_value(value: Any, type_name: str) -> Any:
    """`(T)token` where `token` is statically a JToken: Newtonsoft's explicit operators, which throw
    ArgumentNullException for a null token and a value type `T` (`(int)o["missing"]`)."""
    if value is None and not type_name.endswith("?"):
        from engine.dotnet.errors import ArgumentNullException

        raise ArgumentNullException("value")
    return cast_value(value, type_name)


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
