"""Lookup tables of the compiler: result types of common members, fast casts, operator maps."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.dotnet.containers import new_dictionary, new_hashset
from engine.expr import members as M
from engine.expr.gates import iterate
from engine.expr.members import DYNAMIC, CsType

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
    ("string", "Length"): M.INT, ("string", "Split"): M.STRING_ARRAY, ("*", "ToString"): M.STRING,
    ("string", "Substring"): M.STRING, ("string", "Replace"): M.STRING, ("string", "Trim"): M.STRING,
    ("string", "TrimStart"): M.STRING, ("string", "TrimEnd"): M.STRING, ("string", "ToLower"): M.STRING,
    ("string", "ToUpper"): M.STRING, ("string", "ToLowerInvariant"): M.STRING,
    ("string", "ToUpperInvariant"): M.STRING, ("string", "PadLeft"): M.STRING, ("string", "PadRight"): M.STRING,
    ("string", "Insert"): M.STRING, ("string", "Remove"): M.STRING, ("string", "StartsWith"): M.BOOL,
    ("string", "EndsWith"): M.BOOL, ("string", "Contains"): M.BOOL, ("string", "Equals"): M.BOOL,
    ("string", "IndexOf"): M.INT, ("string", "LastIndexOf"): M.INT, ("string", "Item"): M.CHAR,
    ("string[]", "Length"): M.INT, ("*", "Count"): M.INT, ("*", "Any"): M.BOOL, ("*", "All"): M.BOOL,
    ("*", "Contains"): M.BOOL, ("*", "AsJwt"): DYNAMIC,
}
_ELEMENT_RESULTS = frozenset({"First", "FirstOrDefault", "Last", "LastOrDefault", "Single", "SingleOrDefault",
                              "ElementAt", "ElementAtOrDefault"})
_STATIC_RESULTS: dict[str, CsType] = {
    "string.IsNullOrEmpty": M.BOOL, "String.IsNullOrEmpty": M.BOOL, "string.IsNullOrWhiteSpace": M.BOOL,
    "String.IsNullOrWhiteSpace": M.BOOL, "string.Join": M.STRING, "String.Join": M.STRING,
    "string.Format": M.STRING, "String.Format": M.STRING, "string.Concat": M.STRING, "String.Concat": M.STRING,
    "Convert.ToBase64String": M.STRING, "Convert.ToInt32": M.INT, "Convert.ToString": M.STRING,
    "int.Parse": M.INT, "Int32.Parse": M.INT, "long.Parse": M.LONG, "Int64.Parse": M.LONG,
    "double.Parse": M.DOUBLE, "Double.Parse": M.DOUBLE, "bool.Parse": M.BOOL, "Boolean.Parse": M.BOOL,
    "int.TryParse": M.BOOL, "Int32.TryParse": M.BOOL, "long.TryParse": M.BOOL, "double.TryParse": M.BOOL,
    "bool.TryParse": M.BOOL, "Uri.EscapeDataString": M.STRING, "Uri.UnescapeDataString": M.STRING,
    "WebUtility.UrlEncode": M.STRING, "WebUtility.UrlDecode": M.STRING, "Math.Abs": DYNAMIC,
    "Regex.IsMatch": M.BOOL, "Regex.Replace": M.STRING,
}
