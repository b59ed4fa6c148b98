"""``Newtonsoft.Json.JsonConvert``: ``SerializeObject`` and ``DeserializeObject``.

Anonymous objects and dictionaries (``dict``) serialize as JSON objects in key order, sequences as
arrays, ``null`` members are kept; dates use ISO 8601 (``2024-01-02T03:04:05Z``).
"""

from __future__ import annotations

from typing import Any

from .errors import FormatException, JsonReaderException, OverflowException
from .jsonreader import read_json
from .jtokenvalues import to_object
from .newtonsoft import Formatting, JToken, JValue, from_object, from_parsed
from .primitives import type_ref


def _date_hook(text: str) -> Any:
    from .datetimes import parse_json_date

    return parse_json_date(text)


class JsonConvert:
    """Statics of ``Newtonsoft.Json.JsonConvert``."""

    dotnet_name = "Newtonsoft.Json.JsonConvert"
    True_ = "true"
    False_ = "false"
    Null = "null"

    @staticmethod
    def SerializeObject(value: Any, *args: Any) -> str:
        formatting = next((a for a in args if isinstance(a, Formatting)), Formatting.None_)
        if value is None:
            return "null"
        token = value if isinstance(value, JToken) else from_object(value)
        return (
            token.ToString(formatting) if not isinstance(token, JValue) else token.ToString(Formatting.None_)
        )

    @staticmethod
    def DeserializeObject(text: str, type_arg: Any = None, *settings: Any) -> Any:
        """``DeserializeObject(json)`` or ``DeserializeObject<T>(json)`` (pass ``T`` as ``type_arg``)."""
        if text is None:
            from .errors import ArgumentNullException

            raise ArgumentNullException("value")
        data = read_json(text, _date_hook) if text.strip() else None
        if data is None and not text.strip():
            return None
        token = from_parsed(data)
        if type_arg is None or not isinstance(type_arg, str | type):
            if isinstance(token, JValue):
                return token.Value
            return token
        target = type_ref(type_arg)
        try:
            return to_object(token, target)
        except (FormatException, OverflowException) as exc:
            if not isinstance(token, JValue) or not isinstance(token.Value, str):
                raise
            # JsonTextReader reads the scalar as the target type and reports it as a reader error
            kind = {"Int32": "integer", "Int64": "integer", "Double": "double", "Decimal": "decimal",
                    "Boolean": "boolean", "DateTime": "DateTime"}.get(target.name.rsplit(".", 1)[-1], target.name)
            raise JsonReaderException(f"Could not convert string to {kind}: {token.Value}. Path '', line 1, "
                                      f"position {len(text.rstrip())}.") from exc

    @staticmethod
    def ToString(value: Any) -> str:
        return JValue(value).ToString(Formatting.None_)


__all__ = ["JsonConvert"]
