"""Newtonsoft.Json.Linq and JsonConvert behaviour."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.dotnet.clrnumeric import Int64Value
from engine.dotnet.collectioncore import KeyValuePair, iterate
from engine.dotnet.containers import Tuple
from engine.dotnet.conversions import cast, is_type
from engine.dotnet.datetimes import DateTime, DateTimeKind
from engine.dotnet.errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    FormatException,
    InvalidCastException,
    InvalidOperationException,
    JsonException,
    JsonReaderException,
)
from engine.dotnet.jsonconvert import JsonConvert
from engine.dotnet.newtonsoft import Formatting, JArray, JObject, JProperty, JToken, JTokenType, JValue
from engine.dotnet.primitives import type_ref

NONE = Formatting.None_
DOC = '{"a": 1, "b": [1, 2.5, "x", true, null], "c": {"d": "e"}, "f": {}, "g": [], "h": 1.0}'


def test_indented_and_compact_output() -> None:
    o = JObject.Parse(DOC)
    assert o.ToString() == (
        "{\r\n"
        '  "a": 1,\r\n'
        '  "b": [\r\n'
        "    1,\r\n"
        "    2.5,\r\n"
        '    "x",\r\n'
        "    true,\r\n"
        "    null\r\n"
        "  ],\r\n"
        '  "c": {\r\n'
        '    "d": "e"\r\n'
        "  },\r\n"
        '  "f": {},\r\n'
        '  "g": [],\r\n'
        '  "h": 1.0\r\n'
        "}"
    )
    assert o.ToString(NONE) == '{"a":1,"b":[1,2.5,"x",true,null],"c":{"d":"e"},"f":{},"g":[],"h":1.0}'
    assert str(o) == o.ToString()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("line\nbreak\ttab\r", '"line\\nbreak\\ttab\\r"'),
        ("\x01\x1f", '"\\u0001\\u001f"'),
        ("héllo €", '"héllo €"'),
        ("<tag>&'", '"<tag>&\'"'),
        ("\u2028", '"\\u2028"'),
        (1e20, "1E+20"),
        (0.1, "0.1"),
        (3.0, "3.0"),
        (-0.0, "-0.0"),
        (Decimal("1.50"), "1.50"),
        (Decimal("2"), "2.0"),
        (True, "true"),
        (None, "null"),
        (12345678901234567890, "12345678901234567890"),
        (b"\x01\x02", '"AQI="'),
    ],
)
def test_value_serialization(value: object, expected: str) -> None:
    assert JValue(value).ToString(NONE) == expected
    assert JsonConvert.SerializeObject(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "abc"), (True, "True"), (1.5, "1.5"), (10, "10"), (None, ""), (1.0, "1")],
)
def test_jvalue_tostring_is_bare(value: object, expected: str) -> None:
    assert JValue(value).ToString() == expected


def test_indexers_and_missing_keys() -> None:
    o = JObject.Parse(DOC)
    assert o["missing"] is None
    assert o["c"]["d"].Type == JTokenType.String
    assert cast(o["c"]["d"], "string") == "e"
    assert o["b"][1].Type == JTokenType.Float
    with pytest.raises(ArgumentOutOfRangeException) as info:
        o["b"][9]
    assert (
        info.value.Message
        == "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
    )
    with pytest.raises(ArgumentException) as info2:
        o[0]
    assert (
        info2.value.Message
        == "Accessed JObject values with invalid key value: 0. Object property name expected."
    )
    with pytest.raises(ArgumentException) as info3:
        o["b"]["x"]
    assert (
        info3.value.Message
        == 'Accessed JArray values with invalid key value: "x". Int32 array index expected.'
    )
    with pytest.raises(InvalidOperationException) as info4:
        o["a"]["x"]
    assert info4.value.Message == "Cannot access child value on Newtonsoft.Json.Linq.JValue."


@pytest.mark.parametrize(
    ("json", "target", "expected"),
    [
        ('"abc"', "string", "abc"),
        ("5", "string", "5"),
        ("1.5", "string", "1.5"),
        ("true", "string", "True"),
        ("null", "string", None),
        ("5", "int", 5),
        ('"42"', "int", 42),
        ("1.7", "int", 2),
        ("2.5", "int", 2),
        ("true", "int", 1),
        ("5", "long", Int64Value(5)),  # `(long)token` is an Int64
        ("5", "double", 5.0),
        ('"1.25"', "double", 1.25),
        ("1.5", "decimal", Decimal("1.5")),
        ("true", "bool", True),
        ('"false"', "bool", False),
        ("0", "bool", False),
        ("null", "int?", None),
        ("7", "int?", 7),
        ("null", "bool?", None),
    ],
)
def test_explicit_conversions(json: str, target: str, expected: object) -> None:
    token = JToken.Parse(json)
    result = cast(token, target)
    assert result == expected and type(result) is type(expected)


def test_explicit_conversion_errors() -> None:
    o = JObject.Parse(DOC)
    with pytest.raises(ArgumentException) as info:
        cast(o["c"], "string")
    assert info.value.Message == "Can not convert Object to String."
    with pytest.raises(ArgumentException) as info2:
        cast(o["b"], "int")
    assert info2.value.Message == "Can not convert Array to Int32."
    with pytest.raises(ArgumentException) as info3:
        cast(JValue(None), "int")
    assert info3.value.Message == "Can not convert Null to Int32."
    with pytest.raises(FormatException):
        cast(JValue("abc"), "int")
    with pytest.raises(ArgumentNullException):
        JToken.explicit_conversion(o["missing"], type_ref("int"))
    with pytest.raises(InvalidCastException):
        cast(o["b"], "JObject")
    assert cast(o["c"], "JObject") is o["c"]
    assert cast(o["missing"], "string") is None
    assert cast(o["missing"], "JObject") is None


def test_value_and_values() -> None:
    o = JObject.Parse('{"n": 5, "s": "7", "arr": [1, 2, 3], "objs": [{"id": "a"}, {"id": "b"}], "z": null}')
    assert o.Value("int", "n") == 5
    assert o.Value("string", "n") == "5"
    assert o.Value("int", "s") == 7
    assert o.Value("int", "missing") == 0
    assert o.Value("string", "missing") is None
    assert o.Value("int?", "missing") is None
    assert o.Value("string", "z") is None
    assert o["n"].ValueOf("int") == 5 and o.ValueOf("int", "n") == 5
    assert o["arr"].Values("int") == [1, 2, 3]
    assert o["arr"].Values("string") == ["1", "2", "3"]
    assert o["objs"].Values("string", "id") == ["a", "b"]
    with pytest.raises(InvalidCastException) as info:
        o.Value("string", "arr")
    assert info.value.Message == "Cannot cast Newtonsoft.Json.Linq.JArray to System.String."


def test_construction() -> None:
    o = JObject(
        JProperty("name", "api"), JProperty("n", 3), JProperty("tags", ["a", "b"]), JProperty("none", None)
    )
    assert o.ToString(NONE) == '{"name":"api","n":3,"tags":["a","b"],"none":null}'
    nested = JObject(JProperty("inner", JObject(JProperty("x", 1))), JProperty("arr", JArray(1, "two", 3.5)))
    assert nested.ToString(NONE) == '{"inner":{"x":1},"arr":[1,"two",3.5]}'
    assert JArray([1, 2], 3).ToString(NONE) == "[1,2,3]"
    assert JArray(x * 2 for x in range(3)).ToString(NONE) == "[0,2,4]"
    assert JObject().ToString() == "{}"
    assert JArray().ToString() == "[]"
    assert JProperty("p", 1).ToString() == '"p": 1'
    with pytest.raises(ArgumentException) as info:
        JObject(JProperty("a", 1), JProperty("a", 2))
    assert info.value.Message == (
        "Can not add property a to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
    )
    # lenient where C# would not compile or would throw: dictionaries become objects
    assert JProperty("x", {"a": 1}).ToString(NONE) == '"x":{"a":1}'


def test_reparenting_clones() -> None:
    source = JObject.Parse('{"a": {"b": 1}}')
    target = JObject()
    target["copy"] = source["a"]
    target["copy"]["b"] = 2
    assert cast(source["a"]["b"], "int") == 1
    assert cast(target["copy"]["b"], "int") == 2
    assert target["copy"].Parent.Name == "copy"


def test_mutation_members() -> None:
    o = JObject.Parse('{"a": 1, "b": 2}')
    o.Add("c", 3)
    o["d"] = "four"
    o["a"] = JArray(1)
    assert o.Remove("b") is True
    assert o.Remove("zz") is False
    assert o.ContainsKey("c") and not o.ContainsKey("b")
    assert o.TryGetValue("c")[0] is True and cast(o.TryGetValue("c")[1], "int") == 3
    assert o.TryGetValue("zz") == (False, None)
    assert o.Count == 3
    assert [p.Name for p in o.Properties()] == ["a", "c", "d"]
    assert o.Property("c").Value.ToString() == "3"
    assert o.Property("nope") is None
    assert o.ToString(NONE) == '{"a":[1],"c":3,"d":"four"}'
    with pytest.raises(ArgumentException) as info:
        o.Add("c", 5)
    assert (
        info.value.Message
        == "Can not add property c to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
    )
    o.Property("a").Remove()
    assert o.ToString(NONE) == '{"c":3,"d":"four"}'
    arr = JArray(1, 2, 3)
    arr.Add(4)
    arr.RemoveAt(0)
    arr.Insert(0, "x")
    arr[1] = 20
    assert arr.ToString(NONE) == '["x",20,3,4]' and arr.Count == 4
    arr[0].Remove()
    assert arr.ToString(NONE) == "[20,3,4]"
    o["c"].Replace(JValue(30))
    assert o.ToString(NONE) == '{"c":30,"d":"four"}'
    o.Property("c").AddAfterSelf(JProperty("c2", True))
    assert o.ToString(NONE) == '{"c":30,"c2":true,"d":"four"}'


def test_navigation() -> None:
    o = JObject.Parse('{"a": {"b": [10, {"c d": 1}]}}')
    token = o["a"]["b"][1]["c d"]
    assert token.Path == "a.b[1]['c d']"
    assert token.Root is o
    assert o["a"]["b"].First.ToString() == "10"
    assert o["a"]["b"].Last.Type == JTokenType.Object
    assert o["a"]["b"][0].Next is o["a"]["b"][1]
    assert o.HasValues and not JObject().HasValues
    assert len(o.Descendants()) == 8
    assert [c.Type for c in o.Children()] == [JTokenType.Property]
    pairs = list(iterate(o))
    assert pairs[0].Key == "a" and pairs[0].Value is o["a"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("store.book[0].title", "A"),
        ("$.store.book[1].price", "12.5"),
        ("store['name']", "shop"),
        ("store.book[?(@.price > 10)].title", "B"),
        ("store.book[?(@.title == 'A')].price", "8"),
        ("['store'].book[-0].title", "A"),
        ("store.missing", None),
        ("store.book[9]", None),
        ("store.book[0].missing.deeper", None),
    ],
)
def test_select_token(path: str, expected: str | None) -> None:
    o = JObject.Parse(
        '{"store": {"name": "shop", "book": [{"title": "A", "price": 8}, {"title": "B", "price": 12.5}]}}'
    )
    token = o.SelectToken(path)
    assert (None if token is None else token.ToString()) == expected


def test_select_tokens_and_errors() -> None:
    o = JObject.Parse('{"a": [{"id": 1}, {"id": 2}], "b": {"id": 3}}')
    assert [t.ToString() for t in o.SelectTokens("a[*].id")] == ["1", "2"]
    assert [t.ToString() for t in o.SelectTokens("..id")] == ["1", "2", "3"]
    assert [t.ToString() for t in o.SelectTokens("a[0:1].id")] == ["1"]
    with pytest.raises(JsonException) as info:
        o.SelectToken("..id")
    assert info.value.Message == "Path returned multiple tokens."
    with pytest.raises(JsonException):
        o.SelectToken("zz", True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a":}', "Unexpected character encountered while parsing value: }. Path 'a', line 1, position 6."),
        (
            '{"a":1} x',
            "Additional text encountered after finished reading JSON content: x. Path '', line 1, position 9.",
        ),
        ("abc", "Unexpected character encountered while parsing value: a. Path '', line 1, position 1."),
        (
            "[1]",
            "Error reading JObject from JsonReader. Current JsonReader item is not an object: StartArray. Path '', line 1, position 1.",
        ),
        (
            '{"a" 1}',
            "Invalid character after parsing property name. Expected ':' but got: 1. Path '', line 1, position 6.",
        ),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(JsonReaderException) as info:
        JObject.Parse(text)
    assert info.value.Message == message


def test_lenient_parsing() -> None:
    o = JObject.Parse("{'single': 'q', unquoted: 1, /* c */ \"trailing\": [1,2,],}")
    assert o.ToString(NONE) == '{"single":"q","unquoted":1,"trailing":[1,2]}'
    assert JToken.Parse("  42 ").Type == JTokenType.Integer
    assert JArray.Parse("[]").Count == 0
    with pytest.raises(JsonReaderException):
        JArray.Parse("{}")
    with pytest.raises(ArgumentNullException):
        JObject.Parse(None)


def test_dates_in_json() -> None:
    o = JObject.Parse(
        '{"t": "2024-01-02T03:04:05Z", "u": "2024-01-02T03:04:05.120+02:00", "p": "2024-01-02", "s": "2024-01-02T03:04:05"}'
    )
    assert o["t"].Type == JTokenType.Date
    assert o["p"].Type == JTokenType.String
    assert cast(o["t"], "string") == "01/02/2024 03:04:05"
    assert (
        o.ToString(NONE)
        == '{"t":"2024-01-02T03:04:05Z","u":"2024-01-02T01:04:05.12+00:00","p":"2024-01-02","s":"2024-01-02T03:04:05"}'
    )
    dt = cast(o["t"], "DateTime")
    assert dt.Kind == DateTimeKind.Utc and dt.Hour == 3
    assert JValue(DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc)).ToString(NONE) == '"2024-05-06T07:08:09Z"'


def test_jsonconvert() -> None:
    anon = {"id": 1, "name": "x", "tags": ["a"], "nested": {"ok": True}, "missing": None}
    assert (
        JsonConvert.SerializeObject(anon)
        == '{"id":1,"name":"x","tags":["a"],"nested":{"ok":true},"missing":null}'
    )
    assert JsonConvert.SerializeObject({"a": 1}, Formatting.Indented) == '{\r\n  "a": 1\r\n}'
    assert JsonConvert.SerializeObject("s") == '"s"'
    assert JsonConvert.SerializeObject(None) == "null"
    assert JsonConvert.SerializeObject([1, "a", None]) == '[1,"a",null]'
    assert JsonConvert.SerializeObject(KeyValuePair("k", 1)) == '{"Key":"k","Value":1}'
    assert JsonConvert.SerializeObject(Tuple.Create("a", 2)) == '{"Item1":"a","Item2":2}'
    assert JsonConvert.SerializeObject(JObject.Parse('{"a": 1}')) == '{"a":1}'
    parsed = JsonConvert.DeserializeObject('{"a": [1]}')
    assert isinstance(parsed, JObject)
    assert JsonConvert.DeserializeObject("5") == 5
    assert JsonConvert.DeserializeObject('"s"') == "s"
    assert JsonConvert.DeserializeObject('{"a":"b"}', "Dictionary<string,string>") == {"a": "b"}
    assert JsonConvert.DeserializeObject("[1,2]", "int[]") == [1, 2]
    assert isinstance(JsonConvert.DeserializeObject('{"a":1}', "JObject"), JObject)


def test_from_object_and_to_object() -> None:
    token = JToken.FromObject({"a": [1, 2], "b": None})
    assert token.ToString(NONE) == '{"a":[1,2],"b":null}'
    assert JObject.FromObject({"x": 1})["x"].ToString() == "1"
    assert token["a"].ToObject("List<int>") == [1, 2]
    assert token.ToObject("Dictionary<string,object>")["b"] is None
    assert JToken.Parse('"x"').ToObject("string") == "x"
    assert JToken.Parse("3").ToObject("int") == 3


def test_deep_equals_and_type_checks() -> None:
    a = JObject.Parse('{"x": [1, 2.0, "s"]}')
    b = JObject.Parse('{"x": [1, 2, "s"]}')
    # Newtonsoft compares JValue types first: Integer 2 and Float 2.0 differ (the C# oracle agrees)
    assert not JToken.DeepEquals(a, b)
    assert JToken.DeepEquals(a, JObject.Parse('{"x": [1, 2.0, "s"]}'))
    assert not JToken.DeepEquals(a, JObject.Parse('{"x": [1]}'))
    assert a["x"] != b["x"]
    assert JValue(5).Equals(JValue(5))
    assert is_type(a, "JObject") and is_type(a, "JToken") and not is_type(a, "JArray")
    assert is_type(a["x"], "JArray") and is_type(a["x"][0], "JValue")
    merged = JObject.Parse('{"a": 1, "o": {"p": 1}}')
    merged.Merge(JObject.Parse('{"b": 2, "o": {"q": 2}}'))
    assert merged.ToString(NONE) == '{"a":1,"o":{"p":1,"q":2},"b":2}'


def test_max_depth_like_newtonsoft_13() -> None:
    assert JToken.Parse("[" * 64 + "]" * 64).Type == JTokenType.Array
    for text in ("[" * 65 + "]" * 65, "[" * 100_000, '{"a":' * 70 + "1" + "}" * 70):
        with pytest.raises(JsonReaderException) as info:
            JToken.Parse(text)
        assert info.value.Message.startswith("The reader's MaxDepth of 64 has been exceeded.")
