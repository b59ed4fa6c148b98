"""`equality.hash_key` (what Distinct, GroupBy and Union hash) agrees with `object_equals` (what
Contains and IndexOf compare) on every pair of values: the oracle's containers rows check both
against C#; this checks that the two halves of the one rule cannot drift apart."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

from engine.dotnet.clrnumeric import INT16, INT64, SINGLE
from engine.dotnet.datetimes import DayOfWeek
from engine.dotnet.equality import hash_key, object_equals
from engine.dotnet.primitives import Char

SHARED_LIST = [1]
VALUES = [
    None, 1, INT64.box(1), INT16.box(1), 1.0, SINGLE.box(1.0), Decimal(1), Decimal("1.0"), True, False, 0,
    2**40, INT64.box(2**40), Char("a"), "a", "A", float("nan"), float("nan"), -0.0, 0.0, DayOfWeek.Monday,
    SHARED_LIST, SHARED_LIST, [1],
]


def test_hash_key_equal_exactly_when_object_equals() -> None:
    for a, b in product(VALUES, repeat=2):
        assert (hash_key(a) == hash_key(b)) is object_equals(a, b), (a, b)
        assert object_equals(a, b) is object_equals(b, a), (a, b)


def test_the_clr_rule() -> None:
    assert not object_equals(1, INT64.box(1)) and not object_equals(1, 1.0) and not object_equals(Char("a"), "a")
    assert object_equals(float("nan"), float("nan")) and object_equals(-0.0, 0.0)
    assert object_equals(Decimal(1), Decimal("1.0")) and not object_equals(DayOfWeek.Monday, 1)
    assert not object_equals([1], [1]) and object_equals(SHARED_LIST, SHARED_LIST) and not object_equals(None, 0)
