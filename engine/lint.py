"""Lint policy documents: load, validate, check fragment inclusion; render text, JSON or SARIF.

The `policygate lint` command is a thin wrapper around `lint_paths` and the renderers here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine import distribution_version
from engine.compose import INCLUDE_FRAGMENT
from engine.diagnostics import Diagnostic, Diagnostics, Severity, render_text
from engine.document import load_document
from engine.expr.cache import ExpressionCache
from engine.model import PolicyDocument, PolicyElement
from engine.registry import PolicyRegistry
from engine.schema import Scope, Section
from engine.source import SourceFile
from engine.validate import validate

FRAGMENT_SUFFIXES = (".fragment", ".policy")
APIOPS_POLICY_FILE = "policy.xml"
APIOPS_MARKERS = ("apis", "products", "policy fragments", "namedValues")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
REPEAT_LIMIT = 20  # diagnostics of one code shown per file; the rest are counted, not listed
DOCS_URL = "https://github.com/policygate/policygate/blob/main/docs/"  # SARIF help links point here
CONFIGURATION_SUFFIXES = (".yaml", ".yml")


class LintUsageError(Exception):
    """Bad command-line input (missing path, unreadable named-values file): exit status 2."""


@dataclass
class LintReport:
    """Everything one lint run found, plus the sources needed to render it."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    files: int = 0
    truncated: bool = False
    omitted_errors: int = 0  # found but not listed: more than REPEAT_LIMIT of one code in one file
    omitted_warnings: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error) + self.omitted_errors

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if not d.is_error) + self.omitted_warnings

    @property
    def omitted(self) -> int:
        return self.omitted_errors + self.omitted_warnings


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, plus every *.xml below each folder (sorted); a missing path is a usage error."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.xml") if p.is_file()))
        elif path.is_file() and path.suffix.lower() in CONFIGURATION_SUFFIXES:
            raise LintUsageError(
                f"{item}: a gateway configuration file, not a policy document: "
                f"check it (and every document it names) with `policygate check {item}`"
            )
        elif path.is_file():
            files.append(path)
        else:
            raise LintUsageError(f"{item}: no such file or folder")
    return files


def fragment_id(path: str | Path) -> str:
    """A fragment file's id: its name without `.xml` (and without a `.fragment`/`.policy` suffix).

    In an APIOps folder a fragment is `policy fragments/<id>/policy.xml`: the folder names it.
    """
    if Path(path).name.lower() == APIOPS_POLICY_FILE and Path(path).parent.name:
        return Path(path).parent.name
    name = Path(path).name
    if name.lower().endswith(".xml"):
        name = name[:-4]
    for suffix in FRAGMENT_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def lint_paths(
    paths: Iterable[str | Path],
    *,
    named_values: Mapping[str, str] | None = None,
    fragments_dir: str | Path | None = None,
    fragment_ids: Mapping[str, str] | None = None,
    scope: str | None = None,
    registry: PolicyRegistry | None = None,
    max_errors: int | None = None,
) -> LintReport:
    """Lint every document under `paths`.

    Args:
        named_values: when given, `{{name}}` references must resolve (`named-value-unknown`).
        fragments_dir: folder of `<fragment>` documents that `include-fragment` may name.
        fragment_ids: explicit file path -> fragment id, overriding `fragment_id(path)`.
        scope: the scope every document is meant for (enables per-scope rules).
        max_errors: stop reporting after this many errors.
    """
    if registry is None:
        from engine.registry import default_registry

        registry = default_registry()
    report = LintReport()
    diagnostics = Diagnostics(limit=1_000_000)
    documents: list[tuple[PolicyDocument, str | None]] = []
    expressions = ExpressionCache()  # an expression text repeated across documents is checked once
    for path in collect_files(paths):
        document = _load(path, report, named_values, registry, diagnostics)
        report.files += 1
        if document is not None:
            # a fragment has no scope of its own: it is checked where it is included
            where = None if document.kind == "fragment" else scope or apiops_scope(path)
            validate(document, diagnostics=diagnostics, registry=registry, scope=where, expressions=expressions)
            documents.append((document, where))
    fragments: dict[str, PolicyDocument] = {}
    if fragments_dir is not None:
        for path in collect_files([fragments_dir]):
            document = _load(path, report, named_values, registry, Diagnostics())
            if document is not None and document.kind == "fragment":
                fragments.setdefault(_id_of(path, fragment_ids), document)
    for document, _ in documents:
        if document.kind == "fragment":
            fragments.setdefault(_id_of(document.path, fragment_ids), document)
    if fragments_dir is not None or fragments:
        for document, where in documents:
            check_inclusions(document, fragments, registry, diagnostics, scope=where)
    keep_bounded(report, list(diagnostics), max_errors)
    return report


def apiops_scope(path: Path) -> str | None:
    """The scope an APIOps folder layout gives a `policy.xml`, or None outside that layout.

    `apis/<api>/operations/<op>/policy.xml` is operation scope, `apis/<api>/policy.xml` API
    scope, `products/<p>/policy.xml` product scope, and a `policy.xml` next to `apis/`,
    `products/`, `policy fragments/` or `namedValues/` global scope.
    """
    if path.name.lower() != APIOPS_POLICY_FILE:
        return None
    parts = path.resolve().parts
    if len(parts) >= 5 and parts[-3] == "operations" and parts[-5] == "apis":
        return "operation"
    if len(parts) >= 3 and parts[-3] in ("apis", "products"):
        return "api" if parts[-3] == "apis" else "product"
    if any((path.parent / marker).is_dir() for marker in APIOPS_MARKERS):
        return "global"
    return None


def _id_of(path: str | Path, ids: Mapping[str, str] | None) -> str:
    if ids is not None and str(path) in ids:
        return ids[str(path)]
    return fragment_id(path)


def _load(
    path: Path,
    report: LintReport,
    named_values: Mapping[str, str] | None,
    registry: PolicyRegistry,
    diagnostics: Diagnostics,
) -> PolicyDocument | None:
    text: str | None = None
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError:
        pass  # load_document reports it
    except UnicodeDecodeError:
        # load_document reports it; keep a readable copy to show the offending line
        report.sources[str(path)] = SourceFile(str(path), data.decode("utf-8-sig", errors="replace"))
    if text is not None:
        report.sources[str(path)] = SourceFile(str(path), text)
    return load_document(
        path, text=text, named_values=named_values, registry=registry, diagnostics=diagnostics
    )


def check_inclusions(
    document: PolicyDocument,
    fragments: Mapping[str, PolicyDocument],
    registry: PolicyRegistry,
    diagnostics: Diagnostics,
    *,
    scope: str | None = None,
) -> None:
    """Every `include-fragment` names a known fragment whose policies fit the including section
    (and scope, when known)."""
    lowered = {name.lower(): doc for name, doc in fragments.items()}
    for include, section in _includes(document):
        value = include.get("fragment-id")
        if value is None or not value.text.strip():
            continue
        fragment = fragments.get(value.text.strip()) or lowered.get(value.text.strip().lower())
        if fragment is None:
            known = ", ".join(sorted(fragments)[:10]) or "none"
            diagnostics.error(
                "fragment-unknown",
                f"policy fragment '{value.text.strip()}' does not exist",
                value.span,
                hint=f"known fragments: {known}",
            )
            continue
        _check_fragment_fit(include, value.text.strip(), fragment, section, scope, registry, diagnostics)


def _includes(document: PolicyDocument) -> list[tuple[PolicyElement, str]]:
    found: list[tuple[PolicyElement, str]] = []

    def walk(element: PolicyElement) -> None:
        if element.tag == INCLUDE_FRAGMENT:
            found.append((element, element.section))
        for child in element.children:
            walk(child)

    walk(document.root)
    return found


def _check_fragment_fit(
    include: PolicyElement,
    fragment_id: str,
    fragment: PolicyDocument,
    section: str,
    scope: str | None,
    registry: PolicyRegistry,
    diagnostics: Diagnostics,
) -> None:
    """The fragment's policies must be allowed where it is included (APIM inserts them as-is)."""
    for element in fragment.policies(section):
        policy = registry.get(element.tag)
        if policy is None:
            continue
        if section and Section.from_name(section) not in policy.sections:
            diagnostics.error(
                "policy-not-allowed-in-section",
                f"<{element.tag}> from fragment '{fragment_id}' is not allowed in the {section} "
                "section where it is included",
                element.span,
                hint=f"included at {include.span}",
            )
        if scope and Scope.from_name(scope) not in policy.scopes:
            diagnostics.error(
                "policy-not-allowed-in-scope",
                f"<{element.tag}> from fragment '{fragment_id}' is not allowed at {scope} scope where it is included",
                element.span,
                hint=f"included at {include.span}",
            )


def keep_bounded(report: LintReport, found: Iterable[Diagnostic], max_errors: int | None = None) -> None:
    """Set `report.diagnostics` to `found`, sorted, keeping at most `max_errors` errors and at most
    REPEAT_LIMIT diagnostics of one code per file (the rest are counted in `report.omitted_*`), so
    that pathological input (an element with 10,000 unknown attributes) gives bounded output."""
    kept: list[Diagnostic] = []
    errors = 0
    per_code: dict[tuple[str, str], int] = {}
    for item in sorted(found, key=Diagnostic.sort_key):
        if item.is_error and max_errors is not None and errors >= max_errors:
            report.truncated = True
            continue
        group = (item.span.file, item.code)
        per_code[group] = per_code.get(group, 0) + 1
        if per_code[group] > REPEAT_LIMIT:
            if item.is_error:
                report.omitted_errors += 1
            else:
                report.omitted_warnings += 1
            continue
        errors += item.is_error
        kept.append(item)
    report.diagnostics = kept


# ---- rendering --------------------------------------------------------------------------------


def render_report_text(report: LintReport) -> str:
    blocks = [render_text(d, report.sources.get(d.span.file)) for d in report.diagnostics]
    blocks.append(summary(report))
    return "\n".join(blocks) + "\n"


def summary(report: LintReport) -> str:
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    if not report.diagnostics:
        return f"{files} checked: no problems found"
    parts = [f"{report.errors} error{'s' if report.errors != 1 else ''}"]
    parts.append(f"{report.warnings} warning{'s' if report.warnings != 1 else ''}")
    more = " (stopped at --max-errors)" if report.truncated else ""
    if report.omitted:
        more += f" ({report.omitted} not listed: more than {REPEAT_LIMIT} of one code in one file)"
    return f"{files} checked: {', '.join(parts)}{more}"


def render_report_json(report: LintReport) -> str:
    payload = {
        "files": report.files,
        "errors": report.errors,
        "warnings": report.warnings,
        "truncated": report.truncated,
        "omitted": report.omitted,
        "diagnostics": [d.to_json() for d in report.diagnostics],
    }
    return json.dumps(payload, indent=2) + "\n"


def render_report_sarif(report: LintReport) -> str:
    from engine.lint_rules import RULES

    used = sorted({d.code for d in report.diagnostics})
    rules = [
        {
            "id": code,
            "shortDescription": {"text": RULES.get(code, code)},
            "helpUri": rule_help_uri(code),
        }
        for code in used
    ]
    results = [
        {
            "ruleId": d.code,
            "level": "error" if d.severity is Severity.ERROR else "warning",
            "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": Path(d.span.file).as_posix()},
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": d.span.col,
                            "endLine": d.span.end_line,
                            "endColumn": d.span.end_col,
                        },
                    }
                }
            ],
        }
        for d in report.diagnostics
    ]
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "policygate", "version": tool_version(),
                                    "informationUri": DOCS_URL + "lint-rules.md", "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def tool_version() -> str:
    """The installed policygate version (SARIF `tool.driver.version`)."""
    return distribution_version()


def rule_help_uri(code: str) -> str:
    """Where a code is documented (GitHub's anchors): its "#### `code`" section of docs/lint-rules.md,
    the table of per-policy codes there, or the expression checker's table in docs/expressions.md."""
    from engine.lint_rules import RULES

    if code in RULES:
        return f"{DOCS_URL}lint-rules.md#{code}"
    if code.startswith("expr-"):
        return f"{DOCS_URL}expressions.md#diagnostics"
    return f"{DOCS_URL}lint-rules.md#codes-reported-by-individual-policies"
