"""Checking a step's expectations against what a request produced; each miss becomes a located `Failure`.

Matching rules (docs/testing.md): text values are compared exactly, unless the expected value is
`{matches: REGEX}` or `{contains: TEXT}`; `null` means absent and `true` means present (headers);
JSON values are fragments: every expected key must be there with a matching value, other keys are
ignored; lists must have the same length.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.source import Span
from engine.testing.spec import CallExpectation, Expectations, Located
from engine.testing.upstream import Call

if TYPE_CHECKING:
    from engine.testing.harness import Harness, Result

MATCHERS = ("matches", "contains")
_METRIC = re.compile(r'^\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{(.*)\})?\s*$')
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*,?')


@dataclass
class Failure:
    """One expectation that did not hold."""

    span: Span
    what: str
    expected: str
    actual: str
    diff: list[str] = field(default_factory=list)

    def render(self, indent: str = "") -> str:
        lines = [f"{indent}{self.span}: {self.what}"]
        if self.diff:
            lines += [f"{indent}  {line}" for line in self.diff]
        else:
            lines.append(f"{indent}  expected: {self.expected}")
            lines.append(f"{indent}  actual:   {self.actual}")
        return "\n".join(lines)


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in MATCHERS


def match_text(expected: Any, actual: str | None) -> bool:
    """Text comparison with `{matches: ...}` / `{contains: ...}`, null = absent, true = present."""
    if expected is None or expected is False:
        return actual is None
    if expected is True:
        return actual is not None
    if actual is None:
        return False
    if is_matcher(expected):
        kind, pattern = next(iter(expected.items()))
        if kind == "matches":
            return re.search(str(pattern), actual) is not None
        return str(pattern) in actual
    return _scalar_text(expected) == actual


def match_json(expected: Any, actual: Any) -> bool:
    """`expected` is a fragment of `actual` (see the module docstring)."""
    if is_matcher(expected):
        return isinstance(actual, str) and match_text(expected, actual)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and match_json(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(match_json(e, a) for e, a in zip(expected, actual, strict=True)))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def project(expected: Any, actual: Any) -> Any:
    """`actual` cut down to the keys `expected` names, so a fragment's diff shows only what it checks."""
    if isinstance(expected, dict) and isinstance(actual, dict) and not is_matcher(expected):
        return {key: project(expected[key], actual[key]) for key in actual if key in expected}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [project(e, a) for e, a in zip(expected, actual, strict=True)]
    return actual


def plain_value(value: Any) -> Any:
    """A context value (JToken, DateTime, Response...) as JSON-like Python data for comparison."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    from engine.dotnet.newtonsoft import JToken

    if isinstance(value, JToken):
        return json.loads(value.ToString(0))
    from engine.context import Response

    if isinstance(value, Response):
        body = value.body.content.decode("utf-8", "replace") if value.body is not None else ""
        return {"status": value.status_code, "reason": value.status_reason,
                "headers": {name: ",".join(values) for name, values in value.headers.items()}, "body": body}
    from engine.dotnet.conversions import to_string

    return to_string(value)


def show(value: Any) -> str:
    if value is None:
        return "(absent)"
    if is_matcher(value):
        kind, pattern = next(iter(value.items()))
        return f"text that {'matches' if kind == 'matches' else 'contains'} {json.dumps(pattern)}"
    if value is True:
        return "(present)"
    return json.dumps(value, ensure_ascii=False, default=str)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _pretty(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str).splitlines()


def text_diff(expected: Any, actual: Any) -> list[str]:
    """A unified diff (expected -> actual) for multi-line values, else nothing."""
    old, new = _pretty(expected), _pretty(actual)
    if len(old) <= 1 and len(new) <= 1:
        return []
    return list(difflib.unified_diff(old, new, "expected", "actual", lineterm="", n=2))


class Checker:
    """Collects failures for one step."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []

    def fail(self, span: Span, what: str, expected: Any, actual: Any, diff: bool = False) -> None:
        lines = text_diff(expected, actual) if diff else []
        self.failures.append(Failure(span, what, show(expected), show(actual), lines))

    def text(self, item: Located, what: str, actual: str | None, diff: bool = False) -> None:
        if not match_text(item.value, actual):
            self.fail(item.span, what, item.value, actual, diff and not is_matcher(item.value))

    def json(self, item: Located, what: str, body: bytes) -> None:
        try:
            actual = json.loads(body) if body.strip() else None
        except ValueError:
            self.failures.append(Failure(item.span, what, show(item.value), "not JSON: " + _preview(body)))
            return
        if not match_json(item.value, actual):
            self.fail(item.span, what + " (fragment)", item.value, project(item.value, actual), diff=True)

    def value(self, item: Located, what: str, actual: Any) -> None:
        plain = plain_value(actual)
        if is_matcher(item.value):
            ok = isinstance(plain, str) and match_text(item.value, plain)
        else:
            ok = match_json(item.value, plain)
        if not ok:
            self.fail(item.span, what, item.value, project(item.value, plain), diff=True)

    # -- the parts of a result ------------------------------------------------------------------------
    def response(self, expect: dict[str, Located], result: Result) -> None:
        for key, item in expect.items():
            if key == "status":
                if item.value != result.status:
                    self.fail(item.span, "response status", item.value, result.status)
            elif key == "reason":
                self.text(item, "response reason", result.reason)
            elif key == "headers":
                for name, value in item.value.items():
                    if isinstance(value, list):  # every value, in order (one per header line)
                        actual = result.headers.get_list(name)
                        if [_scalar_text(v) for v in value] != actual:
                            self.fail(item.span, f"response header {name} values", value, actual or None)
                        continue
                    self.text(Located(value, item.span), f"response header {name}", result.headers.get(name))
            elif key == "body":
                self.text(item, "response body", result.text, diff=True)
            elif key == "json":
                self.json(item, "response JSON", result.body)

    def calls(self, expect: CallExpectation, calls: list[Call], who: str) -> None:
        if expect.called is not None and bool(expect.called.value) != bool(calls):
            self.failures.append(Failure(expect.called.span, f"{who} called", _yes_no(expect.called.value),
                                         f"{_yes_no(calls)} ({len(calls)} call{'s' if len(calls) != 1 else ''})"))
        if expect.calls is not None and expect.calls.value != len(calls):
            self.fail(expect.calls.span, f"{who} calls", expect.calls.value, len(calls))
        groups = [(f"{who} request", 0, expect.fields)] if expect.fields else []
        groups += [(f"{who} request {i + 1}", i, fields) for i, fields in enumerate(expect.each) if fields]
        for label, index, fields in groups:
            if index >= len(calls):
                first = next(iter(fields.values()))
                self.failures.append(Failure(first.span, label, "a request",
                                             f"{who} was called {len(calls)} time{'s' if len(calls) != 1 else ''}"))
                continue
            self.call_fields(fields, calls[index], label)

    def call_fields(self, fields: dict[str, Located], call: Call, who: str) -> None:
        for key, item in fields.items():
            what = f"{who} {key}"
            if key == "method":
                self.text(Located(str(item.value).upper(), item.span), what, call.method.upper())
            elif key == "url":
                self.text(item, what, call.url)
            elif key == "path":
                self.text(item, what, call.path)
            elif key == "headers":
                for name, value in (item.value or {}).items():
                    self.text(Located(value, item.span), f"{who} header {name}", call.headers.get(name))
            elif key == "body":
                self.text(item, what, call.text, diff=True)
            elif key == "json":
                self.json(item, f"{who} JSON", call.body)


async def check(expect: Expectations, result: Result, harness: Harness) -> list[Failure]:
    """Every failed expectation of one step."""
    checker = Checker()
    checker.response(expect.response, result)
    if expect.backend is not None:
        checker.calls(expect.backend, result.backend_calls, "backend")
    for url, target in expect.targets.items():
        calls = [call for call in result.target_calls if call.url.startswith(url)]
        checker.calls(target, calls, f"target {url}")
    for name, item in expect.variables.items():
        variables = result.variables
        if name not in variables:
            if item.value is not None:
                checker.fail(item.span, f"variable {name}", item.value, None)
            continue
        checker.value(item, f"variable {name}", variables[name])
    for key, item in expect.cache.items():
        found, value = await harness.cache_value(key)
        if item.value is None:
            if found:
                checker.fail(item.span, f"cache entry {key}", None, plain_value(value))
        elif not found:
            checker.fail(item.span, f"cache entry {key}", item.value, None)
        else:
            checker.value(item, f"cache entry {key}", value)
    for entry, span in expect.rate_limits:
        remaining = await harness.rate_limit_remaining(str(entry["counter-key"]), entry["calls"], entry["renewal-period"])
        if remaining != entry["remaining"]:
            checker.fail(span, f"rate-limit counter {entry['counter-key']} remaining", entry["remaining"], remaining)
    if expect.metrics:
        series = {metric_key(name): value for name, value in harness.metric_values().items()}
        for name, item in expect.metrics.items():
            actual = series.get(metric_key(name), 0.0)
            if float(item.value) != actual:
                checker.fail(item.span, f"metric {name}", item.value, actual)
    for item in expect.traces:
        if not any(_trace_matches(item.value, trace) for trace in result.traces):
            written = [message for _, _, message in result.traces]
            checker.fail(item.span, "trace message", item.value, written or "(no traces)")
    if expect.last_error is not None:
        _check_last_error(checker, expect.last_error, result)
    return checker.failures


def _trace_matches(expected: Any, trace: tuple[str, str, str]) -> bool:
    source, severity, message = trace
    if isinstance(expected, dict) and not is_matcher(expected):
        actual = {"source": source, "severity": severity, "message": message}
        return all(match_text(value, actual.get(key)) for key, value in expected.items())
    if isinstance(expected, str):
        return expected in message
    return match_text(expected, message)


def _check_last_error(checker: Checker, item: Located, result: Result) -> None:
    error = result.last_error
    if item.value is None:
        if error is not None:
            checker.fail(item.span, "context.LastError", None, {"reason": error.reason, "message": error.message})
        return
    if error is None:
        checker.fail(item.span, "context.LastError", item.value, None)
        return
    fields: dict[str, Callable[[], str]] = {
        "source": lambda: error.source, "reason": lambda: error.reason, "message": lambda: error.message,
        "scope": lambda: error.scope, "section": lambda: error.section, "path": lambda: error.path,
        "policy-id": lambda: error.policy_id,
    }
    for key, value in item.value.items():
        checker.text(Located(value, item.span), f"context.LastError.{key}", fields[key]())


def metric_key(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`name{a="1",b="2"}` -> (name, sorted labels): label order and quoting do not matter."""
    match = _METRIC.match(text)
    if match is None:
        return text.strip(), ()
    labels = tuple(sorted((m.group(1), m.group(2) if m.group(2) is not None else m.group(3).strip())
                          for m in _LABEL.finditer(match.group(2) or "")))
    return match.group(1), labels


def _yes_no(value: Any) -> str:
    return "called" if value else "not called"


def _preview(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return json.dumps(text[:200] + ("..." if len(text) > 200 else ""))
