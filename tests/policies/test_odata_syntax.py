"""The OData system query option parser (engine/apispec/odata_url.py) against its grammar
(grammar/odata.lark) parsed by Lark: both accept the same values, and reject the same ones."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from lark import Lark, LarkError

from engine.apispec.odata_url import OPTIONS, syntax_problem

GRAMMAR = Path(__file__).resolve().parents[2] / "grammar" / "odata.lark"
WELL_FORMED = [
    ("filter", "Price eq 5"), ("filter", "Name eq 'Milk' and Price lt 2.55"), ("filter", "not endswith(Description,'milk')"),
    ("filter", "Items/any(d:d/Quantity gt 100)"), ("filter", "Items/all(d:d/Quantity gt 100)"), ("filter", "Tags/any()"),
    ("filter", "Name in ('Milk', 'Cheese')"), ("filter", 'Name in ["Milk", "Cheese"]'), ("filter", "Id in ()"),
    ("filter", "BirthDate gt 2012-12-03T07:16:23Z and d lt 2012-12-03 and t eq 07:59:59.999"),
    ("filter", "Changed ge 2012-12-03T07:16:23.5+01:00"), ("filter", "Id eq 01234567-89ab-cdef-0123-456789abcdef"),
    ("filter", "Style has Sales.Pattern'Yellow'"), ("filter", "Price add 2 gt 5 mul 3"), ("filter", "-Price lt -5"),
    ("filter", "cast(Price, Edm.String) eq '5'"), ("filter", "isof(NS.Employee)"), ("filter", "$it/Address/City eq 'x'"),
    ("filter", "Items/$count gt 2"), ("filter", "Price eq @p"), ("filter", "$root/Products(1)/Name eq Name"),
    ("filter", "contains(Name,'it''s')"), ("filter", "Duration eq duration'P12DT23H59M59.999999999999S'"),
    ("filter", "Location eq geography'SRID=0;Point(142.1 64.1)'"), ("filter", "Name eq null or Active eq true"),
    ("filter", "NS.Fn(p=1) eq 3"), ("filter", "Price div 2 eq 1 and Price divby 2 eq 1.5 and Price mod 2 eq 0"),
    ("filter", "(Price gt 5) and (Price lt 10)"), ("filter", "desc eq 1"), ("filter", "substring(CompanyName,1,2) eq 'lf'"),
    ("filter", "Price gt 1e10 and x eq INF"), ("filter", "Prices/any(p:p/Tags/all(t:contains(t,'a')))"),
    ("filter", "Address eq {\"City\": \"Oslo\", \"Zip\": [1, -2, null]}"), ("filter", "NS.Customer/Name eq 'x'"),
    ("orderby", "Name desc, Price"), ("orderby", "Address/City asc"), ("orderby", "Items/$count desc"),
    ("orderby", "length(Name) desc"),
    ("select", "Name, Price, Address/City"), ("select", "*"), ("select", "NS.*"),
    ("select", "Addresses($filter=City eq 'x';$top=1)"), ("select", "NS.Manager/Reports"),
    ("expand", "Category"), ("expand", "Orders($filter=Amount gt 100;$select=Id,Amount;$expand=Items($top=2);"
                                        "$orderby=Amount desc;$count=true;$skip=1)"),
    ("expand", "*"), ("expand", "*($levels=2)"), ("expand", "*/$ref"), ("expand", "Orders/$ref"), ("expand", "Orders/$count"),
    ("expand", "Employees($levels=max)"), ("expand", "Orders(filter=Amount gt 1;top=2)"), ("expand", "Orders($search=blue)"),
    ("compute", "Price mul Qty as Total"), ("compute", "year(Date) as Y, Price add 1 as P"),
    ("search", "blue OR green"), ("search", '"blue jeans" NOT red'), ("search", "(a OR b) AND c"), ("search", "mountain bike"),
    ("search", "NOT (red OR \"deep blue\")"),
]
MALFORMED = [
    ("filter", "Price eq"), ("filter", "Price eq 5)"), ("filter", "Price eq 'x"), ("filter", "eq 5"),
    ("filter", "Price gt 5 and"), ("filter", "Price # 5"), ("filter", "Items/any(d:)"), ("filter", "Items/all()"),
    ("filter", "(Price gt 5"), ("filter", "Price in"), ("filter", "contains(Name,)"), ("filter", "Name eq {'a': 1}"),
    ("filter", "Address/ eq 1"), ("filter", "NS.* eq 1"), ("filter", "1 2"),
    ("orderby", "Name desc desc"), ("orderby", "Name,"), ("orderby", ",Name"),
    ("select", "Name,,Price"), ("select", "Price eq 5"), ("select", "Name("), ("select", "/Name"),
    ("expand", "Orders($top=x)"), ("expand", "Orders($filter=)"), ("expand", "Orders($top=1"), ("expand", "Orders($foo=1)"),
    ("expand", "Orders($levels=-1)"), ("expand", "Orders;Items"), ("expand", "*/Name"),
    ("compute", "Price as"), ("compute", "Price mul 2"), ("compute", "Price as 1"),
    ("search", "(a OR b"), ("search", "a OR"), ("search", "AND a"), ("search", "a)"), ("search", '"open'),
]


@functools.cache
def lark() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual", start=list(OPTIONS))


def lark_accepts(option: str, text: str) -> bool:
    try:
        lark().parse(text, start=option)
    except LarkError:
        return False
    return True


@pytest.mark.parametrize(("option", "text"), WELL_FORMED)
def test_well_formed_values_are_accepted_by_both(option: str, text: str) -> None:
    assert syntax_problem(option, text) is None
    assert lark_accepts(option, text)


@pytest.mark.parametrize(("option", "text"), MALFORMED)
def test_malformed_values_are_refused_by_both(option: str, text: str) -> None:
    assert syntax_problem(option, text) is not None
    assert not lark_accepts(option, text)


def test_operators_need_a_word_of_their_own() -> None:
    # the ABNF separates operators with whitespace; Lark's contextual lexer would split `eq5` into `eq` `5`
    assert syntax_problem("filter", "Price eq5") == "unexpected 'eq5' at position 7: the end of the value expected"


def test_a_property_may_be_named_like_an_operator() -> None:
    assert syntax_problem("orderby", "desc desc, asc") is None
    assert syntax_problem("filter", "and eq or") is None


@pytest.mark.parametrize(("option", "text"), [
    ("filter", "(" * 5000 + "1" + ")" * 5000), ("filter", "x in " + "[" * 5000 + "]" * 5000),
    ("filter", "f(" * 5000 + ")" * 5000), ("search", "(" * 5000 + "a" + ")" * 5000),
    ("expand", "A($expand=" * 5000 + "B" + ")" * 5000),
])
def test_deep_nesting_is_refused_without_recursing(option: str, text: str) -> None:
    assert syntax_problem(option, text) == "the value is nested more than 40 levels deep"


def test_long_chains_of_prefix_operators_are_fine() -> None:
    assert syntax_problem("filter", "not " * 5000 + "Active") is None
    assert syntax_problem("filter", "-" * 5000 + "1 eq Price") is None
    assert syntax_problem("search", "NOT " * 5000 + "red") is None
    assert syntax_problem("filter", " and ".join(["Price gt 1"] * 2000)) is None  # long, not deep: not cached
