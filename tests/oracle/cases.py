"""The oracle's cases: tests/oracle/cases/*.txt, one C# expression or `@{ ... }` block per line.

`#` starts a comment line; a case may end with ` ;; flag` (`newline`: the value contains
Environment.NewLine). The file name is the area (docs/dotnet-runtime.md's modules).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "cases"


@dataclass(frozen=True)
class Case:
    id: int
    area: str
    expr: str
    flags: frozenset[str]


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            expr, _, flags = text.partition(" ;; ")
            cases.append(Case(len(cases), path.stem, expr.strip(), frozenset(flags.split())))
    return cases
