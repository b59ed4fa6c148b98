"""`<validate-graphql-request>`: check a GraphQL request against the API's schema, its size and depth, and
authorize its fields (graphql-core; queries parsed and checked once per distinct text, engine/graphql/queries.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import REMOVE, Visitor, print_ast, visit
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    VariableDefinitionNode,
    VariableNode,
)

from engine.graphql.api import GRAPHQL_API
from engine.graphql.queries import DEFAULT_ROOTS, CheckedQuery, FieldUse, Queries, QueryProblem
from engine.graphql.request import document_error_status, graphql_response
from engine.policy import Builder, Flow, Policy, Value, at_start_of_outbound
from engine.schema import Attr, Child, Enum, Int, Scope, Section, Str
from policies._body import media_type, read_body, replace_body

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "validate-graphql-request"
MAX_SIZE = 100 * 1024
MAX_FIELDS = 250  # APIM validates requests of at most 250 fields across all levels
ERRORS_VARIABLE = "GraphQLErrors"  # APIM: every validation error is also pushed onto this variable
_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
# `/__*` (introspection), `/field` (a root field), `/Type/field`, or a query path `/Query/users/email`
RULE_PATH = re.compile(rf"^/(?:__\*|{_NAME}(?:/{_NAME})*)$")
ACTIONS = ("allow", "remove", "reject", "ignore", "deny")  # deny = reject (APIM's own example uses it)
_SCHEMALESS = Queries(None)  # requests to APIs without a GraphQL schema: syntax and structure only


class RequestError(Exception):
    """The request fails as a whole: an errors block and no data (APIM's "request error")."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [{"message": message}]


@dataclass(frozen=True)
class Rule:
    segments: tuple[str, ...]  # ("__*",), ("field",), ("Type", "field") or a query path ("Query", "users", "email")
    action: Value

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)

    @property
    def specificity(self) -> int:
        """Longer paths are more specific; `/__*` is the least specific."""
        return 0 if self.segments == ("__*",) else len(self.segments)

    def matches(self, use: FieldUse) -> bool | None:
        """Whether the rule applies to the field (None: it cannot tell, the API has no schema)."""
        segments = self.segments
        if segments == ("__*",):
            return use.name.startswith("__")
        if use.name != segments[-1]:
            return False
        if len(segments) == 1:
            return use.depth == 1
        if len(segments) == 2 and (use.type_name or use.depth == 1):
            return use.type_name == segments[0]
        if len(segments) == 2:  # a nested field of unknown type: only a schema tells if it is a segments[0]
            return None if segments[0] not in DEFAULT_ROOTS.values() else False
        return use.path == segments


def graphql_query(ctx: Context, content: bytes | None) -> tuple[str, bool]:
    """The GraphQL document of the request and whether it came in a JSON body (raises RequestError)."""
    if ctx.request.method == "GET":
        values = ctx.request.url.query.get("query")
        if not values:
            raise RequestError("The request has no 'query' parameter.")
        return values[0], False
    text = (content or b"").decode("utf-8", "replace")
    if media_type(ctx.request.headers) == "application/graphql":
        return text, False
    try:
        payload = json.loads(text)
    except ValueError:
        raise RequestError("The request body is not a JSON GraphQL request.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise RequestError("The request body has no 'query' string.")
    return payload["query"], True


@dataclass(frozen=True)
class ValidateGraphqlRequestStep:
    max_size: Value
    max_depth: Value
    error_variable: Value
    rules: tuple[Rule, ...]  # most specific first, document order among equals

    async def __call__(self, ctx: Context) -> Flow | None:
        content = await read_body(ctx, ctx.request)
        messages: list[str] = []
        try:
            size = len(content or b"") if ctx.request.method != "GET" else len(ctx.request.url.query_string)
            if size > int(self.max_size.get(ctx)):
                raise RequestError(f"The request is larger than {int(self.max_size.get(ctx))} bytes.")
            query, in_json = graphql_query(ctx, content)
            api = GRAPHQL_API.get(ctx)
            checked = (api.queries if api is not None else _SCHEMALESS).get(query)
            if checked.document is None or checked.errors:
                raise RequestError("The query is not valid", [_public(e) for e in checked.errors])
            removals: list[FieldUse] = []
            removed = self._check(ctx, checked, messages, removals)
            rewritten = _without(checked.document, removed) if removed else None
        except RequestError as exc:
            self._record(ctx, messages + [e["message"] for e in exc.errors])
            accept = ctx.request.headers.get("accept") or ""
            ctx.response = graphql_response(document_error_status(accept), {"errors": exc.errors}, accept)
            return Flow.END
        self._record(ctx, messages)
        if removals:  # the backend's answer reports the removed fields in its `errors`
            at_start_of_outbound(ctx, _RemovedFields(tuple(removals)).merge)
        if rewritten is not None:  # the query without the removed fields goes to the backend
            if in_json:
                payload = json.loads(content or b"{}")
                payload["query"] = rewritten
                replace_body(ctx.request, json.dumps(payload).encode())
            elif ctx.request.method == "GET":
                ctx.request.url.query["query"] = [rewritten]
            else:
                replace_body(ctx.request, rewritten.encode())
        return None

    def _check(self, ctx: Context, checked: CheckedQuery, messages: list[str], removals: list[FieldUse]) -> set[int]:
        """Depth, field count and rules: the ids of the field nodes to remove, listed in `removals` too
        (raises RequestError)."""
        fields = checked.fields
        if isinstance(fields, QueryProblem):
            raise RequestError(str(fields))
        assert checked.document is not None
        if not any(isinstance(d, OperationDefinitionNode) for d in checked.document.definitions):
            raise RequestError("The document has no operation.")
        if len(fields) > MAX_FIELDS:
            raise RequestError(f"The query has more than {MAX_FIELDS} fields.")
        max_depth = int(self.max_depth.get(ctx))
        deepest = max((use.depth for use in fields), default=0)
        if deepest > max_depth:
            raise RequestError(f"The query depth {deepest} exceeds the maximum depth {max_depth}.")
        removed: set[int] = set()
        for use in fields if self.rules else ():
            action = self._action(ctx, use)
            if action == "reject":
                raise RequestError(f"Access to '{_where(use)}' is not allowed.")
            if action == "remove" and id(use.node) not in removed:
                removed.add(id(use.node))
                removals.append(use)
                messages.append(_removed_message(use))
        return removed

    def _action(self, ctx: Context, use: FieldUse) -> str:
        """The action of the most specific rule that applies and is not `ignore` (no rule: allow)."""
        for rule in self.rules:
            applies = rule.matches(use)
            if applies is False:
                continue
            action = str(rule.action.get(ctx) or "allow").strip().lower()
            if action == "ignore" or (applies is None and action == "allow"):
                continue
            if applies is None:
                raise RequestError(f"Access to '{_where(use)}' cannot be checked against the rule '{rule.path}': "
                                   "the API has no GraphQL schema.")
            return "reject" if action == "deny" else action  # "deny": APIM's own example uses it
        return "allow"

    def _record(self, ctx: Context, messages: list[str]) -> None:
        if not messages:
            return
        name = str(self.error_variable.get(ctx) or "")
        for variable in {ERRORS_VARIABLE, name} - {""}:
            known = ctx.variables.get(variable)
            ctx.variables[variable] = (list(known) if isinstance(known, list) else []) + messages


def _where(use: FieldUse) -> str:
    return "/" + "/".join(use.path)


def _removed_message(use: FieldUse) -> str:
    return f"The field '{_where(use)}' was removed: access is not allowed."


@dataclass(frozen=True)
class _RemovedFields:
    """Field errors for the removed fields, added to the `errors` of the backend's GraphQL response."""

    uses: tuple[FieldUse, ...]

    async def merge(self, ctx: Context) -> None:
        try:
            payload = json.loads(await read_body(ctx, ctx.response) or b"")
        except (ValueError, UnicodeDecodeError):
            return  # not a GraphQL response: nothing to add to
        if not isinstance(payload, dict):
            return
        known = payload.get("errors")
        payload["errors"] = (known if isinstance(known, list) else []) + [
            {"message": _removed_message(use), "path": list(use.path[1:])} for use in self.uses]
        replace_body(ctx.response, json.dumps(payload).encode())


def _public(error: dict[str, Any]) -> dict[str, Any]:
    return {key: error[key] for key in ("message", "locations") if key in error}


class _Remover(Visitor):
    """Takes the given field nodes out; selections left empty go too (their field, fragment or spreads)."""

    def __init__(self, targets: set[int], gone_fragments: set[str]) -> None:
        super().__init__()
        self.targets = targets
        self.gone_fragments = gone_fragments

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        return REMOVE if id(node) in self.targets else None

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> Any:
        return REMOVE if node.name.value in self.gone_fragments else None

    def leave_field(self, node: FieldNode, *_: Any) -> Any:
        return REMOVE if node.selection_set is not None and not node.selection_set.selections else None

    def leave_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> Any:
        return REMOVE if not node.selection_set.selections else None

    def leave_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> Any:
        if node.selection_set.selections:
            return None
        self.gone_fragments.add(node.name.value)
        return REMOVE


def _without(document: DocumentNode, targets: set[int]) -> str:
    """The query text without the target fields (and the variables only they used); the cached document
    is not changed (graphql-core's visit copies what it edits)."""
    gone: set[str] = set()
    edited = visit(document, _Remover(targets, gone))
    while True:  # fragments emptied by the removal take their spreads with them, which may empty more
        before = len(gone)
        edited = visit(edited, _Remover(set(), gone))
        if len(gone) == before:
            break
    if any(isinstance(d, OperationDefinitionNode) and not d.selection_set.selections for d in edited.definitions):
        raise RequestError("No field of the query is allowed.")
    used = _used_variables(edited)
    edited = visit(edited, _UnusedVariables(used))
    return print_ast(edited)


def _used_variables(document: DocumentNode) -> set[str]:
    used: set[str] = set()

    class Collect(Visitor):
        def enter_variable_definition(self, *_: Any) -> Any:
            return False  # the definition's own $name is not a use

        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            used.add(node.name.value)

    visit(document, Collect())
    return used


class _UnusedVariables(Visitor):
    def __init__(self, used: set[str]) -> None:
        super().__init__()
        self.used = used

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> Any:
        return None if node.variable.name.value in self.used else REMOVE


class ValidateGraphqlRequest(Policy):
    """Check a GraphQL request against the API's schema, its size and depth, and authorize its fields.

    The request is a `POST` with a JSON body (`{"query": ..., "variables": ...}`) or an
    `application/graphql` body, or a `GET` with `?query=`. It fails as a *request error* when its
    payload is larger than `max-size` bytes (at most 100 KB), the query is not valid GraphQL, it is
    not valid against the API's schema (unknown types, fields or arguments, wrong argument types,
    unknown or unused fragments or variables: the GraphQL specification's validation rules, with
    the line and column of each problem), it has more than 250 fields at all levels, or fields nest
    deeper than `max-depth` (default 6; fragments are expanded). The schema is the API's
    `specification.graphql` (APIOps) or `graphql: {schema}` (gateway.yaml), for pass-through and
    synthetic GraphQL APIs alike; on an API without one only syntax, size, depth and rules are
    checked. A request error is answered by the gateway at once, without calling the backend, as a
    GraphQL response with an `errors` block (`message`, and `locations` for problems in the query)
    and no `data`: status 200 with `application/json`, or 400 when the client's `Accept` names
    `application/graphql-response+json` (GraphQL over HTTP; APIM does not document its status).
    Error messages are added to the `GraphQLErrors` variable and to `error-variable-name` (a list
    of strings).

    `<authorize>` rules apply to every field of the query (fragments expanded). `path` is
    `/Type/field` (that field of that type, wherever the query selects it: `/User/email`,
    `/Mutation/deleteUser`), `/field` (a root field of any operation), a path from the operation's
    root type `/Query/users/email` (that selection only), or `/__*` (introspection: `__schema`,
    `__type`, `__typename` at any level). For each field the most specific matching rule decides
    (longer paths first, `/__*` last; document order among equals); its `action` (an expression
    allowed) is `reject` (a request error naming the field's path; no further rule applies),
    `remove` (the field is taken out of the query sent to the backend, with selections it leaves
    empty and variables only it used; its field error message is recorded in the variables and added to
    the `errors` of the backend's JSON answer, with the field's `path` below the root type: aliases
    are not followed and list indices are not known, so the path names the fields),
    `allow`, or `ignore` (the next rule decides); no rule: allow. `deny`, which APIM's own example
    uses, is read as `reject`; an expression answering anything else fails the request (500, as
    any policy expression whose value does not fit). On an API without a schema the type of a
    nested field is unknown: `/Type/field` rules then match root fields only, and one that could
    apply to a nested field with the same name rejects the request (unless its action is `allow`
    or `ignore`) rather than let it through unchecked. In an API's (or its operation's) document,
    a rule whose path names no type, field or selection path of the API's schema stops the load
    with its location (a misspelt rule would never match; global and product documents serve
    several APIs and are not checked). Each distinct query is parsed, validated
    and analysed once (the last 256 kept per API), so a repeated query costs only the rules.
    graphql-core is a dependency for this policy: the Python port of the reference
    implementation (graphql-js), whose parser, validation rules and printer cover the whole
    GraphQL specification and bound the tokens they read.
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.GLOBAL | Scope.WORKSPACE | Scope.PRODUCT | Scope.API
    once_per_section = True
    implemented = True
    attributes = (
        Attr("error-variable-name", Str(), doc="Variable that receives the list of error messages."),
        Attr("max-size", Int(min=0, max=MAX_SIZE), required=True, doc="Largest request payload, in bytes."),
        Attr("max-depth", Int(min=1), default=6, doc="Deepest field nesting."),
        Attr("max-total-depth", Int(min=1), unsupported="not in APIM's documentation; not enforced"),
        Attr("max-complexity", Int(min=1), unsupported="not in APIM's documentation; not enforced"),
    )
    children = (
        Child(
            "authorize",
            children=(
                Child(
                    "rule",
                    attributes=(
                        Attr("path", Str(non_empty=True), required=True, expr=False,
                             doc="`/Type/field`, `/field` (root field), `/Query/users/email` (query path) or `/__*`."),
                        Attr("action", Enum(*ACTIONS), default="allow",
                             doc="What to do with a matching field: allow, remove, reject (or deny), ignore."),
                    ),
                ),
            ),
            max=1,
            doc="Authorization rules.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        for rule in _rules(element):
            path = rule.get("path")
            if path is not None and not RULE_PATH.match(path.text.strip()):
                diagnostics.error("policy-bad-value", f"rule path '{path.text.strip()}' is not `/Type/field`, `/field`, "
                                  "a query path such as `/Query/users/email`, or `/__*`", path.span)

    def build(self, element: PolicyElement, builder: Builder) -> ValidateGraphqlRequestStep:
        builder.require_body(response=False)
        rules = [Rule(tuple(rule.get("path").text.strip().strip("/").split("/")),  # type: ignore[union-attr]  # check() ran
                      builder.value(rule, "action")) for rule in _rules(element)]
        rules.sort(key=lambda rule: -rule.specificity)  # stable: document order among equals
        return ValidateGraphqlRequestStep(builder.value(element, "max-size"), builder.value(element, "max-depth"),
                                          builder.value(element, "error-variable-name"), tuple(rules))


def _rules(element: PolicyElement) -> list[PolicyElement]:
    authorize = element.child("authorize")
    return authorize.children_named("rule") if authorize is not None else []
