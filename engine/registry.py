"""The policy registry: tag -> Policy instance, discovered from the `policies` package."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType

from engine.policy import Policy


class PolicyRegistry:
    """Maps XML tags to policy declarations; lint and the gateway share one."""

    def __init__(self, policies: list[Policy] | None = None) -> None:
        self._by_tag: dict[str, Policy] = {}
        for policy in policies or []:
            self.register(policy)

    def register(self, policy: Policy) -> None:
        if policy.tag in self._by_tag:
            raise ValueError(f"policy tag <{policy.tag}> registered twice")
        self._by_tag[policy.tag] = policy

    def get(self, tag: str) -> Policy | None:
        return self._by_tag.get(tag)

    def __contains__(self, tag: object) -> bool:
        return tag in self._by_tag

    def tags(self) -> list[str]:
        return sorted(self._by_tag)

    def all(self) -> list[Policy]:
        return [self._by_tag[t] for t in self.tags()]


def discover_policies(package: str = "policies") -> list[Policy]:
    """Instantiate every concrete Policy subclass defined in the modules of `package`.

    The package must be the one installed beside `engine` (a `policies/` folder in the current
    directory would otherwise be imported instead); its modules are found through the imported
    package object's own path, never by resolving names through sys.path.
    """
    root = importlib.import_module(package)
    _require_beside_engine(root)
    found: list[Policy] = []
    for info in sorted(pkgutil.walk_packages(root.__path__, prefix=f"{root.__name__}."), key=lambda i: i.name):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Policy) and obj is not Policy and obj.__module__ == module.__name__:
                if "tag" in obj.__dict__:
                    found.append(obj())
    return found


def _require_beside_engine(package: ModuleType) -> None:
    home = Path(__file__).resolve().parent.parent  # where the engine package is installed
    where = [Path(p).resolve() for p in getattr(package, "__path__", ())]
    if not where or where[0].parent != home:
        shown = where[0] if where else getattr(package, "__file__", package.__name__)
        raise ImportError(
            f"the package '{package.__name__}' resolves to {shown}, not to the policies installed with "
            f"policygate ({home / package.__name__}); a folder of that name in the current directory or "
            "on PYTHONPATH hides it: rename it or run policygate from another directory"
        )


@cache
def default_registry() -> PolicyRegistry:
    """The registry of every built-in policy (cached; treat as read-only)."""
    return PolicyRegistry(discover_policies())
