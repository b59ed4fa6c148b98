"""`<emit-metric>`: count a custom metric, exposed as a Prometheus series on /metrics."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Constant, Flow, Policy, Value
from engine.schema import Attr, Child, Float, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.metrics import Counter, Metrics
    from engine.model import PolicyElement

log = logging.getLogger("policygate.metrics")
METRIC_PREFIX = "policygate_custom_"
MAX_DIMENSIONS = 10
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def default_dimension(ctx: Context, name: str) -> str:
    key = name.lower()
    if key == "api id":
        return ctx.api.id if ctx.api else ""
    if key == "operation id":
        return ctx.operation.id if ctx.operation else ""
    if key == "product id":
        return ctx.product.id if ctx.product else ""
    if key == "user id":
        return ctx.user.id if ctx.user else ""
    if key == "subscription id":
        return ctx.subscription.id if ctx.subscription else ""
    if key == "location":
        return ctx.deployment.region
    if key == "gateway id":
        return ctx.deployment.gateway_id
    return ""


DEFAULT_DIMENSIONS = ("api id", "operation id", "product id", "user id", "subscription id", "location", "gateway id")


def prometheus_name(name: str) -> str:
    """A valid Prometheus metric or label name: invalid characters become '_'."""
    cleaned = _INVALID.sub("_", name.strip())
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"


def metric_name(name: str) -> str:
    """The counter's series name: `policygate_custom_<name>_total` (Prometheus names counters `_total`)."""
    cleaned = prometheus_name(name).lower()
    return METRIC_PREFIX + (cleaned if cleaned.endswith("_total") else cleaned + "_total")


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    value: Value | None  # None: one of the default dimensions, filled from the context


def check_dimensions(element: PolicyElement, diagnostics: Diagnostics, defaults: tuple[str, ...]) -> None:
    """Dimension names are unique labels; only the `defaults` (lower-case names) may omit `value`."""
    seen: set[str] = set()
    for dim in element.children_named("dimension"):
        name = dim.get("name")
        if name is None:
            continue
        label = prometheus_name(name.text).lower()
        if label in seen or label == "namespace":
            diagnostics.error("policy-duplicate-dimension", f"dimension '{name.text}' appears twice", dim.span)
        seen.add(label)
        if dim.get("value") is None and name.text.strip().lower() not in defaults:
            diagnostics.error(
                "policy-missing-attribute",
                f"dimension '{name.text}' needs a value (only default dimensions may omit it)",
                dim.span,
                hint="default dimensions: " + ", ".join(_display(n) for n in defaults),
            )


def _display(name: str) -> str:
    """`api id` -> `API ID`."""
    return " ".join(w.upper() if w in ("api", "id", "ip") else w.title() for w in name.split())


def build_dimensions(element: PolicyElement, builder: Builder) -> tuple[Dimension, ...]:
    dimensions = []
    for dim in element.children_named("dimension"):
        name = dim.get("name")
        text = name.text.strip() if name is not None else ""
        value = builder.value(dim, "value") if dim.get("value") is not None else None
        dimensions.append(Dimension(text, prometheus_name(text).lower(), value))
    return tuple(dimensions)


@dataclass(frozen=True)
class EmitMetricStep:
    name: str
    namespace: str
    value: Value
    dimensions: tuple[Dimension, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        metrics = ctx.services.metrics if ctx.services is not None else None
        if metrics is None:
            return None
        amount = self.value.get(ctx)
        amount = 1.0 if amount is None else float(amount)
        labels = ("namespace", *(d.label for d in self.dimensions))
        values = [self.namespace]
        for dim in self.dimensions:
            raw = dim.value.get(ctx) if dim.value is not None else default_dimension(ctx, dim.name)
            values.append("" if raw is None else str(raw))
        series = metric_name(self.name)
        counter = labelled_counter(metrics, series, f"Custom metric '{self.name}' emitted by <emit-metric>.", labels,
                                   "emit-metric")
        if counter is not None:
            counter.inc(*values, amount=amount)
        return None


def labelled_counter(metrics: Metrics, series: str, help_text: str, labels: tuple[str, ...], source: str) -> Counter | None:
    """The counter `series` with exactly `labels`; None (logged) when it exists with another type or labels."""
    try:
        counter = metrics.counter(series, help_text, labels)
    except TypeError:
        log.warning("%s: %s is already registered with another type; not emitted", source, series)
        return None
    if counter.label_names != labels:
        log.warning("%s: %s was first emitted with dimensions %s, not %s; not emitted",
                    source, series, counter.label_names[1:], labels[1:])
        return None
    return counter


class EmitMetric(Policy):
    """Add `value` (default 1) to the custom metric `name`, split by up to 10 dimensions.

    Exposed on the admin /metrics endpoint as the counter `policygate_custom_<name>_total` (invalid
    characters become `_`), labelled `namespace` plus one label per dimension. A dimension without
    `value` must be a default one (API ID, Operation ID, Product ID, User ID, Subscription ID,
    Location, Gateway ID) and is filled from the request context.
    """

    tag = "emit-metric"
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("name", Str(non_empty=True), required=True, expr=False, doc="Metric name."),
        Attr("value", Float(), default=1.0, doc="Value added (a double)."),
        Attr("namespace", Str(), default="API Management", expr=False, doc="Metric namespace (a label)."),
    )
    children = (
        Child(
            "dimension",
            attributes=(
                Attr("name", Str(non_empty=True), required=True, expr=False, doc="Dimension name."),
                Attr("value", Str(), doc="Dimension value; optional only for the default dimensions."),
            ),
            min=1,
            max=MAX_DIMENSIONS,
            doc="A dimension (label) of the metric.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_dimensions(element, diagnostics, DEFAULT_DIMENSIONS)

    def build(self, element: PolicyElement, builder: Builder) -> EmitMetricStep:
        dimensions = build_dimensions(element, builder)
        name = element.get("name")
        namespace = element.get("namespace")
        return EmitMetricStep(
            name.text.strip() if name is not None else "",
            namespace.text if namespace is not None else "API Management",
            builder.value(element, "value") if element.get("value") is not None else Constant(1.0),
            dimensions,
        )
