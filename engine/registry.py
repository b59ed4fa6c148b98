"""The policy registry: tag -> Policy instance, discovered from the `policies` package."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

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
    """Instantiate every concrete Policy subclass defined in the modules of `package`."""
    found: list[Policy] = []
    root = importlib.import_module(package)
    for info in sorted(pkgutil.walk_packages(root.__path__, prefix=f"{package}."), key=lambda i: i.name):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Policy) and obj is not Policy and obj.__module__ == module.__name__:
                if "tag" in obj.__dict__:
                    found.append(obj())
    return found


@cache
def default_registry() -> PolicyRegistry:
    """The registry of every built-in policy (cached; treat as read-only)."""
    return PolicyRegistry(discover_policies())
