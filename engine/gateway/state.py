"""A loaded configuration, compiled: routes, subscriptions and one pipeline per API/operation/product.

`GatewayState.build(settings, services)` does all the work that can fail (reading and validating
documents, composing scopes, compiling expressions) so that serving never has to; reload builds a
new state and swaps it in only when this succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from graphql import GraphQLSchema

from engine.apispec import OperationSpec
from engine.compose import annotate, compose, expand_fragments
from engine.context import Api, Group, Operation, Product, Url
from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.errors import PolicyLoadError
from engine.expr.cache import ExpressionCache
from engine.gateway.builder import PipelineBuilder
from engine.gateway.pipeline import Pipeline
from engine.gateway.routing import Router
from engine.gateway.services import Services
from engine.gateway.settings import (
    ApiSettings,
    GatewaySettings,
    OperationSettings,
    ProductSettings,
    WebSocketSettings,
)
from engine.gateway.soap import soap_actions
from engine.gateway.subscriptions import Subscriptions
from engine.gateway.websocket import WebSocketApi
from engine.graphql.api import GraphQLApi
from engine.graphql.executor import SyntheticGraphQL
from engine.graphql.schema import load_schema, rule_path_problem
from engine.model import PolicyDocument, PolicyElement
from engine.policy import Step
from engine.registry import PolicyRegistry, default_registry
from engine.validate import validate

SOAP_ENDPOINT = "soap"  # the operation id metrics and access logs give every request to a SOAP API's operations
RESOLVER_POLICIES = ("http-data-source", "sql-data-source", "cosmosdb-data-source")
DEFAULT_GLOBAL_POLICY = """<policies>
    <inbound />
    <backend>
        <forward-request />
    </backend>
    <outbound />
    <on-error />
</policies>
"""


@dataclass(frozen=True)
class ServiceTarget:
    """The API's backend base: scheme/host/port and the base path relative paths are appended to."""

    scheme: str
    host: str
    port: int
    base_path: str  # without a trailing "/"

    @classmethod
    def parse(cls, url: str) -> ServiceTarget:
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme in ("https", "wss") else 80)
        return cls(scheme, parts.hostname or "localhost", port, parts.path.rstrip("/"))


@dataclass
class OperationEntry:
    """What routing returns: the settings, the context objects and the compiled pipelines."""

    api: ApiSettings
    operation: OperationSettings
    context_api: Api
    context_operation: Operation
    target: ServiceTarget
    pipelines: dict[str | None, Pipeline] = field(default_factory=dict)  # product id (None: no product)
    graphql: GraphQLApi | None = None  # a GraphQL API's schema, query cache and (synthetic) executor
    websocket: WebSocketApi | None = None  # a WebSocket API: forward-request opens the backend connection


@dataclass
class GatewayState:
    settings: GatewaySettings
    router: Router[OperationEntry]
    subscriptions: Subscriptions
    products: dict[str, Product]
    global_pipeline: Pipeline  # on-error for requests that match no API
    fragments: dict[str, PolicyDocument] = field(default_factory=dict)
    expressions: ExpressionCache = field(default_factory=ExpressionCache)  # each compiled once
    pipelines: tuple[Pipeline, ...] = ()  # every distinct compiled pipeline (policy coverage walks them)
    resolvers: tuple[Step, ...] = ()  # every synthetic GraphQL API's resolver steps (policy coverage walks them too)

    @classmethod
    def build(
        cls, settings: GatewaySettings, services: Services, registry: PolicyRegistry | None = None
    ) -> GatewayState:
        """Compile everything; raises PolicyLoadError with every diagnostic found."""
        registry = registry or default_registry()
        return _Compiler(settings, services, registry).build()


class _Compiler:
    def __init__(self, settings: GatewaySettings, services: Services, registry: PolicyRegistry) -> None:
        self.settings = settings
        self.services = services
        self.registry = registry
        self.diagnostics = Diagnostics()
        self.expressions = ExpressionCache()  # validation and every pipeline share one compilation
        self._documents: dict[Path, PolicyDocument | None] = {}
        self._pipelines: dict[tuple[int, ...], Pipeline] = {}  # documents kept alive by _documents
        self._resolvers: list[Step] = []

    def build(self) -> GatewayState:
        settings = self.settings
        global_doc = self.document(settings.policy, "global") if settings.policy else self.default_global()
        fragments = {}
        for name, path in settings.fragments.items():
            doc = self.document(path)
            if doc is not None:
                fragments[name] = doc
        product_docs = {pid: self.document(p.policy, "product") for pid, p in settings.products.items() if p.policy}
        router: Router[OperationEntry] = Router()
        graphql_schemas: dict[str, GraphQLSchema | None] = {}  # GraphQL API id -> its schema (None: it has none)
        for api in settings.apis.values():
            api_doc = self.document(api.policy, "api") if api.policy else None
            target = ServiceTarget.parse(api.service_url)
            context_api = Api(
                id=api.id, name=api.name, path=api.path, service_url=Url.parse(api.service_url),
                revision=api.revision, is_current_revision=api.is_current, version=api.version,
                protocols=list(api.protocols),
            )
            graphql = self.graphql(api, fragments) if api.graphql is not None else None
            # A WebSocket API, or a pass-through GraphQL API answering ws/wss (subscriptions)
            websocket = (WebSocketApi(api.websocket or WebSocketSettings())
                         if api.websocket is not None or set(api.protocols) & {"ws", "wss"} else None)
            schema = graphql.schema if graphql is not None else None
            if api.graphql is not None:
                graphql_schemas[api.id] = schema
            if schema is not None and api_doc is not None:
                self.check_graphql_rules(api_doc.root, {api.id: schema})
            entries = []
            soap: list[OperationEntry] = []  # operations told apart by their SOAP action
            for op in api.operations:
                op_doc = self.document(op.policy, "operation") if op.policy else None
                if schema is not None and op_doc is not None:
                    self.check_graphql_rules(op_doc.root, {api.id: schema})
                entry = OperationEntry(
                    api, op, context_api,
                    Operation(id=op.id, name=op.name, method=op.method, url_template=op.url_template,
                              spec=_gateway_spec(op.spec, api)),
                    target, graphql=graphql, websocket=websocket,
                )
                for product_id in (None, *api.products):
                    scoped = {"global": global_doc, "product": product_docs.get(product_id) if product_id else None,
                              "api": api_doc, "operation": op_doc}
                    entry.pipelines[product_id] = self.pipeline(scoped, fragments)
                if op.soap_action is not None:
                    soap.append(entry)
                else:
                    entries.append((op.method, op.url_template, entry))
            if soap:
                entries.append(self.soap_endpoint(api, context_api, target, soap, global_doc, product_docs, api_doc,
                                                  fragments))
            router.add_api(api.path, context_api, entries, revision=api.revision, current=api.is_current,
                           protocols=api.protocols)
        self.check_shared_graphql_rules(global_doc, graphql_schemas)
        for pid, product_doc in product_docs.items():
            self.check_shared_graphql_rules(product_doc, {aid: schema for aid, schema in graphql_schemas.items()
                                                          if pid in settings.apis[aid].products})
        global_pipeline = self.pipeline({"global": global_doc}, fragments)
        if self.diagnostics.has_errors:
            raise PolicyLoadError(self.diagnostics.sorted())
        return GatewayState(
            settings=settings,
            router=router,
            subscriptions=Subscriptions(settings),
            products={pid: _context_product(p) for pid, p in settings.products.items()},
            global_pipeline=global_pipeline,
            fragments=fragments,
            expressions=self.expressions,
            pipelines=tuple(self._pipelines.values()),
            resolvers=tuple(self._resolvers),
        )

    def document(self, path: Path, scope: str | None = None) -> PolicyDocument | None:
        if path not in self._documents:
            doc = load_document(
                path, named_values=self.settings.named_values, registry=self.registry, diagnostics=self.diagnostics
            )
            if doc is not None:
                validate(doc, diagnostics=self.diagnostics, registry=self.registry, scope=scope,
                         require_implemented=True, expressions=self.expressions)
                self.check_settings(doc.root)
            self._documents[path] = doc
        return self._documents[path]

    def soap_endpoint(self, api: ApiSettings, context_api: Api, target: ServiceTarget, operations: list[OperationEntry],
                      global_doc: PolicyDocument | None, product_docs: dict[str, PolicyDocument | None],
                      api_doc: PolicyDocument | None,
                      fragments: dict[str, PolicyDocument]) -> tuple[str, str, OperationEntry]:
        """The route of a SOAP API's operations: `POST /` at the API's URL, whose pipeline (one per product)
        runs the pipeline of the operation the request's SOAP action names."""
        endpoint = OperationSettings(id=SOAP_ENDPOINT, method="POST", url_template="/", name="SOAP")
        entry = OperationEntry(api, endpoint, context_api, Operation(id=endpoint.id, name=endpoint.name, method="POST",
                                                                     url_template="/"), target)
        unmatched = self.pipeline({"global": global_doc}, fragments)
        for product_id in (None, *api.products):
            scoped = {"global": global_doc, "product": product_docs.get(product_id) if product_id else None,
                      "api": api_doc}
            actions = {action: (op.context_operation, op.pipelines[product_id]) for op in operations
                       for action in (op.operation.soap_action or "", *op.operation.soap_actions_also)}
            entry.pipelines[product_id] = soap_actions(self.pipeline(scoped, fragments), actions, unmatched)
        return endpoint.method, endpoint.url_template, entry

    def graphql(self, api: ApiSettings, fragments: dict[str, PolicyDocument]) -> GraphQLApi | None:
        """A GraphQL API's schema and, when it is synthetic, its executor (each resolver's document built
        into steps, its `<include-fragment>`s expanded); None when a resolver document has errors (reported)."""
        assert api.graphql is not None
        schema = load_schema(api.graphql.schema) if api.graphql.schema is not None else None
        if not api.graphql.synthetic:
            return GraphQLApi(schema)
        assert schema is not None  # a synthetic API's schema is required when settings are read
        resolvers = {}
        for resolver in api.graphql.resolvers:
            document = self.document(resolver.policy)
            if document is None:
                continue
            if document.kind != "snippet" or document.root.tag not in RESOLVER_POLICIES:
                self.diagnostics.error(
                    "document-kind", f"a resolver's document is one of <{'>, <'.join(RESOLVER_POLICIES)}>, "
                    f"not <{document.root.tag}>", document.root.span)
                continue
            annotate(document, "resolver")
            builder = PipelineBuilder(self.registry, self.diagnostics, self.expressions)
            root = expand_fragments(document.root, fragments, self.diagnostics)
            steps = resolvers[resolver.type_name, resolver.field_name] = builder.steps([root])
            self._resolvers += steps
        if self.diagnostics.has_errors:
            return None
        return GraphQLApi(schema, SyntheticGraphQL(schema, resolvers))

    def check_shared_graphql_rules(self, document: PolicyDocument | None, schemas: dict[str, GraphQLSchema | None]) -> None:
        """validate-graphql-request rules of a global or product document must name something in the schema of
        at least one GraphQL API the document applies to (unless one of them has no schema: nothing to judge by)."""
        if document is not None and schemas and all(schema is not None for schema in schemas.values()):
            self.check_graphql_rules(document.root, {aid: schema for aid, schema in schemas.items() if schema is not None})

    def check_graphql_rules(self, element: PolicyElement, schemas: dict[str, GraphQLSchema]) -> None:
        """validate-graphql-request rules must name something in the GraphQL schema of one of the APIs the document
        applies to (`schemas`, by API id): a misspelt type or field would never match."""
        authorize = element.child("authorize") if element.tag == "validate-graphql-request" else None
        for rule in authorize.children_named("rule") if authorize is not None else ():
            path = rule.get("path")
            if path is None or not path.text.strip().startswith("/"):
                continue
            problems = {aid: rule_path_problem(schema, path.text) for aid, schema in schemas.items()}
            if all(problem is not None for problem in problems.values()):
                why = (f"the API's GraphQL schema: {next(iter(problems.values()))}" if len(problems) == 1 else
                       "the GraphQL schema of any API it applies to: "
                       + "; ".join(f"{aid}: {problems[aid]}" for aid in sorted(problems)))
                self.diagnostics.error("policy-bad-value", f"rule path '{path.text.strip()}' names nothing in {why}",
                                       path.span)
        for child in element.children:
            self.check_graphql_rules(child, schemas)

    def check_settings(self, element: PolicyElement) -> None:
        """Report policies needing a top-level configuration key that is absent (`Policy.needs_settings`)
        and constant attributes that name no entry of their configuration key (`Policy.settings_refs`)."""
        policy = self.registry.get(element.tag)
        if policy is not None and policy.needs_client_certificate and self.services.client_certificates is False:
            self.diagnostics.error(
                "gateway-settings-missing",
                f"<{element.tag}> needs the caller's TLS certificate, which this gateway never receives",
                element.span, "serve with mutual TLS on the native server: `server.tls.client-ca-file` and "
                "`server.http-server: native` (or auto); Granian and Hypercorn do not pass the certificate on",
            )
        for key in policy.needs_settings if policy is not None else ():
            if getattr(self.settings, key.replace("-", "_"), None) is None:
                self.diagnostics.error(
                    "gateway-settings-missing", f"<{element.tag}> needs `{key}:` in the gateway configuration",
                    element.span, f"add {key}: to the configuration (docs/configuration.md)",
                )
        for reference, key in policy.settings_refs if policy is not None else ():
            entries = getattr(self.settings, key.replace("-", "_"), None) or {}
            *path, attribute = reference.replace("@", "/").split("/")
            for holder in _descendants(element, path):
                named = holder.get(attribute)
                if named is None or named.is_expression:
                    continue
                if named.text.strip() not in entries:
                    self.diagnostics.error(
                        "gateway-settings-missing",
                        f"<{element.tag}> {attribute} '{named.text.strip()}' is not declared under `{key}:` in the gateway configuration",
                        named.span, f"declared: {', '.join(sorted(entries)) or 'none'} (docs/configuration.md)",
                    )
                elif policy is not None and (problem := policy.settings_problem(holder, key, entries[named.text.strip()])):
                    self.diagnostics.error("policy-bad-value", f"<{element.tag}> {attribute} '{named.text.strip()}': {problem}",
                                           named.span)
        for child in element.children:
            self.check_settings(child)

    def default_global(self) -> PolicyDocument | None:
        return load_document("<default global policy>", text=DEFAULT_GLOBAL_POLICY, registry=self.registry, diagnostics=self.diagnostics)

    def pipeline(self, scoped: dict[str, PolicyDocument | None], fragments: dict[str, PolicyDocument]) -> Pipeline:
        """The compiled pipeline of one combination of scope documents (shared when they are the same)."""
        if self.diagnostics.has_errors:  # documents are broken: report those, don't compile
            return Pipeline((), (), (), ())
        key = tuple(id(scoped.get(scope)) for scope in ("global", "product", "api", "operation"))
        if key not in self._pipelines:
            effective = compose(scoped, fragments=fragments, diagnostics=self.diagnostics)
            builder = PipelineBuilder(self.registry, self.diagnostics, self.expressions)
            self._pipelines[key] = builder.pipeline(effective.sections)
        return self._pipelines[key]


def _descendants(element: PolicyElement, path: list[str]) -> list[PolicyElement]:
    """The elements reached from `element` through child tags `path` (itself when the path is empty)."""
    found = [element]
    for tag in path:
        found = [child for parent in found for child in parent.children_named(tag)]
    return found


def _gateway_spec(spec: OperationSpec | None, api: ApiSettings) -> OperationSpec | None:
    """The operation's description, knowing the subscription key names the gateway reads for this API."""
    if spec is None:
        return None
    return replace(spec, gateway_headers=frozenset({api.key_header.lower()}), gateway_query=frozenset({api.key_query}))


def _context_product(product: ProductSettings) -> Product:
    return Product(
        id=product.id, name=product.name, approval_required=product.approval_required,
        subscription_required=product.subscription_required, state=product.state,
        groups=[Group(id=g, name=g) for g in product.groups],
    )
