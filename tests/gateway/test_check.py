"""`policygate check`: what serve checks before listening, as text/JSON/SARIF, exit codes 0/1/2."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from engine.cli import main
from engine.lint import tool_version

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo" / "gateway.yaml"
APIOPS = ROOT / "samples" / "apiops"
POLICY = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound></policies>"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_config(tmp_path: Path, body: str, policy: str = POLICY) -> Path:
    (tmp_path / "api.xml").write_text(policy)
    path = tmp_path / "gateway.yaml"
    path.write_text(body)
    return path


def test_the_demo_sample_and_the_apiops_sample_check_clean(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYGATE_NV_BACKEND_API_KEY", "k")
    code, out, _ = run(capsys, "check", str(DEMO))
    assert (code, out.strip()) == (0, "10 files checked: no problems found")
    code, out, _ = run(capsys, "check", str(APIOPS))
    assert code == 0 and out.endswith("no problems found\n")


def test_no_port_is_bound(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, f"server: {{port: {port}, admin-port: {port}}}\n"
                                        "apis: {a: {service-url: 'http://127.0.0.1:1', policy: api.xml}}\n")
        assert run(capsys, "check", str(config))[0] == 0


def test_unknown_key_is_located_with_a_suggestion(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, "server:\n  host: 127.0.0.1\n  prot: 8080\n")
    code, out, _ = run(capsys, "check", str(config), "--format", "json")
    assert code == 1
    (finding,) = json.loads(out)["diagnostics"]
    assert finding["code"] == "config-invalid"
    assert "server.prot: unknown key; did you mean 'port'?" in finding["message"]
    assert (finding["location"]["line"], finding["location"]["col"]) == (3, 3)


def test_yaml_syntax_error_has_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, "server:\n  port: [8080\n")
    code, out, _ = run(capsys, "check", str(config))
    assert code == 1
    assert out.startswith(f"{config}:3:1: error[config-yaml]: invalid YAML")


def test_document_and_store_settings_errors_are_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, "apis: {a: {service-url: 'http://127.0.0.1:1', policy: api.xml}}\n",
                          policy="<policies><inbound><set-status code='x' /></inbound></policies>")
    code, out, _ = run(capsys, "check", str(config))
    assert code == 1 and f"{tmp_path / 'api.xml'}:1:" in out and "[policy-bad-value]" in out
    config = write_config(tmp_path, "server: {port: 8080}\ncache:\n  external: 'mysql://nowhere'\n")
    code, out, _ = run(capsys, "check", str(config))
    assert code == 1 and f"{config}:3:13: error[config-invalid]: cache.external" in out


def test_sarif_names_the_tool_version_and_links_rules_to_the_docs(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    config = write_config(tmp_path, "serverr: {}\n")
    code, out, _ = run(capsys, "check", str(config), "--format", "sarif")
    driver = json.loads(out)["runs"][0]["tool"]["driver"]
    assert code == 1 and driver["version"] == tool_version() != "0+unknown"
    (rule,) = driver["rules"]
    assert rule["id"] == "config-invalid"
    assert rule["helpUri"].endswith("docs/lint-rules.md#config-invalid")
    doc = (ROOT / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    assert "#### `config-invalid`\n" in doc


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such file or folder" in err


def test_lint_points_a_configuration_file_to_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", str(DEMO))
    assert (code, out) == (2, "")
    assert "a gateway configuration file, not a policy document" in err and f"policygate check {DEMO}" in err


def test_lint_named_values_accepts_a_gateway_configuration(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_SECRET", raising=False)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    values = tmp_path / "values.yaml"
    values.write_text("named-values:\n  plain: x\n  from-env: {env: NOT_SET_ANYWHERE}\n  given: {value: y}\n")
    doc = tmp_path / "a.xml"
    doc.write_text('<policies><inbound><set-header name="a" exists-action="override">'
                   "<value>{{plain}}{{from-env}}{{given}}</value></set-header></inbound></policies>")
    assert run(capsys, "lint", str(doc), "--named-values", str(values))[0] == 0
    code, out, _ = run(capsys, "lint", str(ROOT / "samples" / "demo" / "policies"), "--named-values", str(DEMO))
    assert code == 0, out
