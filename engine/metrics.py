"""A small Prometheus-text metrics registry: labelled counters, gauges and histograms.

Updating a metric is a dict update (the request path pays nothing more). `snapshot()` turns a
registry into plain data and `absorb(snapshot)` adds one into another registry, which is how the
admin endpoint of a multi-worker gateway shows the sum of every worker (engine/gateway/worker_metrics.py).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    """A sample value in full precision (`:g` would print 1234567 as 1.23457e+06)."""
    value = float(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Counter:
    """A monotonically increasing counter per label combination."""

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, value in sorted(self._values.items()):
            lines.append(f"{self.name}{_labels(self.label_names, labels)} {_number(value)}")
        return lines

    def snapshot(self) -> dict[str, Any]:
        return {"kind": "counter", "help": self.help, "labels": list(self.label_names),
                "series": [[list(labels), value] for labels, value in list(self._values.items())]}

    def absorb(self, series: list[list[Any]]) -> None:
        """Add another registry's series (counters add up)."""
        for labels, value in series:
            self.inc(*labels, amount=float(value))


class Gauge(Counter):
    """A value that goes up and down."""

    def set(self, *labels: str, value: float) -> None:
        self._values[labels] = value

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "kind": "gauge"}

    def absorb(self, series: list[list[Any]]) -> None:
        """Merge another registry's series (the highest value wins: "is any breaker open")."""
        for labels, value in series:
            key = tuple(labels)
            self._values[key] = max(self._values.get(key, float("-inf")), float(value))

    def render(self) -> list[str]:
        lines = super().render()
        lines[1] = f"# TYPE {self.name} gauge"
        return lines


class Histogram:
    """Cumulative-bucket histogram per label combination (seconds by default)."""

    def __init__(
        self, name: str, help: str, labels: Sequence[str] = (), buckets: Sequence[float] = DEFAULT_BUCKETS
    ) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], list[float]] = {}  # bucket counts..., +Inf count, sum

    def observe(self, value: float, *labels: str) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = [0.0] * (len(self.buckets) + 2)
        series[bisect.bisect_left(self.buckets, value)] += 1
        series[-1] += value

    def count(self, *labels: str) -> int:
        series = self._series.get(labels)
        return int(sum(series[:-1])) if series else 0

    def snapshot(self) -> dict[str, Any]:
        return {"kind": "histogram", "help": self.help, "labels": list(self.label_names), "buckets": list(self.buckets),
                "series": [[list(labels), list(series)] for labels, series in list(self._series.items())]}

    def absorb(self, series: list[list[Any]]) -> None:
        """Add another registry's series (bucket counts and sums add up)."""
        for labels, values in series:
            mine = self._series.setdefault(tuple(labels), [0.0] * (len(self.buckets) + 2))
            for index, value in enumerate(values[: len(mine)]):
                mine[index] += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, series in sorted(self._series.items()):
            running = 0.0
            for bound, count in zip(self.buckets, series, strict=False):
                running += count
                le = 'le="' + format(bound, 'g') + '"'
                lines.append(f"{self.name}_bucket{_labels(self.label_names, labels, le)} {_number(running)}")
            running += series[len(self.buckets)]
            le = 'le="+Inf"'
            lines.append(f"{self.name}_bucket{_labels(self.label_names, labels, le)} {_number(running)}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, labels)} {_number(series[-1])}")
            lines.append(f"{self.name}_count{_labels(self.label_names, labels)} {_number(running)}")
        return lines


M = TypeVar("M", bound="Counter | Histogram")


class Metrics:
    """The registry: get-or-create metrics by name; `render()` is the /metrics body."""

    def __init__(self) -> None:
        self._metrics: dict[str, Counter | Histogram] = {}
        self._lock = threading.Lock()

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        return self._get(name, lambda: Counter(name, help, labels), Counter)

    def gauge(self, name: str, help: str, labels: Sequence[str] = ()) -> Gauge:
        return self._get(name, lambda: Gauge(name, help, labels), Gauge)

    def histogram(
        self, name: str, help: str, labels: Sequence[str] = (), buckets: Sequence[float] = DEFAULT_BUCKETS
    ) -> Histogram:
        return self._get(name, lambda: Histogram(name, help, labels, buckets), Histogram)

    def _get(self, name: str, factory: Callable[[], M], kind: type[M]) -> M:
        with self._lock:
            metric = self._metrics.get(name)
            if metric is None:
                metric = self._metrics[name] = factory()
            if not isinstance(metric, kind):
                raise TypeError(f"metric {name} already registered as {type(metric).__name__}")
            return metric

    def render(self) -> str:
        lines: list[str] = []
        for name in sorted(self._metrics):
            lines.extend(self._metrics[name].render())
        return "\n".join(lines) + "\n"

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every family as plain data (JSON-serialisable), for another process to `absorb`."""
        with self._lock:
            metrics = list(self._metrics.items())
        return {name: metric.snapshot() for name, metric in metrics}

    def absorb(self, snapshot: dict[str, dict[str, Any]], *, gauges: bool = True) -> None:
        """Add a snapshot into this registry; `gauges=False` skips gauges (a worker that has exited).

        A family whose type, labels or buckets differ from ours (possible for <emit-metric> series
        first emitted differently in two workers) is left out rather than mixed.
        """
        for name, family in snapshot.items():
            kind, labels, series = family.get("kind"), tuple(family.get("labels", ())), family.get("series", [])
            help = family.get("help", "")
            metric: Counter | Histogram
            try:
                if kind == "counter":
                    metric = self.counter(name, help, labels)
                elif kind == "gauge" and gauges:
                    metric = self.gauge(name, help, labels)
                elif kind == "histogram":
                    metric = self.histogram(name, help, labels, family.get("buckets", DEFAULT_BUCKETS))
                    if list(metric.buckets) != list(family.get("buckets", ())):
                        continue
                else:
                    continue
            except TypeError:
                continue
            if metric.label_names == labels:
                metric.absorb(series)
