"""The `policygate` command's launcher: `python -m policygate`, `policygate --version`.

The code lives in the top-level packages `engine` and `policies`, installed side by side with this
one by the `apim-policygate` distribution. Those are common names: a folder called `engine/` or
`policies/` in the current directory (or on PYTHONPATH) would be imported instead of ours, so the
launcher checks where they resolve before importing them and stops with one clear message.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGES = ("engine", "policies")  # the import names this distribution installs besides `policygate`
HOME = Path(__file__).resolve().parent.parent  # where the distribution's packages are installed


def import_name_problem(name: str) -> str | None:
    """Why the package `name` is not this distribution's (None when it is)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        return f"policygate: cannot import '{name}': {exc}"
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if spec is None or not locations:
        return f"policygate: the package '{name}' is missing from the installation in {HOME}; reinstall apim-policygate"
    found = Path(locations[0]).resolve()
    if found.parent != HOME:
        return (
            f"policygate: '{name}' resolves to {found}, not to the installed policygate ({HOME / name}). "
            f"A folder named '{name}' in the current directory or on PYTHONPATH hides it: "
            f"rename that folder or run policygate from another directory."
        )
    return None


def check_import_names() -> str | None:
    """The first import-name problem of `engine`/`policies`, or None when both are this distribution's."""
    for name in PACKAGES:
        problem = import_name_problem(name)
        if problem is not None:
            return problem
    return None
