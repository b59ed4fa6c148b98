"""The `*.policytest.yaml` format: read a test file into typed cases, or located diagnostics.

A file names what is under test (a gateway configuration, an APIOps folder, or a chain of
documents) and holds cases. Each case is one request, or `steps:` sent one after another against
the same gateway (cache, counters and clock carry over). Every value keeps its `file:line:col`, so
a failed expectation points at the line that states it. docs/testing.md documents the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from engine.diagnostics import Diagnostic, Severity
from engine.gateway.settings import UserSettings
from engine.source import Span
from engine.testing.identity import Identity
from engine.testing.upstream import Answer
from engine.testing.yamlpos import LocatedList, LocatedMap, YamlError, load_located

SCOPES = ("global", "product", "api", "operation")
FAILURES = ("connection", "timeout")


class TestFileError(Exception):
    """A test file that cannot be run; `diagnostic` says where and why."""

    __test__ = False  # not a pytest test class

    def __init__(self, span: Span, message: str, code: str = "test-invalid") -> None:
        super().__init__(f"{span}: error[{code}]: {message}")
        self.diagnostic = Diagnostic(code, Severity.ERROR, message, span)


@dataclass(frozen=True)
class Subject:
    """What a case runs: a configuration (gateway.yaml / APIOps folder) or a document chain."""

    config: Path | None = None
    documents: dict[str, Path] = field(default_factory=dict)  # scope -> document
    fragments: dict[str, Path] = field(default_factory=dict)
    named_values: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    redis: bool = False
    identity: Identity | None = None  # documents only: who calls (subscription, user, product)

    @property
    def key(self) -> tuple[object, ...]:
        """Cases with equal keys can share one compiled gateway."""
        return (self.config, tuple(sorted(self.documents.items())), tuple(sorted(self.fragments.items())),
                tuple(sorted(self.named_values.items())), tuple(sorted(self.env.items())), self.redis, self.identity)


@dataclass(frozen=True)
class Located:
    """An expected value and where the test file states it."""

    value: Any
    span: Span


@dataclass(frozen=True)
class CallExpectation:
    """What the backend or a send-request target should have received."""

    called: Located | None = None
    calls: Located | None = None
    fields: dict[str, Located] = field(default_factory=dict)  # method, url, path, headers, body, json
    each: tuple[dict[str, Located], ...] = ()  # `requests:` the same fields per call, in order


@dataclass(frozen=True)
class Expectations:
    """Everything a step may check; absent keys are not checked."""

    response: dict[str, Located] = field(default_factory=dict)  # status, reason, headers, body, json
    backend: CallExpectation | None = None
    targets: dict[str, CallExpectation] = field(default_factory=dict)
    variables: dict[str, Located] = field(default_factory=dict)
    cache: dict[str, Located] = field(default_factory=dict)
    rate_limits: tuple[tuple[dict[str, Any], Span], ...] = ()
    metrics: dict[str, Located] = field(default_factory=dict)
    traces: tuple[Located, ...] = ()
    last_error: Located | None = None


@dataclass(frozen=True)
class RequestSpec:
    method: str = "GET"
    url: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    client_ip: str = "127.0.0.1"
    subscription_key: str | None = None


@dataclass(frozen=True)
class Step:
    span: Span
    request: RequestSpec
    backend: tuple[Answer, ...]
    targets: dict[str, tuple[Answer, ...]]
    advance: float
    expect: Expectations


@dataclass(frozen=True)
class Case:
    name: str
    span: Span
    subject: Subject
    clock: datetime | None
    variables: dict[str, Any]
    cache: dict[str, Any]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class TestFile:
    __test__ = False

    path: Path
    cases: tuple[Case, ...]


def is_test_file(path: Path) -> bool:
    return path.name.endswith((".policytest.yaml", ".policytest.yml"))


def load_test_file(path: str | Path) -> TestFile:
    """Read and validate a test file; raises TestFileError (located) on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TestFileError(Span.point(str(path), 1, 1), f"cannot read the test file: {exc.strerror or exc}") from None
    try:
        data = load_located(text, str(path))
    except YamlError as exc:
        raise TestFileError(exc.span, exc.message, "test-yaml") from None
    return _Reader(path).file(data)


# -- reading ---------------------------------------------------------------------------------------

TOP_KEYS = ("config", "documents", "fragments", "named-values", "env", "redis", "identity", "cases")
SUBJECT_KEYS = ("config", "documents", "fragments", "named-values", "env", "redis", "identity")
IDENTITY_KEYS = ("subscription", "user", "product")
STEP_KEYS = ("request", "backend", "targets", "advance", "expect")
CASE_KEYS = (*SUBJECT_KEYS, "name", "clock", "variables", "cache", "steps", *STEP_KEYS)
REQUEST_KEYS = ("method", "url", "headers", "body", "json", "client-ip", "subscription-key")
ANSWER_KEYS = ("status", "reason", "headers", "body", "json", "delay", "fail")
EXPECT_KEYS = ("status", "reason", "headers", "body", "json", "backend", "targets", "variables", "cache",
               "rate-limits", "metrics", "traces", "last-error")
CALL_FIELDS = ("method", "url", "path", "headers", "body", "json")
CALL_KEYS = ("called", "calls", "requests", *CALL_FIELDS)
LAST_ERROR_KEYS = ("source", "reason", "message", "scope", "section", "path", "policy-id")
RATE_LIMIT_KEYS = ("counter-key", "calls", "renewal-period", "remaining")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, span: Span, message: str) -> NoReturn:
        raise TestFileError(span, message)

    def mapping(self, value: Any, span: Span, what: str, keys: tuple[str, ...] | None = None) -> LocatedMap:
        if not isinstance(value, LocatedMap):
            self.fail(span, f"{what}: expected a mapping, got {_kind(value)}")
        if keys is not None:
            for key in value:
                if key not in keys:
                    self.fail(value.where(key), f"{what}: unknown key '{key}' (known: {', '.join(keys)})")
        return value

    def string(self, value: Any, span: Span, what: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(span, f"{what}: expected a string, got {_kind(value)}")
        return str(value)

    def number(self, value: Any, span: Span, what: str, *, integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            self.fail(span, f"{what}: expected {'an integer' if integer else 'a number'}, got {_kind(value)}")
        return value

    def duration(self, value: Any, span: Span, what: str) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            match = _DURATION.match(str(value)) if isinstance(value, str) else None
            if match is None:
                self.fail(span, f"{what}: expected seconds or a duration like 500ms, 30s, 2m, got {value!r}")
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
        if seconds < 0:
            self.fail(span, f"{what}: must not be negative")
        return seconds

    def path_value(self, value: Any, span: Span, what: str) -> Path:
        path = (self.base / self.string(value, span, what)).resolve()
        if not path.exists():
            self.fail(span, f"{what}: {path} does not exist")
        return path

    def strings(self, value: Any, span: Span, what: str) -> dict[str, str]:
        table = self.mapping(value, span, what)
        return {key: self.string(item, table.where(key), f"{what}.{key}") for key, item in table.items()}

    # -- the file ---------------------------------------------------------------------------------
    def file(self, data: Any) -> TestFile:
        top = self.mapping(data, Span.point(str(self.path), 1, 1), "test file", TOP_KEYS)
        defaults = self.subject(top, Subject())
        cases_value = top.get("cases")
        if not isinstance(cases_value, LocatedList) or not cases_value:
            self.fail(top.where("cases"), "cases: expected a non-empty list of cases")
        cases = []
        names: set[str] = set()
        for index, item in enumerate(cases_value):
            case = self.case(item, cases_value.where(index), defaults)
            if case.name in names:
                self.fail(case.span, f"case name '{case.name}' is used twice in this file")
            names.add(case.name)
            cases.append(case)
        return TestFile(self.path, tuple(cases))

    def subject(self, table: LocatedMap, inherited: Subject) -> Subject:
        config = inherited.config
        documents = dict(inherited.documents)
        if "config" in table:
            config = self.path_value(table["config"], table.where("config"), "config")
            documents = {}
        if "documents" in table:
            docs = self.mapping(table["documents"], table.where("documents"), "documents", SCOPES)
            documents = {scope: self.path_value(v, docs.where(scope), f"documents.{scope}") for scope, v in docs.items()}
            if not documents:
                self.fail(table.where("documents"), "documents: name at least one document")
            if "config" not in table:
                config = None
        if config is not None and documents:
            self.fail(table.where("documents"), "name either config or documents, not both")
        fragments = dict(inherited.fragments)
        if "fragments" in table:
            frags = self.mapping(table["fragments"], table.where("fragments"), "fragments")
            fragments = {name: self.path_value(v, frags.where(name), f"fragments.{name}") for name, v in frags.items()}
        named = dict(inherited.named_values)
        if "named-values" in table:
            named.update(self.strings(table["named-values"], table.where("named-values"), "named-values"))
        env = dict(inherited.env)
        if "env" in table:
            env.update(self.strings(table["env"], table.where("env"), "env"))
        redis = inherited.redis
        if "redis" in table:
            if not isinstance(table["redis"], bool):
                self.fail(table.where("redis"), "redis: expected true or false")
            redis = table["redis"]
        identity = inherited.identity
        if "identity" in table:
            identity = self.identity(table["identity"], table.where("identity"))
        if identity is not None and config is not None:
            self.fail(table.where("identity") if "identity" in table else table.where("config"),
                      "identity: only with documents (a configuration names its own subscriptions)")
        return Subject(config, documents, fragments, named, env, redis, identity)

    def identity(self, value: Any, span: Span) -> Identity:
        table = self.mapping(value, span, "identity", IDENTITY_KEYS)

        def part(name: str, keys: tuple[str, ...]) -> LocatedMap:
            if name not in table:
                empty = LocatedMap()
                empty.span, empty.key_spans = span, {}
                return empty
            return self.mapping(table[name], table.where(name), f"identity.{name}", keys)

        def text(part_table: LocatedMap, key: str, what: str, default: str) -> str:
            if key not in part_table:
                return default
            return self.string(part_table[key], part_table.where(key), f"identity.{what}.{key}")

        def groups(part_table: LocatedMap, what: str) -> tuple[str, ...]:
            items = part_table.get("groups", [])
            if not isinstance(items, list):
                self.fail(part_table.where("groups"), f"identity.{what}.groups: expected a list")
            return tuple(self.string(g, part_table.where("groups"), f"identity.{what}.groups") for g in items)

        default = Identity()
        sub = part("subscription", ("id", "name", "key"))
        user = part("user", ("id", "email", "first-name", "last-name", "note", "groups"))
        product = part("product", ("id", "name", "groups"))
        return Identity(
            subscription_id=text(sub, "id", "subscription", default.subscription_id),
            subscription_name=text(sub, "name", "subscription", default.subscription_name),
            key=text(sub, "key", "subscription", default.key),
            user=UserSettings(
                id=text(user, "id", "user", default.user.id), email=text(user, "email", "user", default.user.email),
                first_name=text(user, "first-name", "user", ""), last_name=text(user, "last-name", "user", ""),
                note=text(user, "note", "user", ""), groups=groups(user, "user"),
            ),
            product_id=text(product, "id", "product", default.product_id),
            product_name=text(product, "name", "product", default.product_name),
            product_groups=groups(product, "product"),
        )

    def case(self, item: Any, span: Span, defaults: Subject) -> Case:
        table = self.mapping(item, span, "case", CASE_KEYS)
        if "name" not in table:
            self.fail(span, "case: 'name' is required")
        name = self.string(table["name"], table.where("name"), "name")
        subject = self.subject(table, defaults)
        if subject.config is None and not subject.documents:
            self.fail(span, f"case '{name}': name a config or documents (in the case or at the top of the file)")
        clock = self.clock(table["clock"], table.where("clock")) if "clock" in table else None
        variables = dict(self.mapping(table["variables"], table.where("variables"), "variables")) if "variables" in table else {}
        cache = dict(self.mapping(table["cache"], table.where("cache"), "cache")) if "cache" in table else {}
        step_keys = [key for key in STEP_KEYS if key in table]
        if "steps" in table:
            for key in step_keys:
                if key not in ("backend", "targets"):
                    self.fail(table.where(key), f"'{key}' belongs inside each step when a case has steps")
            steps_value = table["steps"]
            if not isinstance(steps_value, LocatedList) or not steps_value:
                self.fail(table.where("steps"), "steps: expected a non-empty list")
            steps = tuple(self.step(s, steps_value.where(i), table) for i, s in enumerate(steps_value))
        else:
            if "request" not in table:
                self.fail(span, f"case '{name}': 'request' (or 'steps') is required")
            steps = (self.step(table, span, None),)
        return Case(name, span, subject, clock, _plain(variables), _plain(cache), steps)

    def clock(self, value: Any, span: Span) -> datetime:
        text = self.string(value, span, "clock")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(span, f"clock: expected an ISO 8601 time like 2026-01-31T12:00:00Z, got {text!r}")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def step(self, item: Any, span: Span, case: LocatedMap | None) -> Step:
        table = self.mapping(item, span, "step", STEP_KEYS if case is not None else None)
        if "request" not in table:
            self.fail(span, "step: 'request' is required")
        inherited = case if case is not None else LocatedMap()
        backend_source = table if "backend" in table else inherited
        targets_source = table if "targets" in table else inherited
        backend = self.answers(backend_source["backend"], backend_source.where("backend"), "backend") \
            if "backend" in backend_source else ()
        targets = {}
        if "targets" in targets_source:
            table_t = self.mapping(targets_source["targets"], targets_source.where("targets"), "targets")
            targets = {url: self.answers(a, table_t.where(url), f"targets.{url}") for url, a in table_t.items()}
        advance = self.duration(table["advance"], table.where("advance"), "advance") if "advance" in table else 0.0
        expect = self.expect(table["expect"], table.where("expect")) if "expect" in table else Expectations()
        return Step(span, self.request(table["request"], table.where("request")), backend, targets, advance, expect)

    def request(self, value: Any, span: Span) -> RequestSpec:
        if isinstance(value, str):  # "GET /path"
            method, _, url = value.strip().partition(" ")
            return RequestSpec(method.upper(), url.strip() or "/")
        table = self.mapping(value, span, "request", REQUEST_KEYS)
        url = self.string(table.get("url", "/"), table.where("url"), "request.url")
        if not (url.startswith("/") or url.startswith("http://") or url.startswith("https://")):
            self.fail(table.where("url"), "request.url: expected a path starting with / or an absolute http(s) URL")
        headers = self.headers(table, "request.headers")
        if "json" in table and not any(name.lower() == "content-type" for name, _ in headers):
            headers += (("Content-Type", "application/json"),)
        return RequestSpec(
            method=self.string(table.get("method", "GET"), table.where("method"), "request.method").upper(),
            url=url,
            headers=headers,
            body=self.body(table, "request"),
            client_ip=self.string(table.get("client-ip", "127.0.0.1"), table.where("client-ip"), "request.client-ip"),
            subscription_key=self.string(table["subscription-key"], table.where("subscription-key"),
                                         "request.subscription-key") if "subscription-key" in table else None,
        )

    def headers(self, table: LocatedMap, what: str) -> tuple[tuple[str, str], ...]:
        if "headers" not in table:
            return ()
        headers = self.mapping(table["headers"], table.where("headers"), what)
        pairs = []
        for name, value in headers.items():
            values = value if isinstance(value, list) else [value]
            pairs += [(name, self.string(v, headers.where(name), f"{what}.{name}")) for v in values]
        return tuple(pairs)

    def body(self, table: LocatedMap, what: str) -> bytes | None:
        if "body" in table and "json" in table:
            self.fail(table.where("json"), f"{what}: give either body or json")
        if "json" in table:
            return json.dumps(_plain(table["json"])).encode()
        if "body" in table:
            return self.string(table["body"], table.where("body"), f"{what}.body").encode()
        return None

    def answers(self, value: Any, span: Span, what: str) -> tuple[Answer, ...]:
        if isinstance(value, LocatedList):
            if not value:
                self.fail(span, f"{what}: expected at least one answer")
            return tuple(self.answer(item, value.where(i), f"{what}[{i + 1}]") for i, item in enumerate(value))
        return (self.answer(value, span, what),)

    def answer(self, value: Any, span: Span, what: str) -> Answer:
        table = self.mapping(value, span, what, ANSWER_KEYS)
        fail = None
        if "fail" in table:
            fail = self.string(table["fail"], table.where("fail"), f"{what}.fail")
            if fail not in FAILURES:
                self.fail(table.where("fail"), f"{what}.fail: expected one of {', '.join(FAILURES)}")
        status = int(self.number(table.get("status", 200), table.where("status"), f"{what}.status", integer=True))
        if not 100 <= status <= 599:
            self.fail(table.where("status"), f"{what}.status: expected 100-599")
        headers = self.headers(table, f"{what}.headers")
        if "json" in table and not any(name.lower() == "content-type" for name, _ in headers):
            headers += (("Content-Type", "application/json"),)
        return Answer(
            status=status,
            reason=self.string(table["reason"], table.where("reason"), f"{what}.reason") if "reason" in table else None,
            headers=headers,
            body=self.body(table, what) or b"",
            delay=self.duration(table["delay"], table.where("delay"), f"{what}.delay") if "delay" in table else 0.0,
            fail=fail,
        )

    # -- expectations -------------------------------------------------------------------------------
    def expect(self, value: Any, span: Span) -> Expectations:
        table = self.mapping(value, span, "expect", EXPECT_KEYS)

        def at(key: str) -> Located:
            return Located(_plain(table[key]), table.where(key))

        response = {key: at(key) for key in ("status", "reason", "headers", "body", "json") if key in table}
        if "status" in response:
            self.number(response["status"].value, response["status"].span, "expect.status", integer=True)
        if "headers" in response:
            self.mapping(table["headers"], table.where("headers"), "expect.headers")
        backend = self.call(table["backend"], table.where("backend"), "expect.backend") if "backend" in table else None
        targets = {}
        if "targets" in table:
            target_table = self.mapping(table["targets"], table.where("targets"), "expect.targets")
            targets = {url: self.call(v, target_table.where(url), f"expect.targets.{url}") for url, v in target_table.items()}
        last_error = None
        if "last-error" in table:
            if table["last-error"] is not None:
                self.mapping(table["last-error"], table.where("last-error"), "expect.last-error", LAST_ERROR_KEYS)
            last_error = at("last-error")
        traces: tuple[Located, ...] = ()
        if "traces" in table:
            items = table["traces"]
            if not isinstance(items, LocatedList):
                self.fail(table.where("traces"), "expect.traces: expected a list of messages")
            traces = tuple(Located(_plain(item), items.where(i)) for i, item in enumerate(items))
        return Expectations(
            response=response,
            backend=backend,
            targets=targets,
            variables=self.located_entries(table, "variables"),
            cache=self.located_entries(table, "cache"),
            rate_limits=self.rate_limits(table),
            metrics=self.located_entries(table, "metrics", self._metric_value),
            traces=traces,
            last_error=last_error,
        )

    def _metric_value(self, value: Any, span: Span, what: str) -> None:
        self.number(value, span, what)

    def located_entries(
        self, table: LocatedMap, key: str, check: Callable[[Any, Span, str], None] | None = None
    ) -> dict[str, Located]:
        if key not in table:
            return {}
        entries = self.mapping(table[key], table.where(key), f"expect.{key}")
        result = {}
        for name, value in entries.items():
            if check is not None:
                check(value, entries.where(name), f"expect.{key}.{name}")
            result[name] = Located(_plain(value), entries.where(name))
        return result

    def rate_limits(self, table: LocatedMap) -> tuple[tuple[dict[str, Any], Span], ...]:
        if "rate-limits" not in table:
            return ()
        items = table["rate-limits"]
        if not isinstance(items, LocatedList):
            self.fail(table.where("rate-limits"), "expect.rate-limits: expected a list")
        result = []
        for i, item in enumerate(items):
            entry = self.mapping(item, items.where(i), "expect.rate-limits[]", RATE_LIMIT_KEYS)
            for key in RATE_LIMIT_KEYS:
                if key not in entry:
                    self.fail(items.where(i), f"expect.rate-limits[{i + 1}]: '{key}' is required")
            for key in ("calls", "renewal-period", "remaining"):
                self.number(entry[key], entry.where(key), f"expect.rate-limits[{i + 1}].{key}", integer=True)
            result.append((_plain(entry), items.where(i)))
        return tuple(result)

    def call(self, value: Any, span: Span, what: str) -> CallExpectation:
        if isinstance(value, bool):
            return CallExpectation(called=Located(value, span))
        table = self.mapping(value, span, what, CALL_KEYS)
        called = Located(table["called"], table.where("called")) if "called" in table else None
        if called is not None and not isinstance(called.value, bool):
            self.fail(called.span, f"{what}.called: expected true or false")
        calls = Located(table["calls"], table.where("calls")) if "calls" in table else None
        if calls is not None:
            self.number(calls.value, calls.span, f"{what}.calls", integer=True)
        each: list[dict[str, Located]] = []
        if "requests" in table:
            items = table["requests"]
            if not isinstance(items, LocatedList):
                self.fail(table.where("requests"), f"{what}.requests: expected a list, one item per call")
            for i, item in enumerate(items):
                each.append(self.call_fields(self.mapping(item, items.where(i), f"{what}.requests[{i + 1}]", CALL_FIELDS),
                                             f"{what}.requests[{i + 1}]"))
        return CallExpectation(called, calls, self.call_fields(table, what), tuple(each))

    def call_fields(self, table: LocatedMap, what: str) -> dict[str, Located]:
        if "headers" in table:
            self.mapping(table["headers"], table.where("headers"), f"{what}.headers")
        return {key: Located(_plain(table[key]), table.where(key)) for key in CALL_FIELDS if key in table}


def _plain(value: Any) -> Any:
    """Located containers -> plain dicts and lists (for comparison and JSON)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
