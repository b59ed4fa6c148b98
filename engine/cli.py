"""The `policygate` command: one entry point, one module per subcommand in engine/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys

from engine import DISTRIBUTION, distribution_version
from policygate import check_import_names

# subcommand name -> module under engine.commands exposing add_arguments(parser) and run(args) -> int
COMMANDS: dict[str, str] = {
    "serve": "serve",
    "lint": "lint",
    "check": "check",
    "eval": "eval_expr",
    "cache": "cache",
    "test": "test",
}

HELP: dict[str, str] = {
    "serve": "serve a gateway configuration",
    "lint": "check policy documents and report diagnostics",
    "check": "check a gateway configuration as serve would, without listening",
    "eval": "evaluate one policy expression against a synthetic request",
    "cache": "manage the response cache (purge)",
    "test": "run policy tests (*.policytest.yaml), optionally with policy coverage",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policygate", description="Run and lint Azure API Management policies.")
    parser.add_argument("--version", action="version", version=f"policygate {distribution_version()} ({DISTRIBUTION})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"engine.commands.{module_name}")
        command = sub.add_parser(name, help=HELP[name], description=HELP[name])
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    problem = check_import_names()  # `python -m engine` with a local `policies/` folder, for instance
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
