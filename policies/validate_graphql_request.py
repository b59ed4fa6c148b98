"""`<validate-graphql-request>`: check a GraphQL request's size and depth and authorize its root fields (graphql-core)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, parse, print_ast
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from engine.context import Headers, MessageBody, Response
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Child, Enum, Int, Scope, Section, Str
from policies._body import media_type, read_body, replace_body

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "validate-graphql-request"
MAX_SIZE = 100 * 1024
MAX_FIELDS = 250  # APIM validates requests of at most 250 fields across all levels
ROOT_TYPES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
# `/Type/field` with a root type, `/field` (a root field of any operation), or `/__*` (introspection)
RULE_PATH = re.compile(r"^/(?:(Query|Mutation|Subscription)/)?([_A-Za-z][_0-9A-Za-z]*|__\*)$")
_NO_SCHEMA = ("policygate has no GraphQL schema for the API, so rules can name root fields "
              "(/Query/field, /Mutation/field, /Subscription/field or /field) and introspection (/__*) only")


class RequestError(Exception):
    """The request fails as a whole: an errors block and no data (APIM's "request error")."""


@dataclass(frozen=True)
class Rule:
    type_name: str  # "" = a root field of any operation
    field: str  # "__*" = every introspection field
    action: Value

    def matches(self, type_name: str, field: str) -> bool:
        if self.field == "__*":
            return field.startswith("__")
        return self.field == field and self.type_name in ("", type_name)

    @property
    def specificity(self) -> int:
        return 0 if self.field == "__*" else 2 if self.type_name else 1


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


def _fields(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
            seen: frozenset[str] = frozenset()) -> list[tuple[FieldNode, int]]:
    """Every field under `selection_set` with its depth (1 = directly in it), fragments expanded."""
    found: list[tuple[FieldNode, int]] = []
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            found.append((selection, 1))
            found += [(field, depth + 1) for field, depth in _fields(selection.selection_set, fragments, seen)]
        elif isinstance(selection, InlineFragmentNode):
            found += _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                raise RequestError(f"Fragment '{name}' is unknown or spreads itself.")
            found += _fields(fragments[name].selection_set, fragments, seen | {name})
    return found


@dataclass(frozen=True)
class ValidateGraphqlRequestStep:
    max_size: Value
    max_depth: Value
    error_variable: Value
    rules: tuple[Rule, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        content = await read_body(ctx, ctx.request)
        errors: list[str] = []
        try:
            size = len(content or b"") if ctx.request.method != "GET" else len(ctx.request.url.query_string)
            if size > int(self.max_size.get(ctx)):
                raise RequestError(f"The request is larger than {int(self.max_size.get(ctx))} bytes.")
            query, in_json = graphql_query(ctx, content)
            try:
                document = parse(query, max_tokens=20_000)
            except GraphQLError as exc:
                raise RequestError(f"The query is not valid GraphQL: {exc.message}") from None
            removed = self._check(ctx, document, errors)
        except RequestError as exc:
            errors.append(str(exc))
            self._record(ctx, errors)
            body = json.dumps({"errors": [{"message": message} for message in errors]}).encode()
            headers = Headers([("Content-Type", "application/json; charset=utf-8")])
            ctx.response = Response(200, "OK", headers, MessageBody(body))
            return Flow.END
        self._record(ctx, errors)
        if removed:  # the query without the removed fields goes to the backend
            query = print_ast(document)
            if in_json:
                payload = json.loads(content or b"{}")
                payload["query"] = query
                replace_body(ctx.request, json.dumps(payload).encode())
            elif ctx.request.method == "GET":
                ctx.request.url.query["query"] = [query]
            else:
                replace_body(ctx.request, query.encode())
        return None

    def _check(self, ctx: Context, document: DocumentNode, errors: list[str]) -> bool:
        """Depth, field count and rules; True when fields were removed (raises RequestError)."""
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not operations:
            raise RequestError("The document has no operation.")
        max_depth = int(self.max_depth.get(ctx))
        removed = False
        for operation in operations:
            fields = _fields(operation.selection_set, fragments)
            if len(fields) > MAX_FIELDS:
                raise RequestError(f"The query has more than {MAX_FIELDS} fields.")
            deepest = max((depth for _, depth in fields), default=0)
            if deepest > max_depth:
                raise RequestError(f"The query depth {deepest} exceeds the maximum depth {max_depth}.")
            type_name = ROOT_TYPES[operation.operation.value]
            for field, depth in fields:
                name = field.name.value
                if depth > 1 and not name.startswith("__"):
                    continue  # without a schema, nested fields have no known type
                action = self._action(ctx, type_name if depth == 1 else "", name)
                if action == "reject":
                    raise RequestError(f"Access to '/{type_name}/{name}' is not allowed." if depth == 1
                                       else f"Access to '{name}' is not allowed.")
                if action == "remove":
                    errors.append(f"The field '{name}' was removed: access is not allowed.")
                    removed = _remove(operation.selection_set, field, fragments) or removed
            if not operation.selection_set.selections:
                raise RequestError("No field of the query is allowed.")
        return removed

    def _action(self, ctx: Context, type_name: str, field: str) -> str:
        for rule in sorted(self.rules, key=lambda r: -r.specificity):  # most specific first, then document order
            if rule.matches(type_name, field):
                action = str(rule.action.get(ctx) or "allow").strip().lower()
                if action != "ignore":
                    return action
        return "allow"

    def _record(self, ctx: Context, errors: list[str]) -> None:
        name = str(self.error_variable.get(ctx) or "")
        if name and errors:
            ctx.variables[name] = list(errors)


def _remove(selection_set: SelectionSetNode | None, target: FieldNode,
            fragments: dict[str, FragmentDefinitionNode]) -> bool:
    """Take `target` out of the selection set it is in (wherever fragments put it)."""
    if selection_set is None:
        return False
    kept = tuple(s for s in selection_set.selections if s is not target)
    if len(kept) != len(selection_set.selections):
        selection_set.selections = kept
        return True
    for selection in selection_set.selections:
        inner: Any = getattr(selection, "selection_set", None)
        if isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            inner = fragments[selection.name.value].selection_set
        if _remove(inner, target, fragments):
            return True
    return False


class ValidateGraphqlRequest(Policy):
    """Check a GraphQL request before it reaches a GraphQL backend, and authorize its root fields.

    The request is a `POST` with a JSON body (`{"query": ..., "variables": ...}`) or an
    `application/graphql` body, or a `GET` with `?query=`. It fails as a *request error* when its
    payload is larger than `max-size` bytes (at most 100 KB), the query is not valid GraphQL
    (parsed by graphql-core), it has more than 250 fields at all levels, or fields nest deeper than
    `max-depth` (default 6; fragments are expanded). A request error is answered by the gateway
    at once, as a GraphQL response with an `errors` block and no `data` (status 200, the
    GraphQL-over-HTTP convention for `application/json`; APIM does not document its status), and
    the messages are stored in `error-variable-name`.

    `<authorize>` rules apply to root fields and to introspection: `path` is `/Query/field`,
    `/Mutation/field`, `/Subscription/field`, `/field` (that root field of any operation) or
    `/__*` (`__schema`, `__type`, `__typename` at any level). The most specific matching rule
    decides (`/Type/field`, then `/field`, then `/__*`; document order among equals); its
    `action` (an expression allowed) is `reject` (a request error), `remove` (the field is taken
    out of the query sent to the backend and a message is added to `error-variable-name`), `allow`,
    or `ignore` (the next rule decides); no rule: allow. APIM validates against the GraphQL schema
    it imported for the API; policygate has no such schema, so it does not validate field names
    or types, and rules for the fields of other types (`/User/email`) are refused at load time.
    Queries are parsed by graphql-core, a dependency for this policy: the Python port of the
    reference implementation (graphql-js), whose parser and printer handle the whole GraphQL
    syntax (block strings, fragments, directives) and bound the tokens it reads.
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
                             doc="`/Query/field`, `/Mutation/field`, `/Subscription/field`, `/field` or `/__*`."),
                        Attr("action", Enum("allow", "remove", "reject", "ignore"), default="allow",
                             doc="What to do with a matching field."),
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
                diagnostics.error("policy-bad-value", f"rule path '{path.text.strip()}' cannot be enforced: {_NO_SCHEMA}",
                                  path.span)

    def build(self, element: PolicyElement, builder: Builder) -> ValidateGraphqlRequestStep:
        builder.require_body(response=False)
        rules = []
        for rule in _rules(element):
            match = RULE_PATH.match(rule.get("path").text.strip())  # type: ignore[union-attr]  # check() ran
            assert match is not None
            rules.append(Rule(match.group(1) or "", match.group(2), builder.value(rule, "action")))
        return ValidateGraphqlRequestStep(builder.value(element, "max-size"), builder.value(element, "max-depth"),
                                          builder.value(element, "error-variable-name"), tuple(rules))


def _rules(element: PolicyElement) -> list[PolicyElement]:
    authorize = element.child("authorize")
    return authorize.children_named("rule") if authorize is not None else []
