"""Dependencies run one way: gateway -> engine core <- policies (every import, lazy ones included)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The layers above the core: they may import the core and policies, never the other way round.
TOP = ("engine.gateway", "engine.commands", "engine.cli", "engine.__main__", "engine.testing", "policygate")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, path: Path) -> set[str]:
    """Every module an import statement in `source` names (top-level or inside a function)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def violations_in(sources: dict[Path, str], forbidden: tuple[str, ...], allowed_owner: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path, source in sources.items():
        name = module_name(path)
        if within(name, allowed_owner):
            continue
        found.extend(f"{name} imports {target}" for target in sorted(imports_of(source, path)) if within(target, forbidden))
    return found


def violations(paths: list[Path], forbidden: tuple[str, ...], allowed_owner: tuple[str, ...] = ()) -> list[str]:
    return violations_in({path: path.read_text() for path in paths}, forbidden, allowed_owner)


def test_policies_use_only_the_engine_core() -> None:
    assert violations(modules("policies"), TOP) == []


def test_engine_core_names_neither_the_gateway_nor_a_policy() -> None:
    assert violations(modules("engine"), (*TOP, "policies"), allowed_owner=TOP) == []


def test_gateway_reaches_policies_only_through_the_registry() -> None:
    assert violations(modules("engine/gateway"), ("policies",)) == []


def test_the_checker_sees_lazy_and_relative_imports() -> None:
    package = ROOT / "policies" / "example_probe.py"  # only parsed, never written: ast needs a path inside ROOT
    source = "def build():\n    from engine.gateway.pipeline import Pipeline\n    from . import _body\n"
    found = imports_of(source, package)
    assert {"engine.gateway.pipeline", "policies._body"} <= found
    assert violations_in({package: source}, TOP) == ["policies.example_probe imports engine.gateway.pipeline",
                                                     "policies.example_probe imports engine.gateway.pipeline.Pipeline"]
