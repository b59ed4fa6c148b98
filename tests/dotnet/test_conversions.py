"""String conversion, interpolation holes, is/as, members lookup."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.dotnet.collectionmembers import BytesMembers, DictionaryMembers, ListMembers
from engine.dotnet.conversions import as_cast, instance_to_string, is_type, to_string
from engine.dotnet.datetimes import DateTime, DateTimeKind
from engine.dotnet.errors import FormatException, NullReferenceException
from engine.dotnet.formatting import composite_format, format_value
from engine.dotnet.guid import Guid
from engine.dotnet.members import members_of
from engine.dotnet.newtonsoft import Formatting, JObject, JTokenType, JValue
from engine.dotnet.numbers import BoolMembers, EnumMembers, NumberMembers
from engine.dotnet.primitives import Char, type_ref
from engine.dotnet.regexengine import RegexOptions
from engine.dotnet.strings import StringComparison, StringMembers
from engine.dotnet.timespan import TimeSpan


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("s", "s"),
        (Char("c"), "c"),
        (True, "True"),
        (False, "False"),
        (42, "42"),
        (-7, "-7"),
        (2.5, "2.5"),
        (1e21, "1E+21"),
        (Decimal("1.10"), "1.10"),
        (JTokenType.Object, "Object"),
        (Formatting.None_, "None"),
        (StringComparison.OrdinalIgnoreCase, "OrdinalIgnoreCase"),
        (RegexOptions.IgnoreCase | RegexOptions.Multiline, "IgnoreCase, Multiline"),
        (JValue("x"), "x"),
        (JObject.Parse('{"a":1}'), '{\r\n  "a": 1\r\n}'),
        (DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), "01/02/2024 03:04:05"),
        (TimeSpan.FromMinutes(90), "01:30:00"),
        (Guid.Parse("12345678-9abc-def0-1234-56789abcdef0"), "12345678-9abc-def0-1234-56789abcdef0"),
        (b"\x00", "System.Byte[]"),
        (["a", "b"], "System.String[]"),
        ([1, 2], "System.Object[]"),
    ],
)
def test_to_string(value: object, expected: str) -> None:
    assert to_string(value) == expected


def test_instance_to_string_on_null() -> None:
    with pytest.raises(NullReferenceException):
        instance_to_string(None)


@pytest.mark.parametrize(
    ("value", "fmt", "alignment", "expected"),
    [
        (3.14159, "F2", 0, "3.14"),
        (42, "D5", 8, "   00042"),
        ("ab", None, -4, "ab  "),
        (None, None, 3, "   "),
        (DateTime(2024, 1, 2, 3, 4, 5), "yyyy-MM-dd", 0, "2024-01-02"),
        (TimeSpan.FromSeconds(5), "c", 0, "00:00:05"),
        (Guid.Parse("12345678-9abc-def0-1234-56789abcdef0"), "N", 0, "123456789abcdef0123456789abcdef0"),
        (JValue(1.5), "F3", 0, "1.500"),
        (JTokenType.String, "D", 0, "8"),
        (True, None, 6, "  True"),
    ],
)
def test_format_value(value: object, fmt: str | None, alignment: int, expected: str) -> None:
    assert format_value(value, fmt, alignment) == expected


def test_composite_format_with_objects() -> None:
    when = DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)
    assert (
        composite_format("{0:o}|{1:N0}|{2}", [when, 1234567, None])
        == "2024-01-02T03:04:05.0000000Z|1,234,567|"
    )
    with pytest.raises(FormatException):
        composite_format("{x}", [1])
    with pytest.raises(FormatException):
        composite_format("}", [])


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        ("s", "string", True),
        (Char("c"), "string", False),
        (Char("c"), "char", True),
        (5, "int", True),
        (2**40, "int", False),
        (2**40, "long", True),
        (5, "double", False),
        (5.0, "double", True),
        (True, "int", False),
        (Decimal(1), "decimal", True),
        (None, "object", False),
        (JObject(), "JToken", True),
        (JObject(), "JArray", False),
        (b"x", "byte[]", True),
        (["a"], "string[]", True),
        ([1], "string[]", False),
        ({"a": 1}, "Dictionary<string,object>", True),
        (DateTime(2024, 1, 1), "DateTime", True),
        (DateTime(2024, 1, 1), "System.DateTime", True),
    ],
)
def test_is_type(value: object, type_name: str, expected: bool) -> None:
    assert is_type(value, type_name) is expected
    assert (as_cast(value, type_name) is value) is expected or value is None


def test_type_ref_normalisation() -> None:
    assert type_ref("int").name == "System.Int32"
    assert type_ref("int?").nullable and type_ref("Nullable<int>").name == "System.Int32"
    assert type_ref("string[]").is_array and type_ref("string[]").element.name == "System.String"
    assert type_ref(str).name == "System.String" and type_ref(Decimal).name == "System.Decimal"
    assert type_ref("Newtonsoft.Json.Linq.JObject").name == "JObject"
    assert type_ref(JObject).name == "Newtonsoft.Json.Linq.JObject"


def test_members_of() -> None:
    assert members_of("s") is StringMembers
    assert members_of(1) is NumberMembers and members_of(1.5) is NumberMembers
    assert members_of(True) is BoolMembers
    assert members_of(JTokenType.Array) is EnumMembers
    assert members_of([1]) is ListMembers and members_of({}) is DictionaryMembers
    assert members_of(b"") is BytesMembers
    assert members_of(Char("c")) is None and members_of(JObject()) is None and members_of(None) is None
    assert EnumMembers.HasFlag(RegexOptions.IgnoreCase | RegexOptions.Multiline, RegexOptions.Multiline)
    assert NumberMembers.ToString(JTokenType.Array) == "Array"
