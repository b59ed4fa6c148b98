"""Golden files: every samples/bad/<case>.xml has exactly the output in <case>.expected.

Each bad sample holds one defect. A sample may start with `<!-- lint-options: key=value ... -->`
naming extra command-line options (`scope=api` means `--scope api`; XML comments cannot hold
`--`). Regenerate after a deliberate change with
`POLICYGATE_UPDATE_GOLDEN=1 pytest tests/lint/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "samples" / "bad"
LINT_OK = ROOT / "samples" / "lint-ok"
OPTIONS = re.compile(r"<!--\s*lint-options:(.*?)-->")
CASES = sorted(BAD.glob("*.xml"))


def lint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(ROOT)  # relative paths in the output keep goldens machine independent
    status = main(["lint", *argv])
    return status, capsys.readouterr().out


def extra_args(case: Path) -> list[str]:
    match = OPTIONS.search(case.read_text(encoding="utf-8", errors="replace"))
    args: list[str] = []
    for option in shlex.split(match.group(1)) if match else []:
        key, _, value = option.partition("=")
        args += [f"--{key}", value]
    return args


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_sample_matches_golden(
    case: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out = lint(capsys, monkeypatch, *extra_args(case), case.relative_to(ROOT).as_posix())
    expected = case.with_suffix(".expected")
    if os.environ.get("POLICYGATE_UPDATE_GOLDEN"):
        expected.write_text(out, encoding="utf-8")
    assert out == expected.read_text(encoding="utf-8")
    assert status == (1 if "error[" in out else 0)
    # one defect per sample: one finding, named after the file
    findings = re.findall(r"^\S+:\d+:\d+: (?:error|warning)\[([a-z-]+)\]", out, flags=re.MULTILINE)
    assert findings == [case.stem.split(".")[0]]


def test_lint_ok_samples_are_clean(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out = lint(
        capsys,
        monkeypatch,
        "--named-values",
        "samples/lint-ok/named-values.yaml",
        "--fragments",
        "samples/lint-ok/fragments",
        "samples/lint-ok",
    )
    assert status == 0, out
    # valid APIM: the only findings are the elements the gateway cannot run, each a warning with its reason
    findings = re.findall(r"^\S+:\d+:\d+: (\w+)\[([a-z-]+)\]: (.*)$", out, flags=re.MULTILINE)
    assert {(severity, code) for severity, code, _ in findings} <= {("warning", "policy-unsupported")}, out
    assert all("(" in message and "serve" in message for _, _, message in findings)
