"""The table of C# types with statics names real modules of the .NET runtime library."""

from __future__ import annotations

import importlib

from engine.expr import library, names


def test_every_statics_entry_names_an_existing_module() -> None:
    for short, (module, _) in names._STATICS.items():
        assert importlib.util.find_spec(f"engine.dotnet.{module}") is not None, short


def test_types_without_statics_resolve_through_the_runtime_registry() -> None:
    missing = [short for short, spec in names._STATICS.items() if library.lib(*spec) is None]
    assert set(missing) <= {"HttpUtility", "List", "Dictionary", "HashSet", "Nullable"}
