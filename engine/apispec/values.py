"""Parameter values as sent (strings) read into the JSON values their schema describes.

`?limit=10` becomes 10 for an integer parameter, `?tags=a,b` (style form, explode false) or
`?tags=a&tags=b` (explode true) the list ["a", "b"]. A value that cannot be read raises
`ValueError` with the reason; the policy reports it as "couldn't be parsed".
"""

from __future__ import annotations

import math
import re

from engine.apispec import ParameterSpec

_INTEGER = re.compile(r"[+-]?\d+")
_SEPARATORS = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}


class MultipleValues(ValueError):
    """A parameter that takes one value was sent more than once."""


def read_parameter(spec: ParameterSpec, values: list[str]) -> object:
    """The JSON value of `values` (every occurrence of the parameter, in order) per `spec`."""
    if spec.kind == "array":
        if spec.location == "query" and spec.style in ("", "form") and spec.explode:
            items = values
        elif spec.location == "header":  # repeated header lines are one comma-separated list
            items = [item.strip() for item in ",".join(values).split(",")] if any(values) else []
        elif len(values) > 1:
            raise MultipleValues(spec.name)
        else:
            separator = _SEPARATORS.get(spec.style, ",")
            items = values[0].split(separator) if values[0] != "" else []
        return [read_scalar(spec.items, item) for item in items]
    if len(values) > 1:
        raise MultipleValues(spec.name)
    return read_scalar(spec.kind, values[0])


def read_scalar(kind: str, text: str) -> object:
    """One value: integer, number and boolean are read; anything else stays a string."""
    if kind == "integer":
        if not _INTEGER.fullmatch(text.strip()):
            raise ValueError(f"'{text}' is not an integer")
        return int(text)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"'{text}' is not a finite number")
        return int(number) if number.is_integer() and _INTEGER.fullmatch(text.strip()) else number
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"'{text}' is not a boolean (true or false)")
        return lowered == "true"
    return text
