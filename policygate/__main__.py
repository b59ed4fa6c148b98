"""`python -m policygate` and the `policygate` command."""

from __future__ import annotations

import sys

from policygate import check_import_names


def main(argv: list[str] | None = None) -> int:
    problem = check_import_names()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    from engine.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
