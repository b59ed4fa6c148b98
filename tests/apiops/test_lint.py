"""lint_apiops / apiops_lint_inputs: every document of a folder checked at its own scope."""

from __future__ import annotations

from pathlib import Path

from engine.gateway.apiops import SECRET_PLACEHOLDER, apiops_lint_inputs, lint_apiops
from tests.apiops.helpers import SAMPLE, SIMPLE_SPEC, api_folder, write_json, write_text


def test_sample_lints_clean_without_secrets_set() -> None:
    report, warnings = lint_apiops(SAMPLE, environ={})
    assert (report.files, report.errors, report.warnings, warnings) == (7, 0, 0, ())


def test_inputs_group_documents_by_scope() -> None:
    inputs = apiops_lint_inputs(SAMPLE, environ={})
    assert inputs.documents["global"] == (SAMPLE / "policy.xml",)
    assert inputs.documents["product"] == (SAMPLE / "products" / "starter" / "policy.xml",)
    assert len(inputs.documents["api"]) == 1 and len(inputs.documents["operation"]) == 3
    fragment = SAMPLE / "policy fragments" / "correlation-id" / "policy.xml"
    assert inputs.documents["fragment"] == (fragment,)
    assert inputs.fragment_ids == {str(fragment): "correlation-id"}
    assert inputs.fragments_dir == SAMPLE / "policy fragments"
    assert inputs.named_values == {"tenant": "contoso", "backend-api-key": SECRET_PLACEHOLDER}


def _folder(tmp_path: Path) -> Path:
    folder = api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    write_json(tmp_path / "namedValues" / "known" / "namedValueInformation.json", {"properties": {"value": "v"}})
    write_text(tmp_path / "policy fragments" / "frag" / "policy.xml",
               '<fragment><set-header name="X-F" exists-action="override"><value>1</value></set-header></fragment>')
    return folder


def test_problems_are_reported_at_the_documents_scope(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_text(folder / "policy.xml", """<policies>
    <inbound><base /><set-header name="X-K" exists-action="override"><value>{{known}}{{unknown}}</value></set-header>
    <include-fragment fragment-id="frag" /><include-fragment fragment-id="missing" /></inbound>
    <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>""")
    write_text(folder / "operations" / "listItems" / "policy.xml", """<policies>
    <inbound><base /><quota calls="10" renewal-period="60" /></inbound>
    <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>""")
    report, _ = lint_apiops(tmp_path, environ={})
    codes = sorted((d.code, Path(d.span.file).parent.name) for d in report.diagnostics)
    assert ("named-value-unknown", "a") in codes
    assert ("fragment-unknown", "a") in codes
    assert ("policy-not-allowed-in-scope", "listItems") in codes  # quota is product scope only
    assert report.errors == len([d for d in report.diagnostics if d.is_error]) >= 3
    limited, _ = lint_apiops(tmp_path, environ={}, max_errors=1)
    assert limited.errors == 1 and limited.truncated


def test_warnings_come_back_with_the_report(tmp_path: Path) -> None:
    _folder(tmp_path)
    write_json(tmp_path / "loggers" / "l" / "loggerInformation.json", {})
    _, warnings = lint_apiops(tmp_path, environ={})
    assert warnings == (f"{tmp_path}: Azure logger resources are ignored; declare loggers in policygate.yaml (loggers:): loggers",)


def test_merge_keeps_every_source_and_sorts(tmp_path: Path) -> None:
    from engine.gateway.apiops import merge_lint_reports
    from engine.lint import lint_paths

    first = write_text(tmp_path / "b.xml", "<policies><inbound><nope /></inbound></policies>")
    second = write_text(tmp_path / "a.xml", "<policies><inbound><nope /></inbound></policies>")
    merged = merge_lint_reports([lint_paths([first]), lint_paths([second])])
    assert merged.files == 2 and set(merged.sources) == {str(first), str(second)}
    assert [Path(d.span.file).name for d in merged.diagnostics][:1] == ["a.xml"]
    assert merged.errors >= 2


def test_watched_files_cover_the_whole_folder() -> None:
    from engine.gateway.apiops import watched_files

    files = watched_files(SAMPLE)
    assert SAMPLE / "apis" / "petstore" / "specification.yaml" in files
    assert SAMPLE / "policygate.yaml" in files and len(files) == 19
