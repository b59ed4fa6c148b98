"""Lint the reference corpus (../shared/corpus) and report findings and CPU time.

Usage: python scripts/lint_corpus.py [CORPUS_DIR]

The corpus files are named `examples__<original path with / as __>`; fragments are included
by their original file name, so fragment ids are rebuilt from it. Start-up (imports, policy
discovery, building the expression grammar) is excluded from the measured time: a small
document is linted first, then the whole corpus is linted and timed with time.process_time().
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.diagnostics import render_text  # noqa: E402
from engine.lint import LintReport, lint_paths  # noqa: E402
from engine.registry import default_registry  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
WARM_UP = '<policies><inbound><set-variable name="a" value="@(context.Request.Method.ToLower())" /></inbound></policies>'


def original_fragment_ids(files: list[Path]) -> dict[str, str]:
    """`examples__oauth-proxy__x-fragment.xml` -> id `x-fragment` (its name in the source repo)."""
    return {str(f): f.name.rsplit("__", 1)[-1].removesuffix(".xml") for f in files}


def main(argv: list[str]) -> int:
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}", file=sys.stderr)
        return 2
    files = sorted(corpus.glob("*.xml"))
    registry = default_registry()
    warm = Path(ROOT / "build" / "lint-warm-up.xml")
    warm.parent.mkdir(exist_ok=True)
    warm.write_text(WARM_UP, encoding="utf-8")
    lint_paths([warm], registry=registry)

    ids = original_fragment_ids(files)
    first_start = time.process_time()
    report: LintReport = lint_paths(files, registry=registry, fragment_ids=ids)
    first = time.process_time() - first_start
    second_start = time.process_time()
    lint_paths(files, registry=registry, fragment_ids=ids)
    second = time.process_time() - second_start

    for diagnostic in report.diagnostics:
        print(render_text(diagnostic, report.sources.get(diagnostic.span.file)))
    with_errors = {d.span.file for d in report.diagnostics if d.is_error}
    with_findings = {d.span.file for d in report.diagnostics}
    print(
        f"{len(files)} files: {len(with_errors)} with errors, {len(with_findings - with_errors)} with warnings only, "
        f"{len(files) - len(with_findings)} clean; {report.errors} errors, {report.warnings} warnings; "
        f"CPU time after start-up: {first * 1000:.0f} ms (second run {second * 1000:.0f} ms)"
    )
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
