"""The worked example of docs/contributing.md works: its policy module and its test module, verbatim."""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
import types
from pathlib import Path

from engine.policy import Policy
from engine.registry import default_registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "contributing.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_worked_example_runs_as_documented() -> None:
    policy_source, test_source = python_blocks()
    module = types.ModuleType("policies.set_correlation_id")
    sys.modules[module.__name__] = module
    registry = default_registry()
    try:
        exec(compile(policy_source, "policies/set_correlation_id.py", "exec"), module.__dict__)  # noqa: S102
        policy_class = next(obj for obj in vars(module).values()
                            if inspect.isclass(obj) and issubclass(obj, Policy) and obj is not Policy)
        registry.register(policy_class())  # what discovery does for a module in policies/
        tests: dict[str, object] = {}
        exec(compile(test_source, "tests/policies/test_set_correlation_id.py", "exec"), tests)  # noqa: S102
        ran = 0
        for name, function in tests.items():
            if name.startswith("test_") and callable(function):
                result = function()
                if inspect.iscoroutine(result):
                    asyncio.run(result)
                ran += 1
        assert ran == 2
    finally:
        registry._by_tag.pop("set-correlation-id", None)
        sys.modules.pop(module.__name__, None)
