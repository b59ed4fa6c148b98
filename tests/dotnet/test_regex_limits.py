"""Regexes that RE2 cannot run backtrack on the `regex` package: every match is bounded.

Bounded by the Regex's own match timeout (RegexMatchTimeoutException, catchable in C#) or by the
expression time limit (the evaluation fails), measured in CPU time while busy-loop processes load
the machine, and the worker keeps serving other expressions.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from engine.errors import ExpressionError, SecurityError
from engine.expr import LIMITS
from tests.expr.helpers import run

HOSTILE = 'new string(\'a\', 80) + "!"'
CATASTROPHIC = "^(?=a)(a|aa)+$"  # a lookahead sends it to the backtracking engine


@pytest.fixture(scope="module")
def busy_machine() -> Iterator[None]:
    run('Regex.IsMatch("a", "(?=a)")')  # warm up: the grammar and both regex engines are loaded
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for p in loops:
            p.kill()
            p.wait()


def _cpu(expression: str) -> tuple[float, object]:
    start = time.process_time()
    try:
        result: object = run(expression)
    except ExpressionError as exc:
        result = exc
    return time.process_time() - start, result


@pytest.mark.usefixtures("busy_machine")
@pytest.mark.parametrize("expression", [
    f'Regex.IsMatch({HOSTILE}, "{CATASTROPHIC}")',
    f'new Regex("{CATASTROPHIC}").Match({HOSTILE}).Success',
    f'Regex.Matches({HOSTILE}, "{CATASTROPHIC}").Count',
    f'Regex.Replace({HOSTILE}, "{CATASTROPHIC}", "x")',
    f'new Regex(@"(\\w)(?=(a|aa)+!x)").Split({HOSTILE}).Length',
    f'@{{ var n = 0; foreach (var p in new[] {{ "{CATASTROPHIC}", "^(a|a)+(?<=a)$" }}) '
    f'{{ try {{ if (Regex.IsMatch({HOSTILE}, p)) n++; }} catch (Exception) {{ n--; }} }} return n; }}',
])
def test_backtracking_stops_at_the_expression_limit(expression: str) -> None:
    cpu, result = _cpu(expression)
    assert isinstance(result, SecurityError), result
    assert "ran longer than" in str(result)
    assert cpu < 4 * LIMITS.timeout + 0.1


@pytest.mark.usefixtures("busy_machine")
def test_match_timeout_is_a_catchable_regex_exception() -> None:
    expression = (f'@{{ try {{ return new Regex("{CATASTROPHIC}", RegexOptions.None, '
                  f'TimeSpan.FromMilliseconds(5)).IsMatch({HOSTILE}).ToString(); }} '
                  f'catch (RegexMatchTimeoutException) {{ return "timeout"; }} }}')
    cpu, result = _cpu(expression)
    assert result == "timeout"
    assert cpu < LIMITS.timeout + 0.05
    assert run('Regex.IsMatch("abc", "b(?=c)")') is True  # the worker goes on serving


def test_match_timeout_range_and_value() -> None:
    assert run('new Regex("a", RegexOptions.None, TimeSpan.FromSeconds(2)).MatchTimeout.TotalSeconds') == 2.0
    assert run('new Regex("a").MatchTimeout == Regex.InfiniteMatchTimeout') is True
    for bad in ("TimeSpan.Zero", "TimeSpan.FromSeconds(-5)"):
        with pytest.raises(ExpressionError, match="ArgumentOutOfRangeException"):
            run(f'new Regex("a", RegexOptions.None, {bad})')
