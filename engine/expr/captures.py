"""Loop variables a lambda captures: C# gives each iteration its own copy (a `foreach` variable, a
local declared in a loop body), while the compiled code keeps every local in one slot of `env`.

The emitter snapshots such a variable when it creates the lambda and shows the lambda that value
(`foreach (var i in xs) fs.Add(() => i)`: `fs[0]()` is the first item, as in C# 5 and later).
Only variables that are never assigned after their declaration qualify (a `foreach` variable is
read-only in C#), so a snapshot and the variable always hold the same value.
"""

from __future__ import annotations

from typing import Any

from engine.expr import ast
from engine.expr.bind import Bindings
from engine.expr.closures import Fn, _make_lambda


def referenced(node: Any, bound: Bindings) -> set[int]:
    """The slots of the locals that `node` reads or writes by name."""
    slots = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Name):
            local = bound.symbol(item).local
            if local is not None:
                slots.add(local.slot)
    return slots


def assigned(node: Any, bound: Bindings) -> set[int]:
    """The slots of the locals assigned below `node` (`x = ...`, `x += ...`, `x++`, `out x`, `ref x`)."""
    slots = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Assign | ast.IncDec) and isinstance(item.target, ast.Name):
            local = bound.symbol(item.target).local
            if local is not None:
                slots.add(local.slot)
        elif isinstance(item, ast.Arg) and item.out is not None and (id(item), 0) in bound.locals:
            slots.add(bound.local(item).slot)
    return slots


def iteration_locals(body: Any, bound: Bindings) -> set[int]:
    """The slots of the locals declared in a loop body and never assigned again."""
    declared = {bound.local(d).slot for item in ast.walk(body) if isinstance(item, ast.LocalDecl)
                for d in item.declarators if (id(d), 0) in bound.locals}
    return declared - assigned(body, bound)


def snapshot_lambda(captured: list[int], slots: list[int], body: Fn) -> Fn:
    """A lambda factory (see `closures._make_lambda`) that remembers the `captured` slots' values
    when it creates the lambda and shows them to the lambda's body while it runs (the loop's own
    values are put back after)."""

    def make(env: list[Any]) -> Any:
        saved = [env[slot] for slot in captured]

        def run(frame: list[Any]) -> Any:
            current = [frame[slot] for slot in captured]
            for slot, value in zip(captured, saved, strict=True):
                frame[slot] = value
            try:
                return body(frame)
            finally:
                for slot, value in zip(captured, current, strict=True):
                    frame[slot] = value

        return _make_lambda(slots, run)(env)

    return make
