"""The engine against a real C# compiler and runtime: tests/oracle/table.jsonl (see docs/dotnet-runtime.md).

The table was produced by scripts/oracle/generate.py with Mono and Newtonsoft.Json; rows where Mono
is not representative of APIM's .NET carry the .NET result and a reason. Rows the engine does not
agree with yet are listed in known_disagreements.txt, which this test checks exactly.
"""

from __future__ import annotations

from tests.oracle.compare import disagreements, expected, load_known, load_table
from tests.oracle.render import describe


def test_table_covers_every_area() -> None:
    header, rows = load_table()
    assert header["generated_by"] == "scripts/oracle/generate.py" and len(rows) >= 1000
    assert len({r["expr"] for r in rows}) == len(rows), "duplicate oracle rows"
    assert all("reason" in r for r in rows if "mono" in r), "a .NET override without its reason"


def test_engine_agrees_with_the_oracle() -> None:
    _, rows = load_table()
    known = load_known()
    found = disagreements(rows)
    unlisted = [f"{r['expr']}\n    C#: {expected(r)}\n    engine: {describe(g)}" for r, g in found
                if r["expr"] not in known]
    fixed = known - {r["expr"] for r, _ in found}
    assert not unlisted, "rows that disagree with C#:\n" + "\n".join(unlisted)
    assert not fixed, "rows listed in known_disagreements.txt now agree; remove them:\n" + "\n".join(sorted(fixed))
    assert known <= {r["expr"] for r in rows}
