"""Cost of the .NET runtime library's hot paths next to the plain-Python equivalent.

Run:  python -m tests.perf.bench_dotnet

Rows: parsing a JSON body into a JObject vs `json.loads`, writing it back compact and indented vs
`json.dumps`, and a few per-request string/number/date helpers vs their Python counterparts.
Prints microseconds per call and the ratio, all measured side by side in this one run.
"""

from __future__ import annotations

import json
import sys
import timeit
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.dotnet.datetimes import DateTime, DateTimeKind  # noqa: E402
from engine.dotnet.formatting import composite_format, format_number  # noqa: E402
from engine.dotnet.guid import Guid  # noqa: E402
from engine.dotnet.newtonsoft import Formatting, JObject  # noqa: E402
from engine.dotnet.strings import StringMembers  # noqa: E402


def _body(items: int) -> str:
    return json.dumps(
        {
            "items": [
                {"id": i, "name": f"item {i}", "price": i * 1.5, "tags": ["a", "b"], "ok": True}
                for i in range(items)
            ]
        }
    )


def _time(fn: Callable[[], object], budget: float = 0.4) -> float:
    number = 1
    while True:
        elapsed = timeit.timeit(fn, number=number)
        if elapsed > budget / 4 or number > 1_000_000:
            break
        number *= 4
    best = min(timeit.repeat(fn, number=number, repeat=3))
    return best / number * 1e6


def main() -> None:
    small, large = _body(5), _body(1000)
    parsed_small, parsed_large = JObject.Parse(small), JObject.Parse(large)
    native_small, native_large = json.loads(small), json.loads(large)
    when = DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)
    request_id = uuid.uuid4()
    import datetime as dt

    py_when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    rows = [
        ("JObject.Parse 0.4 KB", lambda: JObject.Parse(small), lambda: json.loads(small)),
        ("JObject.Parse 80 KB", lambda: JObject.Parse(large), lambda: json.loads(large)),
        (
            "ToString(None) 0.4 KB",
            lambda: parsed_small.ToString(Formatting.None_),
            lambda: json.dumps(native_small, separators=(",", ":")),
        ),
        (
            "ToString(None) 80 KB",
            lambda: parsed_large.ToString(Formatting.None_),
            lambda: json.dumps(native_large, separators=(",", ":")),
        ),
        (
            "ToString() indented 80 KB",
            lambda: parsed_large.ToString(),
            lambda: json.dumps(native_large, indent=2),
        ),
        (
            "SelectToken items[3].name",
            lambda: parsed_large.SelectToken("items[3].name"),
            lambda: native_large["items"][3]["name"],
        ),
        ("Split(',')", lambda: StringMembers.Split("a,b,c,d,e", ","), lambda: "a,b,c,d,e".split(",")),
        ('ToString("N2")', lambda: format_number(1234.5678, "N2"), lambda: f"{1234.5678:,.2f}"),
        (
            'string.Format("{0}: {1,8:N2}")',
            lambda: composite_format("{0}: {1,8:N2}", ("total", 1234.5678)),
            lambda: f"{'total'}: {1234.5678:>8,.2f}",
        ),
        ("Guid from a UUID, ToString()", lambda: Guid(request_id).ToString(), lambda: str(request_id)),
        ('DateTime.ToString("o")', lambda: when.ToString("o"), lambda: py_when.isoformat()),
    ]
    print(f"{'operation':30} {'dotnet µs':>12} {'python µs':>12} {'ratio':>8}")
    for name, ours, theirs in rows:
        a, b = _time(ours), _time(theirs)
        print(f"{name:30} {a:12.2f} {b:12.2f} {a / b:8.1f}x")


if __name__ == "__main__":
    main()
