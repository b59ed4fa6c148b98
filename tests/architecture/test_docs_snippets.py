"""What README.md and docs/*.md show works: every gateway.yaml snippet loads with the real loader, and
every `policygate <command> --flag` they write is a flag that command accepts."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.cli import build_parser
from engine.errors import ConfigError
from engine.gateway.apiops_folder import SIDE_GATEWAY_KEYS, SIDE_KEYS
from engine.gateway.config import TOP_LEVEL_KEYS, parse_settings
from tests.support.certificates import PFX_PASSWORD, TestPki

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# YAML blocks in other formats than gateway.yaml, recognised by a key only they have.
POLICYTEST_KEYS = {"cases", "config", "documents"}  # *.policytest.yaml (docs/testing.md)
EVAL_CONTEXT_KEYS = {"api", "operation", "user", "request", "response", "variables", "product", "subscription"}

POLICY = ("<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound>"
          "<on-error><base /></on-error></policies>")
XSD = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:string"/></xs:schema>'


def yaml_blocks() -> Iterator[tuple[str, str]]:
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        start = None
        for number, line in enumerate(lines, 1):
            fence = line.strip()
            if start is None and fence.startswith("```"):
                start = number if fence == "```yaml" else -number
            elif start is not None and fence == "```":
                if start > 0:
                    yield f"{doc.relative_to(ROOT)}:{start}", "\n".join(lines[start:number - 1])
                start = None


def gateway_snippets() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for where, text in yaml_blocks():
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            continue  # a list: a CI workflow step, not a configuration
        keys = set(data)
        if keys & POLICYTEST_KEYS or keys <= EVAL_CONTEXT_KEYS:
            continue
        found.append((where, data))
    return found


SNIPPETS = gateway_snippets()


def test_the_docs_show_configuration_snippets() -> None:
    assert len(SNIPPETS) >= 15, [where for where, _ in SNIPPETS]


def _supply(path: Path, folder: Path) -> None:
    """Create a file the snippet names, with content of the kind its suffix says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".pem", ".crt", ".key", ".pfx"):
        (folder / ".pki").mkdir(exist_ok=True)
        issued = TestPki(folder / ".pki").issue(re.sub(r"\W", "-", path.stem))
        path.write_bytes({".pem": issued.pem, ".crt": issued.cert_file, ".key": issued.key_file, ".pfx": issued.pfx}[
            path.suffix].read_bytes())
    else:
        path.write_text({".xml": POLICY, ".xsd": XSD, ".json": '{"type": "object"}'}.get(path.suffix, ""),
                        encoding="utf-8")


def load(data: dict[str, Any], folder: Path) -> None:
    """parse_settings on the snippet, with the environment variables, named values and files it names."""
    text = yaml.safe_dump(data)
    environ = {name: PFX_PASSWORD for name in re.findall(r"\$\{(\w+)\}|env: (\w+)", text) for name in name if name}
    missing = set(re.findall(r"\{\{([\w.-]+)\}\}", text)) - set(data.get("named-values") or {})
    if missing:
        data = {**data, "named-values": {**(data.get("named-values") or {}), **{name: "x" for name in missing}}}
        text = yaml.safe_dump(data)
    for _ in range(10):
        try:
            parse_settings(text, file=folder / "gateway.yaml", environ=environ)
            return
        except ConfigError as exc:
            absent = re.search(r"(?:file|folder) not found: .*?(/\S+?)\)?$", str(exc).splitlines()[0])
            if absent is None:
                raise
            path = Path(absent.group(1))
            if "folder not found" in str(exc):
                path.mkdir(parents=True)
            else:
                _supply(path, folder)
    raise AssertionError(f"still missing files after 10 tries: {text}")


@pytest.mark.parametrize(("where", "data"), SNIPPETS, ids=[where for where, _ in SNIPPETS])
def test_every_configuration_snippet_loads(where: str, data: dict[str, Any], tmp_path: Path) -> None:
    keys = set(data)
    if not keys <= set(TOP_LEVEL_KEYS):
        # policygate.yaml of an APIOps folder (docs/apiops.md): its gateway keys mean what they mean in gateway.yaml
        assert keys <= set(SIDE_KEYS), f"{where}: keys neither gateway.yaml nor policygate.yaml accepts: {keys}"
        data = {key: value for key, value in data.items() if key in SIDE_GATEWAY_KEYS}
    try:
        load(data, tmp_path)
    except ConfigError as exc:
        pytest.fail(f"{where}: the documented snippet does not load: {exc}")


def _options(parser: argparse.ArgumentParser, name: str, found: dict[str, set[str]]) -> None:
    found[name] = {option for action in parser._actions for option in action.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                _options(subparser, f"{name} {sub}".strip(), found)


def test_every_documented_flag_exists() -> None:
    options: dict[str, set[str]] = {}
    _options(build_parser(), "", options)
    commands = sorted((name for name in options if name), key=len, reverse=True)  # `cache purge` before `cache`
    command = re.compile(r"policygate\s+(" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in commands)
                         + r")\b([^`\n|;&>]*)")
    unknown, seen = [], 0
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for match in command.finditer(line):
                seen += 1
                name = " ".join(match.group(1).split())
                for flag in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", match.group(2)):
                    if flag not in options[name]:
                        unknown.append(f"{doc.relative_to(ROOT)}:{number}: policygate {name} {flag}")
    assert seen >= 30
    assert not unknown, unknown
