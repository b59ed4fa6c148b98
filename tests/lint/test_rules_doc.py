"""Every diagnostic code is registered in engine.lint_rules and documented in docs/lint-rules.md."""

from __future__ import annotations

import re
from pathlib import Path

from engine.lint_rules import RULES
from engine.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["document.py", "validate.py", "compose.py", "lint.py", "named_values.py"]
EMITTED = re.compile(r"""(?:error|warning)\(\s*"([a-z-]+)\"""")


CONSTANT = re.compile(r"""^[A-Z_]+ = "([a-z-]+)"$""", re.MULTILINE)


def emitted_codes() -> set[str]:
    codes: set[str] = set()
    for name in SOURCES:
        codes |= set(EMITTED.findall((ROOT / "engine" / name).read_text(encoding="utf-8")))
    codes |= set(CONSTANT.findall((ROOT / "engine" / "gateway" / "check.py").read_text(encoding="utf-8")))
    registry = default_registry()
    for tag in registry.tags():
        policy = registry.get(tag)
        if policy is not None and policy.needs_in_inbound is not None:  # codes a policy declares for lint
            codes.add(policy.needs_in_inbound[1])
    return codes


def test_every_emitted_code_is_registered() -> None:
    emitted = emitted_codes()
    assert len(emitted) > 30
    assert emitted - set(RULES) == set()


def test_every_registered_code_is_emitted_somewhere() -> None:
    assert set(RULES) - emitted_codes() == set()


def test_every_code_has_a_section_in_the_docs() -> None:
    doc = (ROOT / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^####.*", doc, flags=re.MULTILINE))
    documented = {code for line in headings for code in re.findall(r"`([a-z-]+)`", line)}
    assert set(RULES) - documented == set()
