"""The request context of `policygate eval`: command-line options and/or a `--context` file.

The file (YAML or JSON) has any of these sections; keys are the C# member names (`Name`,
`UrlTemplate`) or their snake_case spelling (`url_template`):

    request:      {method, url, headers: {name: value | [values]}, body: text | JSON value, ip_address,
                   matched_parameters: {name: value}}
    api:          {id, name, path, service_url, version, revision, ...}
    operation:    {id, name, method, url_template}
    product:      {id, name, state, groups: [name | {id, name}]}
    subscription: {id, key, name, primary_key, secondary_key}
    user:         {id, email, first_name, last_name, note, groups: [name | {id, name}]}
    variables:    {name: value}
    response:     {status_code, status_reason, headers, body}
    last_error:   {source, reason, message, scope, section, path, policy_id}
    deployment:   {gateway_id, region, service_name, service_id, gateway: {id, instance_id, is_managed}}

Options given on the command line win over the file. Without either, `context.Api` and
`context.Operation` describe the synthetic request (so `context.Api.Name` has a value), and
product, subscription, user and last error are null, as for an anonymous APIM request.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.context import (
    Api,
    Context,
    Deployment,
    Gateway,
    Group,
    Headers,
    LastError,
    MessageBody,
    Operation,
    Product,
    Request,
    Response,
    Subscription,
    Url,
    User,
)

SECTIONS: dict[str, type] = {"api": Api, "operation": Operation, "product": Product, "subscription": Subscription,
                             "user": User, "last_error": LastError, "deployment": Deployment}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", metavar="FILE", help="YAML or JSON file describing the request context")
    parser.add_argument("--api", metavar="NAME", help="context.Api.Name (and Id)")
    parser.add_argument("--operation", metavar="NAME", help="context.Operation.Name (and Id)")
    parser.add_argument("--product", metavar="NAME", help="context.Product.Name (and Id)")
    parser.add_argument("--subscription", metavar="KEY", help="context.Subscription.Key (and PrimaryKey)")
    parser.add_argument("--user", metavar="EMAIL", help="context.User.Email (and Id)")
    parser.add_argument("--group", action="append", default=[], metavar="NAME", help="a group of context.User")
    parser.add_argument("--param", action="append", default=[], metavar="k=v",
                        help="a matched template parameter (context.Request.MatchedParameters)")
    parser.add_argument("--status", type=int, metavar="CODE", help="context.Response.StatusCode")
    parser.add_argument("--response-header", action="append", default=[], metavar="'K: V'",
                        help="a context.Response header")
    parser.add_argument("--response-body", metavar="FILE", help="context.Response body file")


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def _build(cls: type, data: Any, where: str) -> Any:
    """A model dataclass from a mapping whose keys are C# or snake_case member names."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping, got {type(data).__name__}")
    fields = {_key(f.name): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        f = fields.get(_key(str(key)))
        if f is None:
            known = ", ".join(sorted(f.name for f in dataclasses.fields(cls)))
            raise ValueError(f"{where}: unknown member '{key}' (known: {known})")
        values[f.name] = _convert(f.name, value, f"{where}.{key}")
    return cls(**values)


def _convert(name: str, value: Any, where: str) -> Any:
    if name == "groups":
        return [Group(id=g, name=g) if isinstance(g, str) else _build(Group, g, where) for g in value or []]
    if name == "gateway":
        return _build(Gateway, value, where)
    if name == "service_url" and value is not None:
        return Url.parse(str(value))
    if name.endswith("_date") and isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def _headers(data: Any, where: str) -> Headers:
    headers = Headers()
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping of header names to values")
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            headers.add(str(name), str(item))
    return headers


def _body(value: Any) -> MessageBody | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    return MessageBody(text.encode())


def _header_lines(lines: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header must look like 'Name: value', got {line!r}")
        out.append((name.strip(), value.strip()))
    return out


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} must look like k=v, got {item!r}")
        out[key] = value
    return out


def load_file(path: str) -> dict[str, Any]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        import yaml

        data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - YAML is a superset of JSON: one parser, one message
        raise ValueError(f"{path}: not valid YAML or JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the context file must be a mapping of sections")
    unknown = set(data) - {*SECTIONS, "request", "response", "variables"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    return data


def build_context(args: argparse.Namespace, request: Request, variables: dict[str, Any]) -> Context:
    """`request` and `variables` come from the basic options; the file and the other options add the rest."""
    data = load_file(args.context) if args.context else {}
    req = data.get("request") or {}
    if not isinstance(req, dict):
        raise ValueError("request must be a mapping")
    if "method" in req and args.method == "GET":
        request.method = str(req["method"]).upper()
    if "url" in req and args.url == "https://localhost/":
        request.url = Url.parse(str(req["url"]))
        request.original_url = request.url.copy()
    if "headers" in req:
        given = {name.lower() for name, _ in request.headers.items()}
        for name, values in _headers(req["headers"], "request.headers").items():
            if name.lower() not in given:  # -H wins over the file
                for value in values:
                    request.headers.add(name, value)
    if "body" in req and request.body is None:
        request.body = _body(req["body"])
    if "ip_address" in req or "IpAddress" in req:
        request.ip_address = str(req.get("ip_address", req.get("IpAddress")))
    params = dict(req.get("matched_parameters") or req.get("MatchedParameters") or {})
    params.update(_pairs(args.param, "--param"))
    request.matched_parameters = {str(k): str(v) for k, v in params.items()}

    parts: dict[str, Any] = {name: _build(cls, data[name], name) for name, cls in SECTIONS.items() if data.get(name)}
    if args.api:
        parts["api"] = dataclasses.replace(parts.get("api") or Api(), id=args.api, name=args.api)
    if args.operation:
        parts["operation"] = dataclasses.replace(parts.get("operation") or Operation(), id=args.operation,
                                                 name=args.operation)
    if args.product:
        parts["product"] = dataclasses.replace(parts.get("product") or Product(), id=args.product, name=args.product)
    if args.subscription:
        parts["subscription"] = dataclasses.replace(parts.get("subscription") or Subscription(id="subscription"),
                                                    key=args.subscription, primary_key=args.subscription)
    if args.user or args.group:
        user = parts.get("user") or User(id=args.user or "user", email=args.user or "")
        groups = [*user.groups, *(Group(id=g, name=g) for g in args.group)]
        parts["user"] = dataclasses.replace(user, email=args.user or user.email, groups=groups)
    parts.setdefault("api", Api(id="eval", name="eval", path=request.url.path.strip("/").split("/")[0]))
    parts.setdefault("operation", Operation(id=request.method.lower(), name=request.method.lower(),
                                            method=request.method, url_template=request.url.path))

    response = _response(data.get("response"), args)
    file_variables = data.get("variables") or {}
    if not isinstance(file_variables, dict):
        raise ValueError("variables must be a mapping")
    return Context(request=request, response=response, variables={**file_variables, **variables}, **parts)


def _response(data: Any, args: argparse.Namespace) -> Response:
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError("response must be a mapping")
    status = args.status if args.status is not None else int(data.get("status_code") or data.get("StatusCode") or 200)
    reason = str(data.get("status_reason", data.get("StatusReason", "OK" if status == 200 else "")))
    headers = _headers(data.get("headers") or {}, "response.headers")
    for name, value in _header_lines(args.response_header):
        headers.add(name, value)
    body = MessageBody(Path(args.response_body).read_bytes()) if args.response_body else _body(data.get("body"))
    return Response(status, reason, headers, body)
