"""The installed import names cannot be hijacked by a user's own `policies/`, `grammar/` or `engine/`."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

DOCUMENT = "<policies><inbound><set-header name='X' exists-action='override'><value>@(context.Request.Method)</value>" \
           "</set-header></inbound><backend><forward-request/></backend><outbound/><on-error/></policies>"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def package(where: Path, name: str) -> None:
    (where / name).mkdir()
    (where / name / "__init__.py").write_text("")


def test_grammar_is_package_data_of_engine() -> None:
    assert files("engine").joinpath("grammar", "expression.lark").is_file()


def test_a_local_grammar_folder_does_not_matter(tmp_path: Path) -> None:
    package(tmp_path, "grammar")
    (tmp_path / "doc.xml").write_text(DOCUMENT)
    result = run(tmp_path, "-m", "engine", "lint", "doc.xml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_local_policies_package_stops_with_one_clear_message(tmp_path: Path) -> None:
    package(tmp_path, "policies")
    (tmp_path / "doc.xml").write_text(DOCUMENT)
    for launcher in ("engine", "policygate"):
        result = run(tmp_path, "-m", launcher, "lint", "doc.xml")
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and "'policies' resolves to" in result.stderr, result.stderr
        assert str(tmp_path / "policies") in result.stderr and "Traceback" not in result.stderr


def test_a_local_engine_package_stops_python_m_policygate(tmp_path: Path) -> None:
    package(tmp_path, "engine")
    result = run(tmp_path, "-m", "policygate", "--version")
    assert result.returncode == 2 and "'engine' resolves to" in result.stderr


def test_version(tmp_path: Path) -> None:
    result = run(tmp_path, "-m", "policygate", "--version")
    assert result.returncode == 0 and result.stdout.startswith("policygate ") and "apim-policygate" in result.stdout
