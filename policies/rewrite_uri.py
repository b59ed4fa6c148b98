"""rewrite-uri: change the backend path and query of the request."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from engine.policy import Builder, Flow, Policy, Step
from engine.schema import Attr, Bool, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

_PARAM = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_.-]*)\}")


class RewriteUri(Policy):
    """Rewrite the request URL sent to the backend (the part after the backend base URL).

    `template` is a path with an optional query; `{name}` is replaced by the operation's matched
    template parameter `name`. With `copy-unmatched-params` (default true) the query parameters
    of the original request that the operation template did not capture are kept (a parameter
    the new template sets wins). Example: operation `/get?a={b}`, request `/get?a=x&c=d`,
    `template="/put"` -> `/put?c=d` (`/put` with `copy-unmatched-params="false"`)."""

    tag = "rewrite-uri"
    sections = Section.INBOUND
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("template", Str(non_empty=True), required=True, doc="New path (and query), with {parameters}."),
        Attr("copy-unmatched-params", Bool(), default=True, doc="Keep query parameters the operation did not match."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        template = builder.value(element, "template")
        copy_unmatched = builder.value(element, "copy-unmatched-params")

        async def rewrite(ctx: Context) -> Flow | None:
            apply(ctx, str(template.get(ctx) or "/"), bool(copy_unmatched.get(ctx)))
            return None

        return rewrite


def apply(ctx: Context, template: str, copy_unmatched: bool) -> None:
    params = ctx.request.matched_parameters
    path_text, _, query_text = template.partition("?")
    path = _PARAM.sub(lambda m: quote(params.get(m.group(1), ""), safe="/:@!$&'()*+,;=-._~"), path_text)
    if not path.startswith("/"):
        path = "/" + path
    new_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_text, keep_blank_values=True):
        value = _PARAM.sub(lambda m: params.get(m.group(1), ""), value)
        new_query.setdefault(name, []).append(value)
    url = ctx.request.url
    if copy_unmatched:
        matched = _template_query_names(ctx.operation.url_template if ctx.operation else "")
        for name, values in url.query.items():
            if name not in matched and name not in new_query:
                new_query[name] = list(values)
    url.path = ctx.exchange.base_path + path
    url.query = new_query


@lru_cache(maxsize=1024)
def _template_query_names(url_template: str) -> frozenset[str]:
    """Query parameter names an operation template captures (`/get?a={b}` -> {"a"})."""
    _, _, query = url_template.partition("?")
    return frozenset(part.split("=", 1)[0] for part in query.split("&") if part)
