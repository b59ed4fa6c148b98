"""Regenerate tests/oracle/table.jsonl: evaluate every oracle case with a real C# compiler and runtime.

    python scripts/oracle/generate.py            # needs mcs, mono and Newtonsoft.Json (see docs/dotnet-runtime.md)

Reads the cases (tests/oracle/cases/*.txt, one C# expression or `@{ ... }` block per line), writes
ONE C# program that evaluates them all under CultureInfo.InvariantCulture, compiles it with `mcs`
(rows that C# rejects become `compile` rows with the error code), runs it with `mono`
(MONO_ENV_OPTIONS=-O=-all, so the JIT does not fold `Math.Round(2.5)`), and stores per row the
rendered value and runtime type, or the exception type. Rows where Mono is not representative of
APIM's .NET get the .NET result from tests/oracle/dotnet.jsonl (with the reason; a `compile` result
there is a row APIM refuses although C# compiles it: a type or member outside APIM's allow-list, or
syntax newer than APIM's C# 7); rows flagged
`;; newline` get Environment.NewLine of APIM's Windows gateway (`\\r\\n`) instead of Mono's `\\n`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.oracle.cases import Case, load_cases  # noqa: E402

HERE = Path(__file__).resolve().parent
TABLE = ROOT / "tests" / "oracle" / "table.jsonl"
DOTNET = ROOT / "tests" / "oracle" / "dotnet.jsonl"
NEWTONSOFT = "/usr/lib/mono/gac/Newtonsoft.Json/6.0.0.0__b9a188c8922137c6/Newtonsoft.Json.dll"
REFERENCES = ["System.Xml.Linq.dll", "System.Xml.dll", "System.Numerics.dll", "System.Core.dll"]
USINGS = """using System; using System.Collections; using System.Collections.Generic; using System.Globalization;
using System.IO; using System.Linq; using System.Net; using System.Security.Cryptography; using System.Text;
using System.Text.RegularExpressions; using System.Xml.Linq; using Newtonsoft.Json; using Newtonsoft.Json.Linq;
"""
ERROR = re.compile(r"^cases\.cs\((\d+),\d+\): error (CS\d+): (.*)$")
PER_METHOD = 50


def program(cases: list[Case], skip: set[int]) -> tuple[str, dict[int, int]]:
    """The C# source and a map source line -> case id."""
    lines = [USINGS, "static class Cases {"]
    line_of: dict[int, int] = {}
    methods = 0
    for start in range(0, len(cases), PER_METHOD):
        lines.append(f"static void Part{methods}() {{")
        for case in cases[start:start + PER_METHOD]:
            if case.id in skip:
                continue
            body = case.expr.strip()
            if body.startswith("@{"):
                lam = "() => {" + body[2:-1] + "\n}"
            else:
                lam = "() => (object)(" + body + "\n)"
            lines.append(f"Render.Run({case.id}, {lam});")
            first = len("\n".join(lines).split("\n")) - lam.count("\n")
            for line in range(first, first + lam.count("\n") + 1):  # mcs may report an error on the closing line
                line_of[line] = case.id
        lines.append("}")
        methods += 1
    lines.append("static void Main() {")
    lines.append("System.Threading.Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;")
    lines.append("System.Threading.Thread.CurrentThread.CurrentUICulture = CultureInfo.InvariantCulture;")
    lines.extend(f"Part{i}();" for i in range(methods))
    lines.append("}}")
    return "\n".join(lines) + "\n", line_of


def compile_all(cases: list[Case], work: Path) -> dict[int, tuple[str, str]]:
    """Compile, dropping rows C# rejects; return {case id: (error code, message)}."""
    rejected: dict[int, tuple[str, str]] = {}
    refs = [f"-r:{NEWTONSOFT}"] + [f"-r:{r}" for r in REFERENCES]
    while True:
        source, line_of = program(cases, set(rejected))
        (work / "cases.cs").write_text(source)
        done = subprocess.run(["mcs", "-nowarn:162,219,414,429,1718,1720,0665,0652,0464,0472",
                               "-out:cases.exe", *refs, "cases.cs", str(HERE / "Render.cs")],
                              cwd=work, capture_output=True, text=True)
        if done.returncode == 0:
            return rejected
        found = False
        for line in (done.stdout + done.stderr).splitlines():
            m = ERROR.match(line)
            if m and int(m.group(1)) in line_of:
                rejected.setdefault(line_of[int(m.group(1))], (m.group(2), m.group(3)))
                found = True
        if not found:
            sys.exit("mcs failed outside the cases:\n" + done.stdout + done.stderr)


def run(work: Path) -> dict[int, dict[str, Any]]:
    env = dict(os.environ, MONO_ENV_OPTIONS="-O=-all", LANG="C.UTF-8", TZ="UTC")
    done = subprocess.run(["mono", "cases.exe"], cwd=work, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        sys.exit("mono failed:\n" + done.stderr[-4000:])
    results: dict[int, dict[str, Any]] = {}
    for line in done.stdout.split("\n"):
        if not line:
            continue
        ident, type_name, value = line.split("\t", 2)
        if type_name == "!":
            results[int(ident)] = {"error": value}
        else:
            results[int(ident)] = {"type": type_name, "value": value}
    return results


def versions() -> dict[str, str]:
    mono = subprocess.run(["mono", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {"mono": mono, "newtonsoft": NEWTONSOFT.split("/")[-2].split("__")[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep the generated C# program in this directory")
    args = parser.parse_args()
    for tool in ("mcs", "mono"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install mono-mcs mono-runtime libnewtonsoft-json-cil-dev)")
    cases = load_cases()
    overrides = {o["expr"]: o for o in map(json.loads, DOTNET.read_text().splitlines()) if o}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        rejected = compile_all(cases, work)
        results = run(work)
    rows = []
    for case in cases:
        row: dict[str, Any] = {"area": case.area, "expr": case.expr}
        if case.id in rejected:
            row["compile"] = rejected[case.id][0]
            row["message"] = rejected[case.id][1]
        elif case.id in results:
            row.update(results[case.id])
        else:  # compiled but printed nothing: an mcs code-generation gap
            row["compile"], row["message"] = "MISSING", "mcs compiled the row but it printed nothing"
            rejected[case.id] = ("MISSING", row["message"])
        if "newline" in case.flags and "value" in row:
            row["mono"] = {"type": row["type"], "value": row["value"]}
            row["value"] = row["value"].replace("\\u000a", "\\u000d\\u000a")
            row["reason"] = "Environment.NewLine is \\r\\n on APIM's Windows gateway (Mono on Linux: \\n)"
        if case.expr in overrides:
            o = overrides[case.expr]
            row["mono"] = {k: row[k] for k in ("type", "value", "error", "compile") if k in row}
            for k in ("type", "value", "error", "compile", "message"):
                row.pop(k, None)
            row.update({k: o[k] for k in ("type", "value", "error", "compile", "message") if k in o})
            row["reason"] = o["reason"]
        rows.append(row)
    # (no row count in the header: two branches adding rows to different areas then merge cleanly)
    header = {"generated_by": "scripts/oracle/generate.py", **versions(), "culture": "InvariantCulture"}
    with TABLE.open("w") as out:
        out.write(json.dumps(header) + "\n")
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    unused = set(overrides) - {c.expr for c in cases}
    print(f"{len(rows)} rows, {len(rejected)} rejected by mcs, {len(overrides)} .NET overrides -> {TABLE}")
    for ident, (code, message) in sorted(rejected.items()):
        if cases[ident].expr not in overrides:
            print(f"  compile {code}: {cases[ident].expr}  ({message})")
    for expr in sorted(unused):
        print(f"  unused override: {expr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
