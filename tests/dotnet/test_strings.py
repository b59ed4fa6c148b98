"""System.String members and statics, StringBuilder, Char."""

from __future__ import annotations

import pytest

from engine.dotnet.errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    FormatException,
    IndexOutOfRangeException,
    NullReferenceException,
)
from engine.dotnet.primitives import Char
from engine.dotnet.stringbuilder import StringBuilder
from engine.dotnet.strings import (
    String,
    StringComparer,
    StringComparison,
    StringSplitOptions,
)
from engine.dotnet.strings import (
    StringMembers as S,
)

RE = StringSplitOptions.RemoveEmptyEntries
TE = StringSplitOptions.TrimEntries


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("a,b,c", (Char(","),), ["a", "b", "c"]),
        ("a,,b", (",",), ["a", "", "b"]),
        ("a,,b", (Char(","), RE), ["a", "b"]),
        ("a, b ,c", (",", TE), ["a", "b", "c"]),
        ("a, ,c", (",", RE | TE), ["a", "c"]),
        ("a b\tc", (), ["a", "b", "c"]),
        ("a  b", (), ["a", "", "b"]),
        ("a  b", (None, RE), ["a", "b"]),
        ("a;b,c", ([Char(";"), Char(",")],), ["a", "b", "c"]),
        ("a;b,c", (Char(";"), Char(",")), ["a", "b", "c"]),
        ("a--b--c", (["--"], StringSplitOptions.None_), ["a", "b", "c"]),
        ("a--b--c", ("--",), ["a", "b", "c"]),
        ("a,b,c,d", (",", 2), ["a", "b,c,d"]),
        ("a,b,c,d", ([Char(",")], 3), ["a", "b", "c,d"]),
        ("a,b", (",", 1), ["a,b"]),
        ("a,b", (",", 0), []),
        ("", (",",), [""]),
        ("", (",", RE), []),
        (",", (",",), ["", ""]),
        ("Bearer xyz", (Char(" "),), ["Bearer", "xyz"]),
        ("a<>b", (["<>", "<"], StringSplitOptions.None_), ["a", "b"]),
        ("abc", ("",), ["abc"]),
    ],
)
def test_split(text: str, args: tuple, expected: list[str]) -> None:
    assert S.Split(text, *args) == expected


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: S.Substring("hello", 1), "ello"),
        (lambda: S.Substring("hello", 1, 3), "ell"),
        (lambda: S.Substring("hello", 5), ""),
        (lambda: S.Substring("hello", 0, 0), ""),
        (lambda: S.IndexOf("hello", Char("l")), 2),
        (lambda: S.IndexOf("hello", "lo"), 3),
        (lambda: S.IndexOf("hello", "L"), -1),
        (lambda: S.IndexOf("hello", "L", StringComparison.OrdinalIgnoreCase), 2),
        (lambda: S.IndexOf("hello", Char("l"), 3), 3),
        (lambda: S.IndexOf("hello", ""), 0),
        (lambda: S.IndexOf("hello", "z"), -1),
        (lambda: S.IndexOf("a.b.c", Char("."), 2, 2), 3),
        (lambda: S.LastIndexOf("hello", Char("l")), 3),
        (lambda: S.LastIndexOf("a/b/c", "/"), 3),
        (lambda: S.LastIndexOf("a/b/c", "x"), -1),
        (lambda: S.LastIndexOf("abc", ""), 3),
        (lambda: S.LastIndexOf("a/b/c", Char("/"), 2), 1),
        (lambda: S.IndexOfAny("hello", [Char("x"), Char("l")]), 2),
        (lambda: S.LastIndexOfAny("hello", [Char("h"), Char("l")]), 3),
        (lambda: S.Replace("aaa", "a", "b"), "bbb"),
        (lambda: S.Replace("a-b-c", Char("-"), Char("+")), "a+b+c"),
        (lambda: S.Replace("abc", "b", None), "ac"),
        (lambda: S.Replace("ABC abc", "abc", "x", StringComparison.OrdinalIgnoreCase), "x x"),
        (lambda: S.Trim("  hi \t\n"), "hi"),
        (lambda: S.Trim("--hi--", Char("-")), "hi"),
        (lambda: S.Trim("-_hi_-", [Char("-"), Char("_")]), "hi"),
        (lambda: S.Trim("\u00a0hi\u2003"), "hi"),
        (lambda: S.TrimStart("/path/", Char("/")), "path/"),
        (lambda: S.TrimEnd("/path/", Char("/")), "/path"),
        (lambda: S.TrimEnd("1.500", Char("0")), "1.5"),
        (lambda: S.TrimStart("  x "), "x "),
        (lambda: S.StartsWith("Bearer abc", "Bearer "), True),
        (lambda: S.StartsWith("bearer abc", "Bearer", StringComparison.OrdinalIgnoreCase), True),
        (lambda: S.StartsWith("bearer abc", "Bearer"), False),
        (lambda: S.StartsWith("bearer abc", "BEARER", True, None), True),
        (lambda: S.StartsWith("abc", Char("a")), True),
        (lambda: S.EndsWith("file.JSON", ".json", StringComparison.OrdinalIgnoreCase), True),
        (lambda: S.EndsWith("file.json", ".xml"), False),
        (lambda: S.Contains("hello", "ell"), True),
        (lambda: S.Contains("hello", "ELL"), False),
        (lambda: S.Contains("hello", "ELL", StringComparison.OrdinalIgnoreCase), True),
        (lambda: S.Contains("hello", Char("h")), True),
        (lambda: S.ToLower("HeLLo"), "hello"),
        (lambda: S.ToUpper("straße"), "STRAßE"),
        (lambda: S.ToUpperInvariant("abc"), "ABC"),
        (lambda: S.ToLowerInvariant("ÀB"), "àb"),
        (lambda: S.Equals("a", "A"), False),
        (lambda: S.Equals("a", "A", StringComparison.OrdinalIgnoreCase), True),
        (lambda: S.Equals("a", None), False),
        (lambda: S.PadLeft("42", 5, Char("0")), "00042"),
        (lambda: S.PadLeft("42", 5), "   42"),
        (lambda: S.PadRight("42", 4, Char(".")), "42.."),
        (lambda: S.PadLeft("12345", 3), "12345"),
        (lambda: S.Insert("hello", 5, "!"), "hello!"),
        (lambda: S.Insert("hllo", 1, "e"), "hello"),
        (lambda: S.Remove("hello", 2), "he"),
        (lambda: S.Remove("hello", 1, 3), "ho"),
        (lambda: S.Length("héllo"), 5),
        (lambda: S.Item("abc", 1), Char("b")),
        (lambda: S.ToCharArray("ab"), [Char("a"), Char("b")]),
        (lambda: S.CompareTo("a", "b"), -1),
        (lambda: S.CompareTo("b", "a"), 1),
        (lambda: S.CompareTo("a", "a"), 0),
        (lambda: S.CompareTo("a", None), 1),
        (lambda: S.ToString("x"), "x"),
    ],
)
def test_string_members(call, expected) -> None:  # noqa: ANN001
    result = call()
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda: S.Substring("abc", 4),
            ArgumentOutOfRangeException,
            "startIndex cannot be larger than length of string. (Parameter 'startIndex')",
        ),
        (
            lambda: S.Substring("abc", 1, 5),
            ArgumentOutOfRangeException,
            "Index and length must refer to a location within the string. (Parameter 'length')",
        ),
        (
            lambda: S.Substring("abc", -1),
            ArgumentOutOfRangeException,
            "StartIndex cannot be less than zero. (Parameter 'startIndex')",
        ),
        (
            lambda: S.Substring("abc", 0, -1),
            ArgumentOutOfRangeException,
            "Length cannot be less than zero. (Parameter 'length')",
        ),
        (
            lambda: S.Substring(None, 0),
            NullReferenceException,
            "Object reference not set to an instance of an object.",
        ),
        (lambda: S.Contains("abc", None), ArgumentNullException, "Value cannot be null. (Parameter 'value')"),
        (
            lambda: S.Replace("abc", "", "x"),
            ArgumentException,
            "String cannot be of zero length. (Parameter 'oldValue')",
        ),
        (lambda: S.Item("abc", 3), IndexOutOfRangeException, "Index was outside the bounds of the array."),
        (
            lambda: S.Remove("abc", 3),
            ArgumentOutOfRangeException,
            "startIndex must be less than length of string. (Parameter 'startIndex')",
        ),
        (
            lambda: S.Split("a,b", ",", -1),
            ArgumentOutOfRangeException,
            "Count cannot be less than zero. (Parameter 'count')",
        ),
        (
            lambda: String.Format("{1}", "a"),
            FormatException,
            "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.",
        ),
        (lambda: String.Format("{0", "a"), FormatException, "Input string was not in a correct format."),
    ],
)
def test_string_errors(call, exc, message) -> None:  # noqa: ANN001
    with pytest.raises(exc) as info:
        call()
    assert info.value.Message == message


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: String.IsNullOrEmpty(None), True),
        (lambda: String.IsNullOrEmpty(""), True),
        (lambda: String.IsNullOrEmpty(" "), False),
        (lambda: String.IsNullOrWhiteSpace(" \t\r\n"), True),
        (lambda: String.IsNullOrWhiteSpace(None), True),
        (lambda: String.IsNullOrWhiteSpace(" x "), False),
        (lambda: String.Join(",", ["a", "b", "c"]), "a,b,c"),
        (lambda: String.Join(", ", "a", "b"), "a, b"),
        (lambda: String.Join(Char("-"), [1, 2, 3]), "1-2-3"),
        (lambda: String.Join(",", ["a", None, "c"]), "a,,c"),
        (lambda: String.Join("|", [True, 1.5, None]), "True|1.5|"),
        (lambda: String.Join(",", (x for x in ["p", "q"])), "p,q"),
        (lambda: String.Join(",", ["a", "b", "c", "d"], 1, 2), "b,c"),
        (lambda: String.Concat("a", 1, None, True), "a1True"),
        (lambda: String.Concat(["x", "y", "z"]), "xyz"),
        (lambda: String.Concat(), ""),
        (lambda: String.Format("{0}-{1}", "a", 2), "a-2"),
        (lambda: String.Format("{0,5}|{0,-5}|", "ab"), "   ab|ab   |"),
        (lambda: String.Format("{0:N2}", 1234.567), "1,234.57"),
        (lambda: String.Format("{0:D4} {1:X2}", 7, 255), "0007 FF"),
        (lambda: String.Format("{{literal}} {0}", 1), "{literal} 1"),
        (lambda: String.Format("{0} {1}", ["a", "b"]), "a b"),
        (lambda: String.Format("{0:0.00}", 3.14159), "3.14"),
        (lambda: String.Format("{0}", None), ""),
        (lambda: String.Format("{0,8:F1}|", 3.14159), "     3.1|"),
        (lambda: String.Compare("a", "B"), -1),
        (lambda: String.Compare("a", "A"), -1),
        (lambda: String.Compare("a", "A", True), 0),
        (lambda: String.Compare("a", "B", StringComparison.Ordinal), 31),
        (lambda: String.Compare("abc", "ABC", StringComparison.OrdinalIgnoreCase), 0),
        (lambda: String.Compare(None, "a"), -1),
        (lambda: String.Compare("xabc", 1, "yabd", 1, 2), 0),
        (lambda: String.CompareOrdinal("a", "b"), -1),
        (lambda: String.CompareOrdinal("b", "a"), 1),
        (lambda: String.CompareOrdinal("abc", "ab"), 1),
        (lambda: String.Equals("x", "X", StringComparison.OrdinalIgnoreCase), True),
        (lambda: String.Equals(None, None), True),
        (lambda: String.New(Char("x"), 3), "xxx"),
        (lambda: String.New([Char("a"), Char("b")]), "ab"),
        (lambda: String.Empty, ""),
    ],
)
def test_string_statics(call, expected) -> None:  # noqa: ANN001
    assert call() == expected


def test_string_comparer() -> None:
    cmp = StringComparer.OrdinalIgnoreCase
    assert cmp.Equals("Content-Type", "content-type")
    assert not StringComparer.Ordinal.Equals("a", "A")
    assert cmp.Compare("a", "B") < 0
    assert cmp.GetHashCode("ABC") == cmp.GetHashCode("abc")


def test_char_semantics() -> None:
    a = Char("a")
    assert a + 1 == 98 and isinstance(a + 1, int)
    assert a + Char("b") == 195
    assert a + "bc" == "abc" and "x" + a == "xa"
    assert a == 97 and a == "a"
    assert Char("b") - Char("a") == 1
    assert Char("z") > Char("a") and Char("0") < 58
    assert int(a) == 97 and a.code == 97
    assert Char(65) == "A"
    assert Char.IsDigit(Char("7")) and not Char.IsDigit(Char("x"))
    assert Char.IsLetter(Char("é")) and Char.IsWhiteSpace(Char("\t"))
    assert Char.IsUpper(Char("A")) and Char.IsLower(Char("a"))
    assert Char.IsLetterOrDigit("a1", 1)
    assert Char.ToUpper(Char("q")) == "Q" and isinstance(Char.ToUpper(Char("q")), Char)
    assert Char.Parse("x") == "x"
    assert Char.TryParse("xy") == (False, "\0")
    assert a.ToString() == "a" and type(a.ToString()) is str
    assert {a: 1}["a"] == 1


def test_stringbuilder() -> None:
    sb = StringBuilder()
    sb.Append("a").Append(1).Append(True).Append(None).Append(Char("x"), 3).Append(2.5)
    assert sb.ToString() == "a1TruexxX".replace("X", "x") + "2.5"
    sb = StringBuilder("start")
    sb.AppendLine().AppendLine("line").AppendFormat("{0}-{1}", 1, 2)
    assert sb.ToString() == "start\r\nline\r\n1-2"
    sb = StringBuilder("hello")
    sb.Insert(0, ">").Replace("l", "L").Remove(1, 1)
    assert sb.ToString() == ">eLLo" and sb.Length == 5
    assert sb[1] == "e"
    sb.Length = 2
    assert sb.ToString() == ">e"
    assert sb.Clear().Length == 0
    assert StringBuilder("abcdef").ToString(1, 3) == "bcd"
    with pytest.raises(ArgumentOutOfRangeException):
        StringBuilder("abc").Remove(2, 5)
