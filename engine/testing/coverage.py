"""Policy coverage: which policies ran, which choose branches were taken, which expressions were evaluated.

`Coverage` is a `PipelineObserver`: the harness sets it on every request. `register(state)` walks
the compiled pipelines once to learn every point that could be covered, so points never reached
are known too. Points are keyed by their place in the document (`file:line:col`); a document
composed into several pipelines (products, operations) counts once.

- policies: every policy element the gateway built as a step (nested ones in choose and retry too);
- branches: each `when` of a `choose` (taken when its condition was true), and its `otherwise`,
  or, without one, "no when matched" (taken when the choose ran and no condition was true);
- expressions: every `@(...)`/`@{...}` in a built policy, its children included.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.policy import PipelineObserver
from engine.registry import default_registry

if TYPE_CHECKING:
    from engine.context import Context
    from engine.gateway.state import GatewayState
    from engine.model import PolicyElement, ValueText
    from engine.registry import PolicyRegistry
    from engine.source import Span

Key = tuple[str, int, int]
NO_MATCH = "no when matched"


def key_of(span: Span) -> Key:
    return (span.file, span.line, span.col)


@dataclass
class Point:
    """One thing that can be covered, and how often it was."""

    kind: str  # "policy" | "branch" | "expression"
    label: str
    line: int
    col: int
    hits: int = 0


@dataclass
class DocumentCoverage:
    path: str
    text: str
    points: dict[tuple[str, Key | tuple[Key, str]], Point] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Point]:
        return sorted((p for p in self.points.values() if p.kind == kind), key=lambda p: (p.line, p.col))

    def counts(self, kind: str) -> tuple[int, int]:
        points = self.of_kind(kind)
        return sum(1 for p in points if p.hits), len(points)


@dataclass
class _ChooseRun:
    element: PolicyElement
    matched: bool = False


class Coverage(PipelineObserver):
    """Collects coverage over every request of every harness it observes."""

    def __init__(self, registry: PolicyRegistry | None = None) -> None:
        self.registry = registry or default_registry()
        self.documents: dict[str, DocumentCoverage] = {}
        self._registered: set[int] = set()
        self._states: list[GatewayState] = []  # kept alive: their ids mark them as registered
        self._conditions: dict[Key, tuple[Key, str]] = {}  # when-condition span -> (choose key, when label)
        # first policy of a branch -> (choose, label, whether its start counts as taking the branch)
        self._branch_owner: dict[Key, tuple[Key, str, bool]] = {}
        self._runs: dict[int, list[_ChooseRun]] = {}  # id(ctx) -> choose elements running, innermost last
        self._fallbacks: dict[Key, str] = {}  # choose key -> label of the branch taken when no condition holds

    # -- learning the points ------------------------------------------------------------------------
    def register(self, state: GatewayState) -> None:
        if id(state) in self._registered:
            return
        self._registered.add(id(state))
        self._states.append(state)
        sections = [steps for pipeline in state.pipelines
                    for steps in (pipeline.inbound, pipeline.backend, pipeline.outbound, pipeline.on_error)]
        for steps in (*sections, state.resolvers):  # resolver documents of synthetic GraphQL APIs too
            for step in steps:
                element = getattr(step, "element", None)
                if element is not None and not element.source.path.startswith("<"):  # built-in defaults
                    self._policy(element)

    def _document(self, element: PolicyElement) -> DocumentCoverage:
        path = element.source.path
        document = self.documents.get(path)
        if document is None:
            document = self.documents[path] = DocumentCoverage(path, element.source.text)
        return document

    def _add(self, element: PolicyElement, kind: str, key: Key | tuple[Key, str], label: str, span: Span) -> None:
        points = self._document(element).points
        if (kind, key) not in points:
            points[(kind, key)] = Point(kind, label, span.line, span.col)

    def _policy(self, element: PolicyElement) -> None:
        self._add(element, "policy", key_of(element.span), f"<{element.tag}>", element.span)
        self._expressions(element)
        policy = self.registry.get(element.tag)
        if policy is None:
            return
        if policy.contains_policies:
            for child in element.children:
                self._policy(child)
            return
        containers = {child.tag for child in policy.children if child.policies}
        branches = [child for child in element.children if child.tag in containers]
        if not branches:
            return
        conditional, condition_attr = policy.branch_condition or ("", "")
        whens = 0
        for branch in branches:
            condition = None
            if branch.tag == conditional:
                whens += 1
                label = f"<{conditional}> {whens}"
                condition = branch.get(condition_attr)
                if condition is not None:
                    self._conditions[key_of(condition.span)] = (key_of(element.span), label)
            else:
                label = f"<{branch.tag}>"
            self._add(element, "branch", (key_of(element.span), label), label, branch.span)
            if branch.children:
                counts = branch.tag != conditional or condition is None or not condition.is_expression
                self._branch_owner[key_of(branch.children[0].span)] = (key_of(element.span), label, counts)
            for child in branch.children:
                self._policy(child)
        if conditional:  # taken when no condition held: the fallback branch, or "no when matched" without one
            fallback = next((f"<{b.tag}>" for b in branches if b.tag != conditional), NO_MATCH)
            self._fallbacks[key_of(element.span)] = fallback
            if fallback == NO_MATCH:
                self._add(element, "branch", (key_of(element.span), NO_MATCH), NO_MATCH, element.span)

    def _expressions(self, element: PolicyElement) -> None:
        """The expressions of a policy and of its declared children (not of nested policies)."""
        values: list[ValueText] = [v for v in element.attributes.values() if v.is_expression]
        if element.text is not None and element.text.is_expression:
            values.append(element.text)
        self._add_values(element, values)
        policy = self.registry.get(element.tag)
        if policy is not None and policy.contains_policies:
            return  # the children are policies of their own
        containers = {child.tag for child in policy.children if child.policies} if policy is not None else set()
        for child in element.children:
            if child.tag in containers:  # a branch: its condition here, its policies on their own
                self._add_values(child, [v for v in child.attributes.values() if v.is_expression])
            else:
                self._expressions(child)

    def _add_values(self, element: PolicyElement, values: list[ValueText]) -> None:
        for value in values:
            text = " ".join(value.text.split())
            label = text if len(text) <= 60 else text[:57] + "..."
            self._add(element, "expression", key_of(value.span), label, value.span)

    # -- observing requests -----------------------------------------------------------------------------
    def _hit(self, path: str, kind: str, key: Key | tuple[Key, str]) -> None:
        document = self.documents.get(path)
        point = document.points.get((kind, key)) if document is not None else None
        if point is not None:
            point.hits += 1

    def step_started(self, element: PolicyElement, ctx: Context) -> None:
        key = key_of(element.span)
        self._hit(element.source.path, "policy", key)
        owner = self._branch_owner.get(key)
        if owner is not None:
            choose, label, counts = owner
            if counts:
                self._hit(element.source.path, "branch", (choose, label))
            self._matched(ctx, choose)
        if key in self._fallbacks:
            self._runs.setdefault(id(ctx), []).append(_ChooseRun(element))

    def step_finished(self, element: PolicyElement, ctx: Context) -> None:
        key = key_of(element.span)
        fallback = self._fallbacks.get(key)
        if fallback is None:
            return
        runs = self._runs.get(id(ctx))
        if not runs:
            return
        run = runs.pop()
        if not runs:
            del self._runs[id(ctx)]
        if not run.matched:  # an otherwise with policies was counted when its first policy started
            self._hit(element.source.path, "branch", (key, fallback))

    def expression_evaluated(self, span: Span, value: object, ctx: Context) -> None:
        key = key_of(span)
        self._hit(span.file, "expression", key)
        condition = self._conditions.get(key)
        if condition is not None and value is True:
            self._hit(span.file, "branch", condition)
            self._matched(ctx, condition[0])

    def _matched(self, ctx: Context, choose: Key) -> None:
        for run in self._runs.get(id(ctx), ()):
            if key_of(run.element.span) == choose:
                run.matched = True

    def failed(self, error: object, ctx: Context) -> None:
        self._runs.pop(id(ctx), None)  # the choose elements in flight end here

    # -- reports ----------------------------------------------------------------------------------------
    def totals(self) -> dict[str, tuple[int, int]]:
        totals = {}
        for kind in _KINDS:
            covered = sum(d.counts(kind)[0] for d in self.documents.values())
            total = sum(d.counts(kind)[1] for d in self.documents.values())
            totals[kind] = (covered, total)
        return totals

    def missed(self) -> Iterator[str]:
        for path in sorted(self.documents):
            document = self.documents[path]
            for point in sorted(document.points.values(), key=lambda p: (p.line, p.col, _KINDS.index(p.kind))):
                if not point.hits:
                    yield f"{_shown(path)}:{point.line}:{point.col}: {_MISSED[point.kind]} {point.label}"

    def render_text(self) -> str:
        names = {path: _shown(path) for path in self.documents}
        width = max((len(name) for name in names.values()), default=10)
        lines = ["", f"  {'Policy coverage':<{width}}  {'policies':<13}  {'branches':<13}  expressions"]
        for path in sorted(self.documents, key=names.__getitem__):
            document = self.documents[path]
            cells = "  ".join(f"{_cell(*document.counts(kind)):<13}" for kind in _KINDS)
            lines.append(f"  {names[path]:<{width}}  {cells.rstrip()}")
        totals = self.totals()
        cells = "  ".join(f"{_cell(*totals[kind]):<13}" for kind in _KINDS)
        lines.append(f"  {'TOTAL':<{width}}  {cells.rstrip()}")
        missed = list(self.missed())
        if missed:
            lines.append("Not covered:")
            lines += [f"  {line}" for line in missed]
        return "\n".join(lines) + "\n"

    def write_html(self, folder: str | Path) -> Path:
        """An index and one page per document with its lines marked; returns the index path."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for number, path in enumerate(sorted(self.documents), 1):
            document = self.documents[path]
            page = f"doc{number}.html"
            (out / page).write_text(_document_page(document), encoding="utf-8")
            cells = "".join(f"<td>{_cell(*document.counts(kind))}</td>" for kind in _KINDS)
            rows.append(f'<tr><td><a href="{page}">{html.escape(_shown(path))}</a></td>{cells}</tr>')
        totals = self.totals()
        total_cells = "".join(f"<th>{_cell(*totals[k])}</th>" for k in _KINDS)
        index = out / "index.html"
        index.write_text(_PAGE.format(title="Policy coverage", body=(
            "<h1>Policy coverage</h1><table><tr><th>Document</th><th>Policies</th><th>Branches</th>"
            f"<th>Expressions</th></tr>{''.join(rows)}<tr><th>Total</th>{total_cells}</tr></table>"
        )), encoding="utf-8")
        return index


    def write_cobertura(self, path: str | Path) -> None:
        """Cobertura XML (read by GitLab, Azure DevOps, Jenkins...): one class per document, one line
        per document line holding points; a line is hit when every policy and expression on it ran,
        and lines with choose branches carry their condition coverage."""
        from xml.etree import ElementTree

        covered_lines = total_lines = covered_branches = total_branches = 0
        root = ElementTree.Element("coverage", version="policygate", timestamp=str(int(time.time())))
        classes = ElementTree.SubElement(ElementTree.SubElement(ElementTree.SubElement(root, "packages"), "package",
                                                                name="policies"), "classes")
        for path_name in sorted(self.documents):
            document = self.documents[path_name]
            element = ElementTree.SubElement(classes, "class", name=Path(path_name).name, filename=_shown(path_name))
            lines = ElementTree.SubElement(element, "lines")
            counts = [0, 0, 0, 0]  # covered lines, lines, covered branches, branches
            for number, points in sorted(_points_by_line(document).items()):
                plain = [p for p in points if p.kind != "branch"]
                branches = [p for p in points if p.kind == "branch"]
                hits = min((p.hits for p in plain), default=max((p.hits for p in branches), default=0))
                attributes = {"number": str(number), "hits": str(hits), "branch": "true" if branches else "false"}
                if branches:
                    taken = sum(1 for p in branches if p.hits)
                    attributes["condition-coverage"] = f"{100 * taken // len(branches)}% ({taken}/{len(branches)})"
                    counts[2] += taken
                    counts[3] += len(branches)
                ElementTree.SubElement(lines, "line", attributes)
                counts[0] += 1 if hits else 0
                counts[1] += 1
            element.set("line-rate", _rate(counts[0], counts[1]))
            element.set("branch-rate", _rate(counts[2], counts[3]))
            covered_lines, total_lines = covered_lines + counts[0], total_lines + counts[1]
            covered_branches, total_branches = covered_branches + counts[2], total_branches + counts[3]
        root.set("line-rate", _rate(covered_lines, total_lines))
        root.set("branch-rate", _rate(covered_branches, total_branches))
        root.set("lines-covered", str(covered_lines))
        root.set("lines-valid", str(total_lines))
        root.set("branches-covered", str(covered_branches))
        root.set("branches-valid", str(total_branches))
        ElementTree.indent(root)
        Path(path).write_text(ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n",
                              encoding="utf-8")


def _points_by_line(document: DocumentCoverage) -> dict[int, list[Point]]:
    by_line: dict[int, list[Point]] = {}
    for point in document.points.values():
        by_line.setdefault(point.line, []).append(point)
    return by_line


def _rate(covered: int, total: int) -> str:
    return f"{covered / total:.4f}" if total else "1"


_KINDS = ("policy", "branch", "expression")
_MISSED = {"policy": "policy never ran:", "branch": "branch never taken:", "expression": "expression never evaluated:"}


def _shown(path: str) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _cell(covered: int, total: int) -> str:
    if not total:
        return "-"
    return f"{covered}/{total} ({100 * covered // total}%)"


def _document_page(document: DocumentCoverage) -> str:
    by_line = _points_by_line(document)
    rows = []
    for number, text in enumerate(document.text.splitlines(), 1):
        points = by_line.get(number, [])
        hit = [p for p in points if p.hits]
        miss = [p for p in points if not p.hits]
        css = "" if not points else "miss" if not hit else "part" if miss else "hit"
        notes = "; ".join(f"{p.kind} {p.label}: {p.hits}x" if p.hits else f"{p.kind} {p.label}: never" for p in points)
        rows.append(f'<tr class="{css}"><td class="n">{number}</td><td class="c">{len(hit)}/{len(points) if points else ""}'
                    f'</td><td><pre title="{html.escape(notes)}">{html.escape(text) or " "}</pre></td>'
                    f'<td class="notes">{html.escape(notes)}</td></tr>')
    summary = "  ".join(f"{kind}: {_cell(*document.counts(kind))}" for kind in _KINDS)
    body = (f'<p><a href="index.html">all documents</a></p><h1>{html.escape(_shown(document.path))}</h1>'
            f"<p>{html.escape(summary)}</p><table class=\"src\">{''.join(rows)}</table>")
    return _PAGE.format(title=html.escape(document.path), body=body)


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title><style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 8px; text-align: left; }}
table.src td {{ padding: 0 6px; vertical-align: top; }} pre {{ margin: 0; }}
tr.hit {{ background: #d9f7d9; }} tr.miss {{ background: #fbd3d3; }} tr.part {{ background: #fff1b8; }}
td.n, td.c {{ color: #777; text-align: right; }} td.notes {{ color: #555; font-size: 85%; }}
</style></head><body>
{body}
</body></html>
"""
