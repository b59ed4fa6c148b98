"""Every dependency in pyproject.toml is explained in docs/dependencies.md (the guide asks for the why)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!;\[~]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_every_dependency_is_explained() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _names(project["dependencies"]) | _names(project["optional-dependencies"]["test"])
    doc = (ROOT / "docs" / "dependencies.md").read_text(encoding="utf-8")
    named = {name.lower() for name in re.findall(r"`([A-Za-z0-9_.-]+)`", doc)}
    named |= {f"opentelemetry{suffix.lower()}" for suffix in re.findall(r"`(-[a-z-]+)`", doc)}
    missing = sorted(declared - named)
    assert not missing, f"add a row to docs/dependencies.md saying why each is a dependency: {missing}"
