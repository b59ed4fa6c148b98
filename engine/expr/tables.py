"""Lookup tables of the compiler: result types of common members, fast casts, operator maps."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.dotnet.containers import new_dictionary, new_hashset
from engine.expr.cstypes import BOOL, CHAR, DOUBLE, DYNAMIC, INT, LONG, STRING, STRING_ARRAY, CsType
from engine.expr.gates import iterate

# Expressions using these get a per-evaluation meter even when small (decided at compile time): the
# library loops over whole sequences or documents for them, checking the meter's deadline every
# `limits.PACE` elements (`limits.paced`). Regex: backtracking matches stop at the same deadline.
METERED_TYPES = frozenset({
    "Regex", "Enumerable", "JsonConvert", "JToken", "JObject", "JArray", "JValue", "JProperty",
    "XDocument", "XElement", "XNode",
})
METERED_MEMBERS = frozenset({
    "As", "AsFormUrlEncodedContent", "ToList", "ToArray", "ToDictionary", "ToHashSet", "ToLookup",
    "Join", "Concat", "SerializeObject", "DeserializeObject", "FromObject", "DeepClone", "Distinct",
    "Reverse", "Union", "Intersect", "Except", "SequenceEqual", "Sum", "Average",
    "AddRange", "InsertRange", "Descendants", "DescendantsAndSelf", "SelectTokens",
})

_EQ_OPS: dict[str, Callable[[Any, Any], bool]] = {"==": operator.eq, "!=": operator.ne}
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, ">": operator.gt, "<=": operator.le,
                                                     ">=": operator.ge}

_PY_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
}

_FAST_CASTS: dict[str, tuple[type, int | None]] = {
    "string": (str, None), "String": (str, None), "int": (int, 2**31), "Int32": (int, 2**31),
    "bool": (bool, None), "Boolean": (bool, None), "double": (float, None),
}

_VALUE_DEFAULTS: dict[str, Any] = {"int": 0, "long": 0, "short": 0, "byte": 0, "double": 0.0, "float": 0.0,
                                   "bool": False, "decimal": Decimal(0), "uint": 0, "ulong": 0}


def _new_list(*args: Any) -> list[Any]:
    if args and not isinstance(args[0], int):
        return list(iterate(args[0], (0, 0)))
    return []


_GENERIC_COLLECTIONS: dict[str, Callable[..., Any]] = {
    "List": _new_list, "IList": _new_list, "Dictionary": new_dictionary, "HashSet": new_hashset,
    "IDictionary": new_dictionary, "IEnumerable": _new_list,
}
_EXTRA_TYPE_NAMES = frozenset({"KeyValuePair", "IEnumerable", "IReadOnlyDictionary", "IList", "ICollection",
                               "Func", "Action", "IReadOnlyList", "IEnumerable<JToken>", "Nullable"})

_BUILTIN_RESULTS: dict[tuple[str, str], CsType] = {
    ("string", "Length"): INT, ("string", "Split"): STRING_ARRAY, ("*", "ToString"): STRING,
    ("string", "Substring"): STRING, ("string", "Replace"): STRING, ("string", "Trim"): STRING,
    ("string", "TrimStart"): STRING, ("string", "TrimEnd"): STRING, ("string", "ToLower"): STRING,
    ("string", "ToUpper"): STRING, ("string", "ToLowerInvariant"): STRING,
    ("string", "ToUpperInvariant"): STRING, ("string", "PadLeft"): STRING, ("string", "PadRight"): STRING,
    ("string", "Insert"): STRING, ("string", "Remove"): STRING, ("string", "StartsWith"): BOOL,
    ("string", "EndsWith"): BOOL, ("string", "Contains"): BOOL, ("string", "Equals"): BOOL,
    ("string", "IndexOf"): INT, ("string", "LastIndexOf"): INT, ("string", "Item"): CHAR,
    ("string[]", "Length"): INT, ("*", "Count"): INT, ("*", "Any"): BOOL, ("*", "All"): BOOL,
    ("*", "Contains"): BOOL, ("*", "AsJwt"): DYNAMIC,
}
_ELEMENT_RESULTS = frozenset({"First", "FirstOrDefault", "Last", "LastOrDefault", "Single", "SingleOrDefault",
                              "ElementAt", "ElementAtOrDefault"})
_STATIC_RESULTS: dict[str, CsType] = {
    "string.IsNullOrEmpty": BOOL, "String.IsNullOrEmpty": BOOL, "string.IsNullOrWhiteSpace": BOOL,
    "String.IsNullOrWhiteSpace": BOOL, "string.Join": STRING, "String.Join": STRING,
    "string.Format": STRING, "String.Format": STRING, "string.Concat": STRING, "String.Concat": STRING,
    "Convert.ToBase64String": STRING, "Convert.ToInt32": INT, "Convert.ToString": STRING,
    "int.Parse": INT, "Int32.Parse": INT, "long.Parse": LONG, "Int64.Parse": LONG,
    "double.Parse": DOUBLE, "Double.Parse": DOUBLE, "bool.Parse": BOOL, "Boolean.Parse": BOOL,
    "int.TryParse": BOOL, "Int32.TryParse": BOOL, "long.TryParse": BOOL, "double.TryParse": BOOL,
    "bool.TryParse": BOOL, "Uri.EscapeDataString": STRING, "Uri.UnescapeDataString": STRING,
    "WebUtility.UrlEncode": STRING, "WebUtility.UrlDecode": STRING, "Math.Abs": DYNAMIC,
    "Regex.IsMatch": BOOL, "Regex.Replace": STRING,
}
