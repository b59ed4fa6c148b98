"""`policygate test PATH...`: run policy test files (`*.policytest.yaml`) and report.

Exit codes: 0 every case passed, 1 an expectation failed, 2 a test file, document or option is
unusable (located errors, never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="test files or folders (*.policytest.yaml, recursive)")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML for CI")
    parser.add_argument("--coverage", action="store_true", help="report which policies, branches and expressions ran")
    parser.add_argument("--coverage-html", metavar="DIR", help="also write the annotated coverage report (HTML) to DIR")
    parser.add_argument("--coverage-xml", metavar="FILE", help="also write the coverage as Cobertura XML (for CI)")
    parser.add_argument("--redis-url", metavar="URL",
                        help="Redis for cases with `redis: true` (default: start a throwaway redis-server)")
    parser.add_argument("-k", metavar="TEXT", dest="select", help="run only the cases whose name contains TEXT")
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")


def run(args: argparse.Namespace) -> int:
    from engine.testing.report import render_text, write_junit
    from engine.testing.runner import Runner, UsageError

    coverage = None
    if args.coverage or args.coverage_html or args.coverage_xml:
        from engine.testing.coverage import Coverage

        coverage = Coverage()
    runner = Runner(observer=coverage, redis_url=args.redis_url, select=args.select)
    try:
        result = asyncio.run(runner.run_paths(args.paths))
    except UsageError as exc:
        print(f"policygate test: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        runner.close()
    if not result.files and not result.problems:
        print(f"policygate test: no *.policytest.yaml files under {' '.join(args.paths)}", file=sys.stderr)
        return EXIT_USAGE
    if args.select and not result.problems and not any(True for _ in result.cases()):
        print(f"policygate test: no case name contains {args.select!r}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render_text(result, verbose=args.verbose))
    if args.junit:
        try:
            write_junit(result, args.junit)
        except OSError as exc:
            print(f"policygate test: --junit {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    if coverage is not None:
        sys.stdout.write(coverage.render_text())
        if args.coverage_html:
            print(f"coverage report: {coverage.write_html(args.coverage_html)}")
        if args.coverage_xml:
            coverage.write_cobertura(args.coverage_xml)
    return result.exit_code
