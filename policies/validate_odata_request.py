"""`<validate-odata-request>`: check a request to an OData API: protocol version headers, body size and
the URL's system query options."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.apispec.odata_url import OPTIONS, syntax_problem
from engine.policy import Builder, Flow, Policy, Step, constant_value
from engine.schema import Attr, AttrType, Int, Scope, Section, Str
from policies._body import read_body
from policies._validation import Finding, Outcome, errors_variable

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "validate-odata-request"
DEFAULT_VERSION = "4.0"
_VERSION = re.compile(r"(\d{1,3})\.(\d{1,3})")
# system query options by the first version defining them (v2/v3 services send DataServiceVersion headers,
# but `default-odata-version` may name them: their options are the ones before `$count` replaced `$inlinecount`)
_OPTIONS_V3 = frozenset({"filter", "select", "expand", "orderby", "top", "skip", "inlinecount", "format", "skiptoken"})
_OPTIONS_V40 = frozenset({"filter", "select", "expand", "orderby", "top", "skip", "count", "search", "format",
                          "skiptoken", "deltatoken", "apply", "id"})
_OPTIONS_V401 = _OPTIONS_V40 | {"compute", "index", "schemaversion"}
_STRUCTURED = frozenset({"filter", "select", "expand", "orderby", "apply", "compute", "search"})
_GRAMMAR = frozenset(OPTIONS)  # parsed by the ABNF (4.0 and later); the others' structure only
_LISTS = frozenset({"select", "expand", "orderby"})  # comma-separated items, none empty
# (version, max version) header names: OData 4, then OData 2 and 3 (a request with OData-Version is OData 4)
_VERSION_HEADERS = (("OData-Version", "OData-MaxVersion"), ("DataServiceVersion", "MaxDataServiceVersion"))
_LEGACY_HEADERS = frozenset(_VERSION_HEADERS[1])
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+*-]+(\s*;.*)?")


def parse_version(text: str) -> tuple[int, int] | None:
    """`4.01` -> (4, 1); None when `text` is not `major.minor`."""
    match = _VERSION.fullmatch(text.strip())
    return (int(match[1]), int(match[2])) if match else None


def version_text(version: tuple[int, int]) -> str:
    """(4, 1) -> `4.01`, (4, 0) -> `4.0`."""
    return f"{version[0]}.{version[1]:02d}" if version[1] else f"{version[0]}.0"


class _Version(AttrType):
    label = "OData version"

    def parse(self, text: str) -> object:
        if parse_version(text) is None:
            raise ValueError(f"'{text}' is not an OData version such as 4.0 or 4.01")
        return text.strip()


@dataclass(frozen=True)
class _Limits:
    default: str
    min: str | None
    max: str | None

    def problem(self, version: tuple[int, int], text: str) -> str | None:
        """Why OData-Version `text` is outside the accepted range (None when inside)."""
        low = parse_version(self.min) if self.min else None
        high = parse_version(self.max) if self.max else None
        if (low is not None and version < low) or (high is not None and version > high):
            return f"OData version {text} is not supported; {self.accepted()}."
        return None

    def accepted(self) -> str:
        if self.min and self.max:
            return f"the API accepts versions {self.min} to {self.max}"
        return f"the API accepts versions from {self.min}" if self.min else f"the API accepts versions up to {self.max}"


class ValidateOdataRequest(Policy):
    """Check a request to an OData API; every problem is refused with 400 (as validation policies refuse a
    request with `prevent`), recorded in `error-variable-name` and in context.LastError (`Bad request`).

    - `OData-Version` must be a version (`4.0`, `4.01`) from `min-odata-version` to `max-odata-version`;
      `OData-MaxVersion` must be a version not below `min-odata-version` (else no version the API
      accepts is one the client can read). Without `OData-Version`, OData 2 and 3's
      `DataServiceVersion` and `MaxDataServiceVersion` (`2.0;NetFx`) are checked the same way;
      without either, `default-odata-version` (4.0) is the request's version and the range is not
      checked.
    - The body, when `max-size` is given, must be at most that many bytes: a longer Content-Length
      is refused before any byte is read; otherwise the body (chunked too) is read and counted.
    - System query options (`$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip`, `$count`,
      `$search`, `$format`, `$skiptoken`, `$deltatoken`, `$apply`, `$id`; with 4.01 also `$compute`,
      `$index`, `$schemaversion`; below 4.0 `$inlinecount` instead of `$count` and `$search`) must
      be known names given at most once. With 4.0 names are case-sensitive; with 4.01 they are
      case-insensitive and the `$` is optional, as the 4.01 URL conventions say. `$top` and `$skip`
      must be non-negative integers, `$index` an integer, `$count` `true` or `false`, `$format`
      `json`, `xml`, `atom` or a media type; no option may be empty. With 4.0 and 4.01,
      `$filter`, `$orderby`, `$select`, `$expand`, `$compute` and `$search` must follow the OData
      URL conventions' ABNF (expressions, literals, paths, lambdas, nested expand options...);
      below 4.0, and for `$apply`, they must close their parentheses and quoted strings and
      `$select`, `$expand`, `$orderby` have no empty item. Other query parameters (custom
      options, `@` aliases) are not checked.

    Property names are not checked against the API's entity model (`$metadata`).
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.GLOBAL | Scope.WORKSPACE | Scope.PRODUCT | Scope.API
    once_per_section = True
    reads_body = False  # with max-size the request body is read when it runs (a too long Content-Length is not)
    attributes = (
        Attr("error-variable-name", Str(), expr=False, doc="Variable the error records are added to."),
        Attr("default-odata-version", _Version(), default=DEFAULT_VERSION, expr=False,
             doc="The version of a request without an OData-Version header."),
        Attr("min-odata-version", _Version(), expr=False, doc="Lowest OData-Version accepted."),
        Attr("max-odata-version", _Version(), expr=False, doc="Highest OData-Version accepted."),
        Attr("max-size", Int(min=0), doc="Largest request body accepted, in bytes."),
    )
    implemented = True

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        values = {name: element.get(name) for name in ("default-odata-version", "min-odata-version", "max-odata-version")}
        versions = {name: parse_version(v.text) for name, v in values.items() if v is not None}
        low, high = versions.get("min-odata-version"), versions.get("max-odata-version")
        if low is not None and high is not None and low > high:
            attribute = values["min-odata-version"]
            assert attribute is not None
            diagnostics.error("policy-bad-value", "min-odata-version is above max-odata-version", attribute.span)

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        limits = _Limits(
            default=str(constant_value(builder.value(element, "default-odata-version")) or DEFAULT_VERSION),
            min=constant_value(builder.value(element, "min-odata-version")),
            max=constant_value(builder.value(element, "max-odata-version")),
        )
        default = parse_version(limits.default) or (4, 0)
        max_size = builder.value(element, "max-size") if element.get("max-size") is not None else None
        variable = errors_variable(element, "error-variable-name")

        async def validate_odata_request(ctx: Context) -> Flow | None:
            outcome = Outcome(response_side=False)
            version = _check_versions(ctx, limits, outcome) or default
            limit = max_size.get(ctx) if max_size is not None else None
            if limit is not None:
                await _check_size(ctx, int(limit), outcome)
            for finding in query_problems(ctx.request.url.query, version):
                outcome.add(finding)
            return outcome.finish(ctx, element, variable, TAG)

        return validate_odata_request


def _header_finding(name: str, details: str) -> Finding:
    return Finding(name, "RequestHeader", "IncorrectMessage", details, "prevent")


def _check_versions(ctx: Context, limits: _Limits, outcome: Outcome) -> tuple[int, int] | None:
    """Check the version headers; the request's version (None: absent or unreadable). OData 4 sends
    OData-Version and OData-MaxVersion; OData 2 and 3 send DataServiceVersion and
    MaxDataServiceVersion (`2.0;NetFx`), which count when OData-Version is absent."""
    found: tuple[int, int] | None = None
    headers = ctx.request.headers
    legacy = "odata-version" not in headers and "dataserviceversion" in headers
    version, most = _VERSION_HEADERS[1] if legacy else _VERSION_HEADERS[0]
    sent = headers.get(version)
    if sent is not None:
        found = parse_version(_version_value(version, sent))
        if found is None:
            outcome.add(_header_finding(version, f"The value of the header {version} does not conform to the OData "
                                        f"specification: '{sent}' is not a version such as 4.0 or 4.01."))
        else:
            problem = limits.problem(found, _version_value(version, sent))
            if problem:
                outcome.add(_header_finding(version, problem))
    sent = headers.get(most)
    if sent is not None:
        readable = parse_version(_version_value(most, sent))
        low = parse_version(limits.min) if limits.min else None
        if readable is None:
            outcome.add(_header_finding(most, f"The value of the header {most} does not conform to the OData "
                                        f"specification: '{sent}' is not a version such as 4.0 or 4.01."))
        elif low is not None and readable < low:
            outcome.add(_header_finding(most, f"{most} {_version_value(most, sent)} is below the lowest version the "
                                        f"API accepts ({limits.min})."))
    return found


def _version_value(header: str, value: str) -> str:
    """The version in a version header: OData 2 and 3 headers may carry a client suffix (`3.0;NetFx`)."""
    return value.split(";", 1)[0].strip() if header in _LEGACY_HEADERS else value.strip()


async def _check_size(ctx: Context, limit: int, outcome: Outcome) -> None:
    declared = ctx.request.headers.get("content-length")
    size = int(declared) if declared is not None and declared.strip().isdigit() else None
    if size is None or size <= limit:  # a declared length within the limit is what arrives (the server checks it)
        body = await read_body(ctx, ctx.request)
        size = len(body) if body is not None else 0
    if size > limit:
        details = f"Body of the request is {size} bytes long and it exceeds the configured limit of {limit} bytes."
        outcome.add(Finding("", "RequestBody", "SizeLimit", details, "prevent",
                            f"Request's body is {size} bytes long and it exceeds the limit of {limit} bytes."))


def query_problems(query: dict[str, list[str]], version: tuple[int, int]) -> list[Finding]:
    """The system query options of `query` (name -> values, decoded) that break the OData URL
    conventions of `version`."""
    known = _OPTIONS_V3 if version < (4, 0) else _OPTIONS_V40 if version < (4, 1) else _OPTIONS_V401
    relaxed = version >= (4, 1)  # 4.01: case-insensitive names, `$` optional
    problems: list[Finding] = []
    seen: dict[str, str] = {}
    for name, values in query.items():
        option = _option_of(name, known, relaxed)
        if option is None:
            if name.startswith("$"):
                problems.append(Finding(name, "QueryParameter", "Unspecified",
                                        f"Unknown system query option {name} is not allowed "
                                        f"(OData {version_text(version)}).", "prevent"))
            continue
        if option in seen or len(values) > 1:
            first = seen.get(option, name)
            problems.append(Finding(name, "QueryParameter", "IncorrectMessage",
                                    f"Request cannot contain multiple values for the system query option {first}.",
                                    "prevent"))
            continue
        seen[option] = name
        reason = _value_problem(option, values[0], version)
        if reason:
            problems.append(Finding(name, "QueryParameter", "IncorrectMessage",
                                    f"The value of the system query option {name} does not conform to the OData "
                                    f"specification: {reason}.", "prevent"))
    return problems


def _option_of(name: str, known: frozenset[str], relaxed: bool) -> str | None:
    """The system query option a parameter name is (None: a custom option or an unknown `$name`)."""
    if relaxed:
        bare = name.lower().removeprefix("$")
        return bare if bare in known else None
    return name[1:] if name.startswith("$") and name[1:] in known else None


def _value_problem(option: str, value: str, version: tuple[int, int]) -> str | None:
    """Why `value` cannot be the value of system query option `option` (None when it can)."""
    text = value.strip()
    if not text:
        return "the value is empty"
    if option in ("top", "skip") and not text.isdigit():
        return f"'{value}' is not a non-negative integer"
    if option == "index" and not text.lstrip("-").isdigit():
        return f"'{value}' is not an integer"
    if option == "count" and (text.lower() if version >= (4, 1) else text) not in ("true", "false"):
        return f"'{value}' is not true or false"
    if option == "inlinecount" and text not in ("allpages", "none"):
        return f"'{value}' is not allpages or none"
    if option == "format" and text.lower() not in ("json", "xml", "atom") and not _MEDIA_TYPE.fullmatch(text):
        return f"'{value}' is not json, xml, atom or a media type"
    if option in _GRAMMAR and version >= (4, 0):
        return syntax_problem(option, text)
    if option in _STRUCTURED:
        return _structure_problem(text, option)
    return None


def _structure_problem(text: str, option: str) -> str | None:
    """Unbalanced parentheses, an unclosed string or (for lists) an empty item, outside string literals."""
    depth = 0
    quote = ""
    item_empty = True
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote and text[index + 1:index + 2] == quote:  # '' (or "") inside a literal
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"" and (char == "'" or option == "search"):
            quote, item_empty = char, False
        elif char == "(":
            depth, item_empty = depth + 1, False
        elif char == ")":
            depth -= 1
            if depth < 0:
                return f"a ')' at position {index + 1} closes no '('"
        elif char == "," and depth == 0 and option in _LISTS:
            if item_empty:
                return f"an empty item before position {index + 1}"
            item_empty = True
        elif not char.isspace():
            item_empty = False
        index += 1
    if quote:
        return "a quoted string is not closed"
    if depth:
        return f"{depth} '(' not closed"
    if option in _LISTS and item_empty:
        return "the last item is empty"
    return None
