"""What README.md and docs/*.md show works: every gateway.yaml snippet passes `policygate check`, every
policy XML snippet lints clean, every key gateway.yaml accepts is documented, every metric they name is
exported (and the other way round), and every `policygate <command> --flag` they write exists."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.cache.service import KNOWN_KEYS as CACHE_KEYS
from engine.cli import build_parser
from engine.errors import ConfigError
from engine.gateway.apiops_folder import SIDE_GATEWAY_KEYS, SIDE_KEYS
from engine.gateway.check import check_configuration
from engine.gateway.config import TOP_LEVEL_KEYS, parse_settings
from engine.lint import lint_paths
from engine.ratelimit.service import KNOWN_KEYS as RATE_LIMIT_KEYS
from tests.support.certificates import PFX_PASSWORD, TestPki

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# YAML blocks in other formats than gateway.yaml, recognised by a key only they have.
POLICYTEST_KEYS = {"cases", "config", "documents"}  # *.policytest.yaml (docs/testing.md)
EVAL_CONTEXT_KEYS = {"api", "operation", "user", "request", "response", "variables", "product", "subscription"}

POLICY = ("<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound>"
          "<on-error><base /></on-error></policies>")
XSD = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:string"/></xs:schema>'


def blocks(language: str) -> Iterator[tuple[str, str]]:
    """(doc:line, text) of every fenced block of `language` in README.md and docs/*.md."""
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        start = None
        for number, line in enumerate(lines, 1):
            fence = line.strip()
            if start is None and fence.startswith("```"):
                start = number if fence == f"```{language}" else -number
            elif start is not None and fence == "```":
                if start > 0:
                    yield f"{doc.relative_to(ROOT)}:{start}", "\n".join(lines[start:number - 1])
                start = None


def gateway_snippets() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for where, text in blocks("yaml"):
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
    """Create a file the snippet names, with content of the kind its suffix says (one certificate for all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".pem", ".crt", ".key", ".pfx"):
        pki = folder / ".pki"
        if not pki.is_dir():
            pki.mkdir()
            TestPki(pki).issue("snippet")
        path.write_bytes((pki / f"snippet{path.suffix}").read_bytes())
    else:
        path.write_text({".xml": POLICY, ".xsd": XSD, ".json": '{"type": "object"}'}.get(path.suffix, ""),
                        encoding="utf-8")


def problems(data: dict[str, Any], folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What `policygate check` says of the snippet, given the variables, named values and files it names."""
    text = yaml.safe_dump(data)
    environ = {name: PFX_PASSWORD for name in re.findall(r"\$\{(\w+)\}|env: (\w+)", text) for name in name if name}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)  # `${NAME}` in a Redis connection string is read from the process
    missing = set(re.findall(r"\{\{([\w.-]+)\}\}", text)) - set(data.get("named-values") or {})
    if missing:
        data = {**data, "named-values": {**(data.get("named-values") or {}), **{name: "x" for name in missing}}}
    (folder / "gateway.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for _ in range(10):
        found = [d.message for d in check_configuration(folder / "gateway.yaml", environ=environ).diagnostics
                 if d.is_error]
        absent = re.search(r"(file|folder) not found: .*?(/\S+?)\)?$", found[0]) if found else None
        if absent is None:
            return found
        if absent.group(1) == "folder":
            Path(absent.group(2)).mkdir(parents=True)
        else:
            _supply(Path(absent.group(2)), folder)
    return found


@pytest.mark.parametrize(("where", "data"), SNIPPETS, ids=[where for where, _ in SNIPPETS])
def test_every_configuration_snippet_loads(where: str, data: dict[str, Any], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    keys = set(data)
    if not keys <= set(TOP_LEVEL_KEYS):
        # policygate.yaml of an APIOps folder (docs/apiops.md): its gateway keys mean what they mean in gateway.yaml
        assert keys <= set(SIDE_KEYS), f"{where}: keys neither gateway.yaml nor policygate.yaml accepts: {keys}"
        data = {key: value for key, value in data.items() if key in SIDE_GATEWAY_KEYS}
    assert not problems(data, tmp_path, monkeypatch), f"{where}: the documented snippet does not load"


def _options(parser: argparse.ArgumentParser, name: str, found: dict[str, list[tuple[str, ...]]]) -> None:
    """Command name -> the option strings of each of its options (`-H`, `--header`), subcommands included."""
    found[name] = [tuple(action.option_strings) for action in parser._actions if action.option_strings]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                _options(subparser, f"{name} {sub}".strip(), found)


def test_every_flag_is_documented() -> None:
    options: dict[str, list[tuple[str, ...]]] = {}
    _options(build_parser(), "", options)
    text = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    undocumented = [f"policygate {name} {'/'.join(strings)}".replace("  ", " ")
                    for name, actions in options.items() for strings in actions if "--help" not in strings
                    and not any(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text) for s in strings)]
    assert not undocumented, f"flags the docs never mention: {undocumented}"


def test_every_documented_flag_exists() -> None:
    actions: dict[str, list[tuple[str, ...]]] = {}
    _options(build_parser(), "", actions)
    options = {name: {option for strings in found for option in strings} for name, found in actions.items()}
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


BOGUS = "zz-not-a-key"
# A mapping of each gateway.yaml section with one key too many: the loader's "unknown key (expected one of: ...)"
# says which keys that section accepts. The page that documents each section comes first.
SECTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "(top level)": ("configuration.md", {BOGUS: 1}),
    "server": ("configuration.md", {"server": {BOGUS: 1}}),
    "server.tls": ("configuration.md", {"server": {"tls": {BOGUS: 1}}}),
    "backend": ("configuration.md", {"backend": {BOGUS: 1}}),
    "backends.<id>": ("configuration.md", {"backends": {"b": {"url": "http://b.test", BOGUS: 1}}}),
    "demo-backend": ("configuration.md", {"demo-backend": {BOGUS: 1}}),
    "named-values.<name>": ("configuration.md", {"named-values": {"n": {"value": "v", BOGUS: 1}}}),
    "products.<id>": ("configuration.md", {"products": {"p": {BOGUS: 1}}}),
    "apis.<id>": ("configuration.md", {"apis": {"a": {"path": "a", BOGUS: 1}}}),
    "subscriptions[]": ("configuration.md", {"subscriptions": [{"id": "s", "key": "k", BOGUS: 1}]}),
    "tracing": ("configuration.md", {"tracing": {"otlp-endpoint": "http://otlp.test/", BOGUS: 1}}),
    "identity": ("configuration.md", {"identity": {"provider": "imds", BOGUS: 1}}),
    "credentials": ("configuration.md", {"credentials": {BOGUS: 1}}),
    "token-validation": ("configuration.md", {"token-validation": {BOGUS: 1}}),
    "loggers (redis-stream)": ("configuration.md", {"loggers": {"l": {"type": "redis-stream", "redis": "redis://r", BOGUS: 1}}}),
    "loggers (file)": ("configuration.md", {"loggers": {"l": {"type": "file", "path": "e.jsonl", BOGUS: 1}}}),
    "schemas.<id>": ("configuration.md", {"schemas": {"s": {"file": "s.xsd", BOGUS: 1}}}),
    "dapr": ("configuration.md", {"dapr": {BOGUS: 1}}),
    "service-bus": ("configuration.md", {"service-bus": {BOGUS: 1}}),
}


def accepted_keys(data: dict[str, Any]) -> list[str]:
    try:
        parse_settings(yaml.safe_dump(data), file=ROOT / "gateway.yaml", environ={})
    except ConfigError as exc:
        listed = re.search(r"\(expected one of: ([^)]*)\)", str(exc))
        assert listed is not None, str(exc)
        return listed.group(1).split(", ")
    raise AssertionError(f"{BOGUS} was accepted in {data}")


def documented(key: str, page: str) -> bool:
    """`key` in backticks (`key`, `section.key`, `key: value`) or as a YAML key in an example."""
    word = r"(?<![\w-])" + re.escape(key) + r"(?![\w-])"
    return re.search(rf"`[^`\n]*{word}[^`\n]*`|^\s*-?\s*{word}:|[{{,]\s*{word}:", page, re.M) is not None


def test_every_accepted_key_is_documented() -> None:
    pages = {doc.name: doc.read_text(encoding="utf-8") for doc in DOCS}
    sections = {name: (pages[page], accepted_keys(data)) for name, (page, data) in SECTIONS.items()}
    sections["cache"] = (pages["caching.md"], sorted(CACHE_KEYS))
    sections["rate-limits"] = (pages["rate-limits.md"], sorted(RATE_LIMIT_KEYS))
    undocumented = [f"{name}: {key}" for name, (page, keys) in sections.items() for key in keys
                    if not documented(key, page)]
    assert not undocumented, f"accepted by gateway.yaml but not documented: {undocumented}"


def test_documented_metrics_are_the_exported_ones() -> None:
    """Every series name the code registers is documented, and the docs name no series the code lacks."""
    name = re.compile(r"policygate_[a-z_]*[a-z]")
    sources = [*sorted((ROOT / "engine").rglob("*.py")), *sorted((ROOT / "policies").rglob("*.py"))]
    exported = {found for path in sources
                for found in re.findall(r'"(policygate_[a-z_]*[a-z])"', path.read_text(encoding="utf-8"))}
    documented = {re.sub(r"_(bucket|sum|count)$", "", found) for doc in DOCS
                  for found in name.findall(doc.read_text(encoding="utf-8"))}
    documented = {found for found in documented if not found.startswith("policygate_custom")}  # <emit-metric>'s
    assert len(exported) >= 20
    assert not exported - documented, f"exported on /metrics but not documented: {sorted(exported - documented)}"
    assert not documented - exported, f"documented but never exported: {sorted(documented - exported)}"


SECTIONS_XML = ("inbound", "backend", "outbound", "on-error")
XML_SNIPPETS = [(where, text) for where, text in blocks("xml")
                if not where.startswith("docs/lint-rules.md")]  # that page shows mistakes on purpose


@pytest.mark.parametrize(("where", "text"), XML_SNIPPETS, ids=[where for where, _ in XML_SNIPPETS])
def test_every_policy_snippet_lints_clean(where: str, text: str, tmp_path: Path) -> None:
    """A whole document, its sections, or policies that belong in one section (the first that lints clean)."""
    if text.lstrip().startswith("<policies"):
        candidates = [text]
    elif re.search(r"^<(" + "|".join(SECTIONS_XML) + r")>", text, re.M):
        candidates = [f"<policies>{text}</policies>"]
    else:
        candidates = [f"<policies><{section}>{text}</{section}></policies>" for section in SECTIONS_XML]
    reports = []
    for number, candidate in enumerate(candidates):
        (tmp_path / f"{number}.xml").write_text(candidate, encoding="utf-8")
        reports.append([f"{d.code}: {d.message}" for d in lint_paths([tmp_path / f"{number}.xml"]).diagnostics
                        if d.is_error])
    assert min(reports, key=len) == [], f"{where}: the documented policy does not lint clean: {reports}"
