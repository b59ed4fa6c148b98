"""Look up runtime classes by their C# short name (used by casts and ``is``/``as``)."""

from __future__ import annotations

import importlib

_MODULES = {
    "JToken": "newtonsoft",
    "JContainer": "newtonsoft",
    "JObject": "newtonsoft",
    "JArray": "newtonsoft",
    "JValue": "newtonsoft",
    "JProperty": "newtonsoft",
    "JRaw": "newtonsoft",
    "DateTime": "datetimes",
    "System.DateTime": "datetimes",
    "TimeSpan": "datetimes",
    "System.TimeSpan": "datetimes",
    "DateTimeOffset": "datetimes",
    "System.DateTimeOffset": "datetimes",
    "Guid": "guid",
    "System.Guid": "guid",
    "Uri": "uri",
    "System.Uri": "uri",
    "Regex": "regex",
    "Match": "regex",
    "Group": "regex",
    "StringBuilder": "stringbuilder",
    "System.Text.StringBuilder": "stringbuilder",
    "Jwt": "jwt",
    "BasicAuthCredentials": "jwt",
    "XObject": "xlinq",
    "XNode": "xlinq",
    "XContainer": "xlinq",
    "XElement": "xlinq",
    "XDocument": "xlinq",
    "XAttribute": "xlinq",
    "XText": "xlinq",
    "XName": "xlinq",
    "Exception": "errors",
    "System.Exception": "errors",
}

_ALIASES = {"Exception": "DotNetException", "System.Exception": "DotNetException"}


def runtime_class(name: str) -> type | None:
    """The runtime class for a C# type name, or ``None`` if it is not a runtime class."""
    module = _MODULES.get(name)
    if module is None:
        if name.endswith("Exception"):
            from . import errors

            return getattr(errors, name.rsplit(".", 1)[-1], None)
        return None
    mod = importlib.import_module(f"{__package__}.{module}")
    attr = _ALIASES.get(name, name.rsplit(".", 1)[-1])
    return getattr(mod, attr, None)


__all__ = ["runtime_class"]
