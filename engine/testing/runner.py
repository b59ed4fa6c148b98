"""Run test files: each case on a fresh gateway (own cache, counters, metrics and clock).

Documents are compiled once per distinct subject (configuration, documents, named values) and
shared by the cases that name it. A subject that does not load, or a case needing Redis where
none can be started, is a case *error* (exit code 2); failed expectations are *failures* (1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic
from engine.errors import ConfigError, PolicyLoadError
from engine.testing.expect import Failure, check
from engine.testing.harness import Harness
from engine.testing.spec import Case, Subject, TestFile, TestFileError, is_test_file, load_test_file
from engine.testing.upstream import TestClock

log = logging.getLogger("policygate.testing")
SKIPPED_FOLDERS = {".venv", "node_modules", "__pycache__"}


@dataclass
class CaseResult:
    case: Case
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the case could not run (documents do not load, no Redis...)
    notes: list[str] = field(default_factory=list)  # shown with a failing case (e.g. unscripted targets)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failures


@dataclass
class FileResult:
    path: Path
    cases: list[CaseResult] = field(default_factory=list)


@dataclass
class RunResult:
    files: list[FileResult] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)  # test files that could not be read
    seconds: float = 0.0

    def cases(self) -> Iterator[CaseResult]:
        for file in self.files:
            yield from file.cases

    @property
    def exit_code(self) -> int:
        """0: every case passed; 1: an expectation failed; 2: a file or case could not run."""
        if self.problems or any(c.error for c in self.cases()):
            return 2
        return 1 if any(c.failures for c in self.cases()) else 0


class UsageError(Exception):
    """A PATH argument that names no test file."""


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The test files named, or found under the folders named (`*.policytest.yaml`, sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.policytest.y*ml")
                            if is_test_file(p) and not SKIPPED_FOLDERS & set(p.relative_to(path).parts))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return found


class Runner:
    """Runs cases; `observer` (policy coverage) sees every request; Redis starts on first need."""

    def __init__(self, *, observer: Any = None, redis_url: str | None = None, select: str | None = None) -> None:
        self.observer = observer
        self.redis_url = redis_url
        self.select = select.lower() if select else None  # run only cases whose name contains this
        self._redis: Any = None
        self._compiled: dict[tuple[object, ...], Any] = {}

    async def run_paths(self, paths: Iterable[str | Path]) -> RunResult:
        started = time.perf_counter()
        result = RunResult()
        for path in discover(paths):
            try:
                test_file = load_test_file(path)
            except TestFileError as exc:
                result.problems.append(exc.diagnostic)
                continue
            result.files.append(await self.run_file(test_file))
        result.seconds = time.perf_counter() - started
        return result

    async def run_file(self, test_file: TestFile) -> FileResult:
        cases = [case for case in test_file.cases if self.select is None or self.select in case.name.lower()]
        return FileResult(test_file.path, [await self.run_case(case) for case in cases])

    async def run_case(self, case: Case) -> CaseResult:
        started = time.perf_counter()
        result = CaseResult(case)
        try:
            subject = case.subject
            options: dict[str, Any] = {
                "clock": TestClock(case.clock), "observer": self.observer, "state": self._compiled.get(subject.key),
                "redis_url": self._redis_for(case) if subject.redis else None,
            }
            async with _harness(subject, options) as harness:
                self._compiled.setdefault(subject.key, harness.state)
                await self._steps(case, harness, result)
        except (ConfigError, PolicyLoadError, RedisUnavailable) as exc:
            result.error = _describe(exc, case)
        except Exception as exc:  # a defect of policygate itself: report it with the case, keep going
            log.debug("case %r at %s crashed", case.name, case.span, exc_info=True)
            result.error = f"{case.span}: error[test-internal]: policygate failed running this case: {type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - started
        return result

    async def _steps(self, case: Case, harness: Harness, result: CaseResult) -> None:
        for name, value in case.cache.items():
            await harness.store_cache_value(name, value)
        for step in case.steps:
            harness.advance(step.advance)
            harness.answer_backend(*step.backend)
            for url, answers in step.targets.items():
                harness.answer_target(url, *answers)
            request = step.request
            outcome = await harness.request(
                request.method, request.url, headers=list(request.headers), body=request.body,
                client_ip=request.client_ip, subscription_key=request.subscription_key, variables=case.variables,
            )
            result.failures += await check(step.expect, outcome, harness)
            result.notes += [f"send-request to {url} had no scripted answer (it failed to connect)"
                             for url in outcome.unscripted]

    def _redis_for(self, case: Case) -> str:
        if self.redis_url:
            return self.redis_url
        if self._redis is None:
            from engine.testing.redis_server import RedisServer

            try:
                server = RedisServer()
                server.start()
            except RuntimeError as exc:
                raise RedisUnavailable(f"{case.span}: error[test-redis]: case '{case.name}' asks for Redis: {exc}") from None
            self._redis = server
        return str(self._redis.url)

    def close(self) -> None:
        if self._redis is not None:
            self._redis.stop()
            self._redis = None


class RedisUnavailable(Exception):
    pass


def _harness(subject: Subject, options: dict[str, Any]) -> Harness:
    if subject.config is not None:
        return Harness.from_config(subject.config, named_values=subject.named_values, env=subject.env, **options)
    docs = subject.documents
    return Harness.from_documents(
        global_policy=docs.get("global"), product=docs.get("product"), api=docs.get("api"),
        operation=docs.get("operation"), fragments=subject.fragments, named_values=subject.named_values,
        identity=subject.identity, **options,
    )


def _describe(exc: Exception, case: Case) -> str:
    if isinstance(exc, PolicyLoadError):
        lines = [d.format() for d in exc.diagnostics]
        return f"{case.span}: error[test-subject]: the documents under test do not load:\n" + "\n".join(lines)
    if isinstance(exc, ConfigError):
        return f"{case.span}: error[test-subject]: the configuration under test does not load: {exc}"
    return str(exc)
