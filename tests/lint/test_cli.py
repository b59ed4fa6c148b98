"""`policygate lint` end to end: exit codes, formats, options, folders (runs the real CLI in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main

CLEAN = """<policies>
    <inbound>
        <base />
        <set-backend-service base-url="http://backend.internal:8080" />
    </inbound>
</policies>
"""
TWO_ERRORS = """<policies>
    <inbound>
        <trace><message>m</message></trace>
        <cache-store duration="10" />
    </inbound>
</policies>
"""
WARNING_ONLY = """<fragment>
</fragment>
"""


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "apis" / "orders").mkdir(parents=True)
    (tmp_path / "apis" / "clean.xml").write_text(CLEAN)
    (tmp_path / "apis" / "orders" / "bad.xml").write_text(TWO_ERRORS)
    (tmp_path / "apis" / "notes.txt").write_text("not a policy")
    (tmp_path / "empty.xml").write_text(WARNING_ONLY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["lint", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestExitCodes:
    def test_clean_is_zero(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = lint(capsys, "apis/clean.xml")
        assert status == 0
        assert out == "1 file checked: no problems found\n"

    def test_warnings_only_is_zero(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = lint(capsys, "empty.xml")
        assert status == 0 and "warning[fragment-empty]" in out

    def test_errors_are_one_and_all_are_reported(
        self, tree: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status, out, _ = lint(capsys, "apis")
        assert status == 1
        assert "apis/orders/bad.xml:3:10: error[policy-missing-attribute]" in out
        assert "apis/orders/bad.xml:4:10: error[policy-not-allowed-in-section]" in out
        assert out.endswith("2 files checked: 2 errors, 0 warnings\n")

    def test_missing_path_is_a_usage_error(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = lint(capsys, "nope.xml")
        assert status == 2 and out == "" and "nope.xml: no such file or folder" in err

    def test_bad_option_value_is_a_usage_error(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["lint", "--format", "xml", "apis"])
        assert exit_info.value.code == 2
        assert lint(capsys, "--max-errors", "0", "apis")[0] == 2
        assert lint(capsys, "--fragments", "apis/clean.xml", "apis")[0] == 2


class TestFormats:
    def test_text_has_source_line_and_caret(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = lint(capsys, "apis/orders/bad.xml")
        lines = out.splitlines()
        index = lines.index(
            "apis/orders/bad.xml:3:10: error[policy-missing-attribute]: <trace> requires attribute 'source'"
        )
        assert lines[index + 1] == "    3 |         <trace><message>m</message></trace>"
        assert lines[index + 2] == "      |          ^^^^^"

    def test_json(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = lint(capsys, "--format", "json", "apis")
        data = json.loads(out)
        assert status == 1
        assert (data["files"], data["errors"], data["warnings"]) == (2, 2, 0)
        first = data["diagnostics"][0]
        assert first["code"] == "policy-missing-attribute"
        assert first["location"] == {
            "file": "apis/orders/bad.xml",
            "line": 3,
            "col": 10,
            "end_line": 3,
            "end_col": 15,
        }

    def test_sarif(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = lint(capsys, "--format", "sarif", "apis")
        sarif = json.loads(out)
        assert status == 1 and sarif["version"] == "2.1.0"
        run = sarif["runs"][0]
        assert run["tool"]["driver"]["name"] == "policygate"
        assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {
            "policy-missing-attribute",
            "policy-not-allowed-in-section",
        }
        result = run["results"][0]
        assert result["level"] == "error"
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "apis/orders/bad.xml"
        assert location["region"] == {"startLine": 3, "startColumn": 10, "endLine": 3, "endColumn": 15}

    def test_max_errors(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = lint(capsys, "--max-errors", "1", "apis")
        assert status == 1
        assert out.count("error[") == 1 and "(stopped at --max-errors)" in out


class TestNamedValuesAndFragments:
    DOC = '<policies><inbound><set-backend-service base-url="http://{{host}}:{{port}}" /></inbound></policies>'

    def test_without_named_values_references_are_fine(
        self, tree: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        Path("nv.xml").write_text(self.DOC)
        assert lint(capsys, "nv.xml")[0] == 0

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("values.yaml", "host: h\nport: 8080\n"),
            ("values.json", '{"named-values": {"host": "h", "port": 8080}}'),
        ],
    )
    def test_named_values_file(
        self, tree: Path, capsys: pytest.CaptureFixture[str], name: str, content: str
    ) -> None:
        Path("nv.xml").write_text(self.DOC)
        Path(name).write_text(content)
        assert lint(capsys, "--named-values", name, "nv.xml")[0] == 0
        Path(name).write_text(content.replace("port", "prt"))
        status, out, _ = lint(capsys, "--named-values", name, "nv.xml")
        assert status == 1 and "error[named-value-unknown]: named value 'port' is not defined" in out

    @pytest.mark.parametrize("content", ["[1, 2]", "host: [a, b]", "host: 'unclosed"])
    def test_bad_named_values_file(
        self, tree: Path, capsys: pytest.CaptureFixture[str], content: str
    ) -> None:
        Path("values.yaml").write_text(content)
        status, _, err = lint(capsys, "--named-values", "values.yaml", "apis/clean.xml")
        assert status == 2 and "--named-values values.yaml" in err

    def test_fragments_from_the_run_and_from_a_folder(
        self, tree: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        Path("frags").mkdir()
        Path("frags/auth.xml").write_text('<fragment><proxy url="http://p" /></fragment>')
        Path("api.xml").write_text(
            "<policies><inbound><include-fragment fragment-id='auth'/></inbound>"
            "<outbound><include-fragment fragment-id='local'/><include-fragment fragment-id='missing'/></outbound></policies>"
        )
        Path("local.fragment.xml").write_text('<fragment><jsonp callback-parameter-name="cb" /></fragment>')
        status, out, _ = lint(capsys, "--fragments", "frags", "api.xml", "local.fragment.xml")
        assert status == 1
        assert "error[fragment-unknown]: policy fragment 'missing' does not exist" in out
        assert out.count("error[") == 1

    def test_fragment_policy_checked_against_including_section(
        self, tree: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        Path("cb.xml").write_text('<fragment>\n  <jsonp callback-parameter-name="cb" />\n</fragment>')
        Path("api.xml").write_text(
            "<policies><inbound><include-fragment fragment-id='cb'/></inbound></policies>"
        )
        status, out, _ = lint(capsys, "api.xml", "cb.xml")
        assert status == 1
        assert "cb.xml:2:4: error[policy-not-allowed-in-section]" in out
        assert "hint: included at api.xml:1:21" in out

    def test_scope_option(self, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert lint(capsys, "--scope", "operation", "apis/clean.xml")[0] == 0


class TestExpressions:
    DOC = '<policies><inbound><set-variable name="big" value="@(1 &lt;= {{weight}})" /></inbound></policies>'

    def test_expression_errors_are_reported_at_their_position(
        self, tree: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        Path("e.xml").write_text(
            '<policies>\n<inbound>\n<set-variable name="a" value="@(1 +)" />\n</inbound></policies>'
        )
        status, out, _ = lint(capsys, "e.xml")
        assert status == 1 and "e.xml:3:36: error[expr-syntax]" in out

    def test_named_value_in_code_waits_for_its_value(
        self, tree: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        Path("nv.xml").write_text(self.DOC)
        assert lint(capsys, "nv.xml")[0] == 0
        Path("values.yaml").write_text("weight: 5\n")
        assert lint(capsys, "--named-values", "values.yaml", "nv.xml")[0] == 0
        Path("values.yaml").write_text("weight: '+'\n")
        status, out, _ = lint(capsys, "--named-values", "values.yaml", "nv.xml")
        assert status == 1 and "error[expr-syntax]" in out


class TestApiopsFolder:
    def test_scopes_and_fragments_follow_the_layout(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        quota = '<policies><inbound><base /><quota calls="10" renewal-period="60" /></inbound></policies>'
        files = {
            "policy.xml": "<policies><inbound><include-fragment fragment-id='tracing' /></inbound></policies>",
            "policy fragments/tracing/policy.xml": '<fragment><set-header name="X-T" exists-action="override">'
                                                   '<value>1</value></set-header></fragment>',
            "products/starter/policy.xml": quota,
            "apis/orders/policy.xml": quota,
            "apis/orders/operations/list/policy.xml": "<policies><inbound><base /></inbound></policies>",
        }
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
        status, out, _ = lint(capsys, str(tmp_path))
        assert status == 1
        assert out.count("error[") == 1
        assert (
            "apis/orders/policy.xml:1:29: error[policy-not-allowed-in-scope]: <quota> is not allowed at api scope"
            in out
        )
        assert lint(capsys, "--scope", "product", str(tmp_path))[0] == 0


def test_fragment_policy_checked_against_including_scope(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("q.xml").write_text('<fragment>\n  <quota calls="5" renewal-period="60" />\n</fragment>')
    Path("api.xml").write_text("<policies><inbound><include-fragment fragment-id='q'/></inbound></policies>")
    assert lint(capsys, "api.xml", "q.xml")[0] == 0
    status, out, _ = lint(capsys, "--scope", "api", "api.xml", "q.xml")
    assert status == 1
    assert (
        "q.xml:2:4: error[policy-not-allowed-in-scope]: <quota> from fragment 'q' is not allowed at api scope"
        in out
    )
    assert lint(capsys, "--scope", "product", "api.xml", "q.xml")[0] == 0


class TestApiopsFolderAsServeReadsIt:
    """`policygate lint DIR` maps an APIOps folder with serve's reader (issue 11)."""

    @pytest.fixture()
    def folder(self, tmp_path: Path) -> Path:
        import shutil

        target = tmp_path / "apiops"
        shutil.copytree(Path(__file__).resolve().parents[2] / "samples" / "apiops", target)
        return target

    def test_the_sample_is_clean(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert lint(capsys, str(folder))[:2] == (0, "7 files checked: no problems found\n")

    def test_a_folder_serve_refuses_fails(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        info = folder / "apis" / "petstore" / "apiInformation.json"
        info.write_text('{"properties": {"displayName": 3')
        status, out, _ = lint(capsys, str(folder))
        assert status == 1
        assert out.startswith(f"{info}:1:33: error[config-invalid]: invalid JSON: Expecting ',' delimiter\n")

    def test_a_missing_path_is_located_at_the_file(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        info = folder / "apis" / "petstore" / "apiInformation.json"
        info.write_text('{"properties": {"displayName": "Pets"}}')
        status, out, _ = lint(capsys, str(folder), "--format", "json")
        found = json.loads(out)["diagnostics"]
        assert status == 1 and [(d["code"], d["message"], d["location"]["file"]) for d in found] == [
            ("config-invalid", "properties.path: is required", str(info))
        ]

    def test_unknown_named_values_and_unused_parts(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        policy = folder / "apis" / "petstore" / "policy.xml"
        policy.write_text(policy.read_text().replace("{{tenant}}", "{{tenant}}{{nope}}"))
        (folder / "loggers" / "insights").mkdir(parents=True)
        (folder / "loggers" / "insights" / "loggerInformation.json").write_text("{}")
        status, out, _ = lint(capsys, str(folder))
        assert status == 1
        assert f"{policy}:" in out and "error[named-value-unknown]: named value 'nope' is not defined" in out
        assert f"{folder}:1:1: warning[config-ignored]: Azure logger resources are ignored; declare loggers in policygate.yaml (loggers:): loggers" in out
        assert out.endswith("7 files checked: 1 error, 1 warning\n")


def test_output_stays_bounded_on_pathological_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attributes = " ".join(f'a{i}="{i}"' for i in range(10_000))
    (tmp_path / "wide.xml").write_text(
        f'<policies><inbound><set-header name="x" {attributes}><value>1</value></set-header></inbound></policies>'
    )
    status, out, _ = lint(capsys, str(tmp_path / "wide.xml"))
    assert status == 1 and len(out) < 16_000
    assert out.count("error[policy-unknown-attribute]") == 20
    assert out.endswith("1 file checked: 10000 errors, 0 warnings (9980 not listed: more than 20 of one code in one file)\n")
    excerpt = out.splitlines()[1]
    assert excerpt.startswith("    1 | <policies>") and excerpt.endswith("...") and len(excerpt) < 180
    status, out, _ = lint(capsys, str(tmp_path / "wide.xml"), "--format", "json")
    payload = json.loads(out)
    assert (payload["errors"], payload["omitted"], len(payload["diagnostics"])) == (10_000, 9_980, 20)
