"""Compare the engine with the oracle table (tests/oracle/table.jsonl); list or rewrite disagreements.

    python -m tests.oracle.compare                 # agreement per area and every disagreement
    python -m tests.oracle.compare --write-known   # rewrite tests/oracle/known_disagreements.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.dotnet.limits import LIMITS
from tests.oracle.render import Outcome, agrees, describe, evaluate

HERE = Path(__file__).resolve().parent
TABLE = HERE / "table.jsonl"
KNOWN = HERE / "known_disagreements.txt"
KNOWN_HEADER = """\
# Oracle rows the engine does not agree with yet, one expression per line, grouped by area.
# tests/oracle/test_oracle.py checks this list EXACTLY: a listed row that now agrees, or an unlisted
# row that disagrees, fails the test. Regenerate with `python -m tests.oracle.compare --write-known`
# after a fix (and check the diff: only rows you fixed may disappear).
#
# What the remaining rows are (see docs/dotnet-runtime.md, "The C# oracle"):
# - `s.GetType() == typeof(string)` (deliberate): the sandbox refuses `GetType()` (reflection;
#   System.Type is not on APIM's allow-list, and `x is T` tests a type).
# - library3: `Array.Reverse` of `Encoding.GetBytes(...)`: the library's byte arrays are immutable
#   `bytes` (NotSupportedException; `new byte[n]` is mutable).
"""


def load_table() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:] if line]


def load_known() -> set[str]:
    lines = KNOWN.read_text(encoding="utf-8").splitlines() if KNOWN.exists() else []
    return {line for line in lines if line and not line.startswith("#")}


def expected(row: dict[str, Any]) -> str:
    if "compile" in row:
        return f"compile {row['compile']}"
    if "error" in row:
        return f"error {row['error']}"
    return f"{row['value']} ({row['type']})"


def disagreements(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Outcome]]:
    found = []
    with unhurried():
        for row in rows:
            got = evaluate(row["expr"])
            if not agrees(row, got):
                found.append((row, got))
    return found


@contextmanager
def unhurried() -> Iterator[None]:
    """Evaluate with a 10 s wall-time limit instead of the sandbox's 50 ms: that limit counts the time
    a busy machine does not run the process, and the oracle compares values, not speed (the
    iteration and size limits stay; tests/expr/test_compile.py and test_hostile.py test the time limit)."""
    saved, LIMITS.timeout = LIMITS.timeout, 10.0
    try:
        yield
    finally:
        LIMITS.timeout = saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-known", action="store_true", help="rewrite known_disagreements.txt")
    parser.add_argument("--area", help="only this area")
    args = parser.parse_args()
    _, rows = load_table()
    if args.area:
        rows = [r for r in rows if r["area"] == args.area]
    found = disagreements(rows)
    total, bad = Counter(r["area"] for r in rows), Counter(r["area"] for r, _ in found)
    for row, got in found:
        print(f"[{row['area']}] {row['expr']}\n    C#:     {expected(row)}\n    engine: {describe(got)}")
    for area in sorted(total):
        print(f"{area:14} {total[area] - bad[area]:4}/{total[area]:<4}")
    print(f"agreement: {len(rows) - len(found)}/{len(rows)} = {100 * (len(rows) - len(found)) / len(rows):.1f}%")
    if args.write_known:
        lines = [KNOWN_HEADER]
        for area in sorted({r["area"] for r, _ in found}):
            lines.append(f"\n## {area}\n")
            lines.extend(r["expr"] + "\n" for r, _ in found if r["area"] == area)
        KNOWN.write_text("".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
