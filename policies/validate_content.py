"""`<validate-content>`: check the size and content of a request or response body: JSON against the API's
OpenAPI schemas, XML and SOAP for well-formedness and envelope structure."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from lxml import etree

from engine.apispec import BodySpec, OperationSpec
from engine.apispec.instance import InstanceSchema
from engine.apispec.schemas import REQUEST, RESPONSE, SchemaError, SchemaProblem, SchemaRef
from engine.apispec.xmlpositions import ElementPositions
from engine.context import Context
from engine.diagnostics import Diagnostics
from engine.model import PolicyElement
from engine.policy import Builder, Flow, Policy, Step, Value, constant_value
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str
from policies._body import acts_on_response, media_type, message_for, read_body
from policies._json_xml import json_syntax_message
from policies._validation import (
    ACTIONS,
    INTERNAL_ERROR,
    Finding,
    Outcome,
    action_of,
    action_value,
    errors_variable,
    operation_spec,
)
from policies._xml_body import XmlProblem, parse_xml, soap_payload

MAX_SIZE = 4 * 1024 * 1024
_UNSUPPORTED_CASE = "case-insensitive property names are not supported"
_KIND_NAMES = {"json": "a JSON schema", "xml": "an XML schema (XSD)"}


@dataclass(frozen=True)
class _ContentRule:
    type: str  # lower case; "" = every content type the description declares
    kind: str  # validate-as: json, xml or soap
    schema_ref: str
    schema_id: str  # a schema added to the instance (`schemas:`)
    action: Value | None
    additional: bool | None


@dataclass(frozen=True)
class _TypeRule:
    source: str  # lower case `from`, or "" with `when`
    when: Value | None
    to: Value


class ValidateContent(Policy):
    """Check the size and content of a request (inbound) or response (outbound, on-error) body.

    The body must be at most `max-size` bytes (up to 4 MB); a bigger one is handled by
    `size-exceeded-action` and its content is not validated. The content type (Content-Type
    without parameters, case-insensitive, after `content-type-map`) selects the schema the
    operation's OpenAPI description declares for it (for a response: for its status code, its
    range `2XX`, or `default`); a content type the description does not declare is handled by
    `unspecified-content-type-action`. Each `<content>` element (`type` empty: every declared
    type) validates matching bodies:

    - `validate-as="json"`: as JSON against that schema, or against `schema-ref`
      (`#/components/schemas/Name`); `allow-additional-properties` overrides every object's
      `additionalProperties`.
    - `validate-as="xml"`: the body must be a well-formed XML document. A DTD is refused (and
      entities are never expanded or fetched), as .NET's XML reader does by default.
    - `validate-as="soap"`: as xml, and the root must be a SOAP envelope with exactly one `Body`:
      SOAP 1.1 (`http://schemas.xmlsoap.org/soap/envelope/`) for `text/xml`, SOAP 1.2
      (`http://www.w3.org/2003/05/soap-envelope`) for `application/soap+xml`, either for other
      content types.
    - When the API has XML schemas of its own (its WSDL's `types`, its XSD API schemas), xml
      validates the document's root element and soap the Body's first element against them.

    `schema-id` names a schema added to the instance (`schemas:` in the gateway configuration,
    `schemas/<id>/` in an APIOps folder), used instead of the description's: a JSON schema for
    `validate-as="json"` (`allow-additional-properties` applies), an XML schema (XSD) for `xml` (the
    document's root element) and `soap` (the first element in the envelope's Body). The error
    names the schema id as the definition; XML errors are libxml2's with the line and column of
    the element's (or attribute's) name. An id that no schema has, or a schema of the wrong kind
    for `validate-as`, stops the configuration from loading (`policygate check` and lint of an
    APIOps folder report it). A `<content>` with an explicit `type` and `schema-ref`, `schema-id` or
    `validate-as` xml or soap also accepts that content type when the description does not declare it.

    Actions: `ignore`, `detect` (record in `errors-variable-name`), `prevent` (400 for a request;
    502 for a response, with APIM's internal-error text). A gzip or deflate body is decompressed
    first (size and content are those of the decompressed body); one in another Content-Encoding
    (br...) is size-checked as sent and its content not validated. An empty body is not validated
    (a request without the body the description marks `required` is an error of the `<content>`'s
    action).
    """

    tag = "validate-content"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    settings_refs = (("content@schema-id", "schemas"),)
    attributes = (
        Attr("unspecified-content-type-action", Enum(*ACTIONS), required=True),
        Attr("max-size", Int(min=0, max=MAX_SIZE), required=True),
        Attr("size-exceeded-action", Enum(*ACTIONS), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (
        Child(
            "content-type-map",
            attributes=(Attr("any-content-type-value", Str()), Attr("missing-content-type-value", Str())),
            children=(
                Child("type", attributes=(Attr("from", Str(), expr=False), Attr("when", Bool()),
                                          Attr("to", Str(non_empty=True), required=True))),
            ),
            max=1,
        ),
        Child(
            "content",
            attributes=(
                Attr("type", Str(), expr=False),
                Attr("validate-as", Enum("json", "xml", "soap"), required=True, expr=False),
                Attr("schema-id", Str(), expr=False, doc="Id of a schema added to the instance (`schemas:`)."),
                Attr("schema-ref", Str(), expr=False),
                Attr("action", Enum(*ACTIONS), required=True),
                Attr("allow-additional-properties", Bool(), expr=False),
                Attr("case-insensitive-property-names", Bool(), expr=False),
            ),
        ),
    )
    implemented = True

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        for content in element.children_named("content"):
            validate_as = content.get("validate-as")
            kind = validate_as.text.strip() if validate_as is not None else "json"
            ref = content.get("schema-ref")
            if ref is not None and content.get("schema-id") is not None:
                diagnostics.error("policy-bad-value", "schema-id and schema-ref exclude each other", ref.span)
            elif ref is not None and kind != "json":
                diagnostics.error("policy-bad-value", "schema-ref applies only to validate-as=\"json\"", ref.span)
            elif ref is not None and not ref.text.strip().startswith("#/"):
                diagnostics.error("policy-bad-value", f"schema-ref '{ref.text}' must be a local reference "
                                  "such as #/components/schemas/Address", ref.span)
            case = content.get("case-insensitive-property-names")
            if case is not None and case.text.strip().lower() == "true":
                diagnostics.warning("policy-unsupported", f"case-insensitive-property-names=\"true\" cannot be run "
                                    f"by the policygate gateway ({_UNSUPPORTED_CASE})", case.span)
        for rule in (c for m in element.children_named("content-type-map") for c in m.children_named("type")):
            if (rule.get("from") is None) == (rule.get("when") is None):
                diagnostics.error("policy-bad-value", "<type> needs exactly one of 'from' and 'when'", rule.span)

    def settings_problem(self, holder: PolicyElement, key: str, entry: object) -> str | None:
        """A `schema-id` naming a schema of the wrong kind for `validate-as` (found when the configuration loads)."""
        validate_as = holder.get("validate-as")
        wanted = "json" if validate_as is None or validate_as.text.strip() == "json" else "xml"
        if isinstance(entry, InstanceSchema) and entry.kind != wanted:
            kind = validate_as.text.strip() if validate_as is not None else "json"
            return f"the schema is {_KIND_NAMES[entry.kind]}; validate-as=\"{kind}\" needs {_KIND_NAMES[wanted]}"
        return None

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        rules = []
        for content in element.children_named("content"):
            kind = str(constant_value(builder.value(content, "validate-as")))
            if constant_value(builder.value(content, "case-insensitive-property-names")) is True:
                builder.error("gateway-not-implemented", f"case-insensitive-property-names: {_UNSUPPORTED_CASE}", content)
            rules.append(_ContentRule(
                type=(constant_value(builder.value(content, "type")) or "").strip().lower(),
                kind=kind,
                schema_ref=(constant_value(builder.value(content, "schema-ref")) or "").strip(),
                schema_id=(constant_value(builder.value(content, "schema-id")) or "").strip(),
                action=action_value(builder, content, "action"),
                additional=constant_value(builder.value(content, "allow-additional-properties")),
            ))
        mapping = element.child("content-type-map")
        any_type = builder.value(mapping, "any-content-type-value") if mapping is not None else None
        missing_type = builder.value(mapping, "missing-content-type-value") if mapping is not None else None
        type_rules = [
            _TypeRule((constant_value(builder.value(t, "from")) or "").strip().lower(),
                      builder.value(t, "when") if t.get("when") is not None else None, builder.value(t, "to"))
            for t in (mapping.children_named("type") if mapping is not None else ())
        ]
        unspecified = action_value(builder, element, "unspecified-content-type-action")
        size_action = action_value(builder, element, "size-exceeded-action")
        max_size_value = builder.value(element, "max-size")
        variable = errors_variable(element, "errors-variable-name")
        response_side = acts_on_response(element.section)
        direction = RESPONSE if response_side else REQUEST
        side = "response" if response_side else "request"
        body_type = "ResponseBody" if response_side else "RequestBody"

        def content_type_of(ctx: Context, sent: str) -> str:
            for rule in type_rules:
                if (rule.source and rule.source == sent) or (rule.when is not None and rule.when.get(ctx) is True):
                    return str(rule.to.get(ctx) or "").split(";", 1)[0].strip().lower()
            mapped = any_type.get(ctx) if any_type is not None else None
            if not mapped and not sent and missing_type is not None:
                mapped = missing_type.get(ctx)
            return str(mapped).split(";", 1)[0].strip().lower() if mapped else sent

        async def validate_content(ctx: Context) -> Flow | None:
            message = message_for(ctx, element.section)
            body = await read_body(ctx, message) or b""
            outcome = Outcome(response_side)
            spec = operation_spec(ctx)
            declared = _declared_body(spec, ctx, response_side)
            max_size = max_size_value.get(ctx)
            limit = MAX_SIZE if max_size is None else max_size
            content = _decoded(body, message.headers.get("content-encoding") or "", limit)
            size = len(content) if content is not None else len(body)
            if size > limit:
                length = f"more than {limit}" if content is not None and content is not body else str(size)
                outcome.add(Finding(
                    "", body_type, "SizeLimit",
                    f"Body of the {side} is {length} bytes long and it exceeds the configured limit of {limit} bytes.",
                    action_of(size_action, ctx),
                    f"Request's body is {length} bytes long and it exceeds the limit of {limit} bytes."))
                return outcome.finish(ctx, element, variable, self.tag)
            sent = media_type(message.headers)
            content_type = content_type_of(ctx, sent)
            if not body:
                if declared.required and not response_side:
                    details = "The request body is required by the API definition but the request has none."
                    outcome.add(Finding("", body_type, "IncorrectMessage", details,
                                        action_of(_first_action(rules), ctx)))
                return outcome.finish(ctx, element, variable, self.tag)
            matched = declared.match(content_type) if content_type else None
            rule = _rule_for(rules, content_type, matched is not None)
            if matched is None and (rule is None or not rule.type or not (rule.schema_ref or rule.schema_id
                                                                           or rule.kind != "json")):
                text = f"Unspecified content type {content_type or '(none)'} is not allowed."
                outcome.add(Finding(content_type, body_type, "Unspecified", text, action_of(unspecified, ctx)))
                return outcome.finish(ctx, element, variable, self.tag)
            if rule is None or content is None:
                return None
            action = action_of(rule.action, ctx)
            if action == "ignore":
                return None
            schema = matched[1] if matched is not None else None
            if rule.schema_id:
                for finding in _check_instance_schema(ctx, rule, content, direction, side, content_type, body_type,
                                                      action):
                    outcome.add(finding)
                return outcome.finish(ctx, element, variable, self.tag)
            if rule.kind != "json":
                definition = schema.name if schema is not None else ""
                for finding in _check_xml(content, rule.kind, side, definition, content_type, body_type, action,
                                          spec.xml_schema):
                    outcome.add(finding)
                return outcome.finish(ctx, element, variable, self.tag)
            if rule.schema_ref:
                try:
                    schema = spec.schemas.ref(rule.schema_ref)
                except KeyError:
                    outcome.add(Finding(rule.schema_ref, "ApiSchema", "MissingDefinition",
                                        f"The API definition has no schema at {rule.schema_ref}.", action, INTERNAL_ERROR))
                    return outcome.finish(ctx, element, variable, self.tag)
            if schema is None:
                return None
            for finding in _check_json(spec, schema, content, direction, rule.additional, side, content_type,
                                       body_type, action):
                outcome.add(finding)
            return outcome.finish(ctx, element, variable, self.tag)

        return validate_content


_WINDOW_BITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _decoded(body: bytes, encoding: str, limit: int) -> bytes | None:
    """The body without its Content-Encoding (gzip, deflate), at most `limit` + 1 bytes of it; None
    when the encoding is one the gateway cannot read (br, several encodings) or the data is corrupt."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    wbits = _WINDOW_BITS.get(encoding)
    if wbits is None:
        return None
    for bits in (wbits, -zlib.MAX_WBITS) if encoding == "deflate" else (wbits,):  # deflate is sometimes sent raw
        try:
            return zlib.decompressobj(bits).decompress(body, limit + 1)
        except zlib.error:
            continue
    return None


def _declared_body(spec: OperationSpec, ctx: Context, response_side: bool) -> BodySpec:
    if not response_side:
        return spec.request
    declared = spec.response(ctx.response.status_code)
    return declared.body if declared is not None else BodySpec()


def _rule_for(rules: list[_ContentRule], content_type: str, declared: bool) -> _ContentRule | None:
    """The `<content>` for a content type: one naming it, else (when declared) one without a type."""
    explicit = next((r for r in rules if r.type and r.type == content_type), None)
    if explicit is not None:
        return explicit
    return next((r for r in rules if not r.type), None) if declared else None


def _first_action(rules: list[_ContentRule]) -> Value | None:
    return rules[0].action if rules else None


def _not_json(name: str) -> object:
    raise json.JSONDecodeError(f"'{name}' is not a JSON value", name, 0)


def _preamble(side: str, definition: str, content_type: str) -> str:
    return (f"Body of the {side} does not conform to the definition {definition}, which is associated "
            f"with the content type {content_type}.")


def _check_xml(body: bytes, kind: str, side: str, definition: str, content_type: str, body_type: str,
               action: str, schema: InstanceSchema | None = None) -> list[Finding]:
    """validate-as xml or soap: a well-formed document without a DTD; for soap, an envelope with a Body;
    with `schema`, its root element (soap: the Body's first element) valid against that XML schema.
    The definition in messages is `definition`, else the content type (syntax) or the element's name."""
    try:
        root = parse_xml(body)
        element = soap_payload(root, content_type) if kind == "soap" else root
    except XmlProblem as problem:
        return [Finding(content_type, body_type, "IncorrectMessage",
                        f"{_preamble(side, definition or content_type, content_type)} {problem}", action)]
    if schema is None or element is None:  # no schema, or an empty SOAP Body: nothing more to check
        return []
    preamble = _preamble(side, definition or etree.QName(element).localname, content_type)
    return [Finding(content_type, body_type, "IncorrectMessage",
                    f"{preamble} {problem.message}. Line: {problem.line}, Position: {problem.column}", action)
            for problem in schema.xml_problems(element, ElementPositions(root, body))]


def _json_instance(body: bytes) -> object:
    """The body as a JSON value; ValueError with APIM's wording (and the place) when it is not one."""
    try:
        return json.loads(body, parse_constant=_not_json)
    except json.JSONDecodeError as exc:  # Newtonsoft's wording and place, as APIM's parser reports them
        raise ValueError(json_syntax_message(body.decode("utf-8", "replace"), exc)) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"The body is not UTF-8 text: {exc.reason}.") from None


def _check_json(spec: OperationSpec, schema: SchemaRef, body: bytes, direction: str, additional: bool | None,
                side: str, content_type: str, body_type: str, action: str) -> list[Finding]:
    preamble = _preamble(side, schema.name, content_type)
    try:
        instance = _json_instance(body)
    except ValueError as exc:
        return [Finding(content_type, body_type, "IncorrectMessage", f"{preamble} {exc}", action)]
    try:
        validator = spec.schemas.validator(schema, direction, additional)
    except SchemaError as exc:
        return [Finding(schema.name, "ApiSchema", "ValidationException", str(exc), action, INTERNAL_ERROR)]
    return _json_findings(validator.problems(instance), preamble, content_type, body_type, action)


def _json_findings(problems: list[SchemaProblem], preamble: str, content_type: str, body_type: str,
                   action: str) -> list[Finding]:
    return [
        Finding(content_type, body_type, "IncorrectMessage",
                f"{preamble} {problem.message}" + (f" Path: '{problem.path}'." if problem.path else ""), action)
        for problem in problems
    ]


def _check_instance_schema(ctx: Context, rule: _ContentRule, body: bytes, direction: str, side: str,
                           content_type: str, body_type: str, action: str) -> list[Finding]:
    """`schema-id`: the body against a schema added to the instance (a JSON schema or an XML schema)."""
    schema = ctx.services.schema(rule.schema_id) if ctx.services is not None else None
    if schema is None:  # checked when the configuration loads; a policy run outside a gateway has none
        return [Finding(rule.schema_id, "ApiSchema", "MissingDefinition",
                        f"No schema with id '{rule.schema_id}' is configured.", action, INTERNAL_ERROR)]
    wanted = "json" if rule.kind == "json" else "xml"
    if schema.kind != wanted:
        return [Finding(rule.schema_id, "ApiSchema", "ValidationException",
                        f"Schema '{rule.schema_id}' is a {schema.kind} schema; validate-as=\"{rule.kind}\" needs "
                        f"a {wanted} schema.", action, INTERNAL_ERROR)]
    if wanted == "xml":
        return _check_xml(body, rule.kind, side, rule.schema_id, content_type, body_type, action, schema)
    preamble = _preamble(side, rule.schema_id, content_type)
    try:
        problems = schema.json_problems(_json_instance(body), direction, rule.additional)
    except ValueError as exc:
        return [Finding(content_type, body_type, "IncorrectMessage", f"{preamble} {exc}", action)]
    return _json_findings(problems, preamble, content_type, body_type, action)
