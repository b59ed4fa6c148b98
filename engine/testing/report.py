"""What `policygate test` prints (a readable report with a diff per failed expectation) and JUnit XML."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from engine.testing.runner import CaseResult, RunResult


def render_text(result: RunResult, *, verbose: bool = False) -> str:
    lines: list[str] = [problem.format() for problem in result.problems]
    for file in result.files:
        bad = [case for case in file.cases if not case.passed]
        if not bad and not verbose:
            continue
        lines.append(f"{file.path}")
        for case in file.cases:
            if case.passed:
                if verbose:
                    lines.append(f"  ok    {case.case.name} ({case.seconds * 1000:.0f} ms)")
                continue
            lines.append(f"  {'ERROR' if case.error else 'FAIL'}  {case.case.name}  ({case.case.span})")
            if case.error:
                lines += ["    " + line for line in case.error.splitlines()]
            for failure in case.failures:
                lines.append(failure.render("    "))
            lines += [f"    note: {note}" for note in dict.fromkeys(case.notes)]
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def summary(result: RunResult) -> str:
    cases = list(result.cases())
    passed = sum(1 for c in cases if c.passed)
    failed = sum(1 for c in cases if c.failures and not c.error)
    errors = sum(1 for c in cases if c.error) + len(result.problems)
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{failed} failed")
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    return f"{', '.join(parts)} in {len(result.files)} file{'s' if len(result.files) != 1 else ''} ({result.seconds:.2f} s)"


def write_junit(result: RunResult, path: str | Path) -> None:
    """JUnit XML: one <testsuite> per test file, one <testcase> per case (with file and line)."""
    suites = ElementTree.Element("testsuites", name="policygate test")
    for file in result.files:
        suite = ElementTree.SubElement(suites, "testsuite", name=str(file.path), tests=str(len(file.cases)),
                                       failures=str(sum(1 for c in file.cases if c.failures and not c.error)),
                                       errors=str(sum(1 for c in file.cases if c.error)),
                                       time=f"{sum(c.seconds for c in file.cases):.3f}")
        for case in file.cases:
            _testcase(suite, file.path, case)
    for problem in result.problems:
        suite = ElementTree.SubElement(suites, "testsuite", name=problem.span.file, tests="1", failures="0", errors="1")
        element = ElementTree.SubElement(suite, "testcase", name="(test file)", classname=Path(problem.span.file).name,
                                         file=problem.span.file, line=str(problem.span.line))
        ElementTree.SubElement(element, "error", message=problem.message).text = problem.format()
    ElementTree.indent(suites)
    Path(path).write_text(ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n", encoding="utf-8")


def _testcase(suite: ElementTree.Element, path: Path, case: CaseResult) -> None:
    element = ElementTree.SubElement(suite, "testcase", name=case.case.name, classname=path.name,
                                     file=str(path), line=str(case.case.span.line), time=f"{case.seconds:.3f}")
    if case.error:
        ElementTree.SubElement(element, "error", message=case.error.splitlines()[0]).text = case.error
    elif case.failures:
        first = case.failures[0]
        message = f"{first.what}: expected {first.expected}, got {first.actual}"
        ElementTree.SubElement(element, "failure", message=message).text = "\n".join(f.render() for f in case.failures)
