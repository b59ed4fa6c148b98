"""Load every document of the reference corpus (../shared/corpus) as an API policy, the way `serve` does.

Usage: python scripts/load_corpus.py [CORPUS_DIR] [--verbose]

For each `<policies>` document a one-API gateway configuration is written to a temporary folder
(the document as the API's policy; every `{{named value}}` it uses defined as "1"; the fragments it
includes, from the corpus's `<fragment>` files, configured under their original names; a static
token provider as `identity:`) and loaded
with `load_settings` + `GatewayServer.prepare()`: the same validation and compilation that
`policygate serve` runs before it listens. Nothing is served and no network is used. `<fragment>`
files are not counted on their own: they load as part of the documents that include them.

Prints one line per document that does not load (the first problem, with `--verbose` all of them),
a count of the problems by code and policy element, and `N of M API documents load`.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.errors import ConfigError, PolicyLoadError  # noqa: E402
from engine.gateway.config import load_settings  # noqa: E402
from engine.gateway.runner import GatewayServer  # noqa: E402
from engine.registry import default_registry  # noqa: E402

DEFAULT_CORPUS = next((p for p in (ROOT.parent / "shared" / "corpus", ROOT.parents[1] / "shared" / "corpus")
                       if p.is_dir()), ROOT.parent / "shared" / "corpus")  # beside the checkout or its worktrees folder
NAMED_VALUE = re.compile(r"\{\{\s*([A-Za-z0-9._-]+)\s*\}\}")
FRAGMENT_ID = re.compile(r"""<include-fragment\s+fragment-id\s*=\s*["']([^"']+)["']""")
ROOT_TAG = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z-]+)", re.DOTALL)
TAG_AT = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")


def root_tag(text: str) -> str:
    match = ROOT_TAG.match(text)
    return match.group(1) if match else ""


def fragment_id(path: Path) -> str:
    """`examples__oauth-proxy__x-fragment.xml` -> `x-fragment` (its name in the source repository)."""
    return path.name.rsplit("__", 1)[-1].removesuffix(".xml")


def load_one(document: Path, fragments: dict[str, Path], registry: object) -> list[str]:
    """The problems `serve` reports for `document` as an API policy (empty: it loads)."""
    text = document.read_text(encoding="utf-8", errors="replace")
    included = {fid: fragments[fid] for fid in FRAGMENT_ID.findall(text) if fid in fragments}
    names = set(NAMED_VALUE.findall(text))
    for path in included.values():
        names |= set(NAMED_VALUE.findall(path.read_text(encoding="utf-8", errors="replace")))
    config = {
        "named-values": {name: "1" for name in sorted(names)},
        "fragments": {fid: str(path) for fid, path in included.items()},
        "apis": {"corpus": {"path": "corpus", "service-url": "http://127.0.0.1:9", "subscription-required": False,
                            "policy": str(document)}},
        "server": {"admin-port": False},
        "identity": {"provider": "static", "token": "corpus"},  # authentication-managed-identity needs a provider
    }
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "gateway.yaml"
        file.write_text(yaml.safe_dump(config), encoding="utf-8")
        try:
            GatewayServer(load_settings(file), registry=registry).prepare()  # type: ignore[arg-type]
        except PolicyLoadError as exc:
            return [_describe(d.code, d.span.file, d.span.line, d.message) for d in exc.diagnostics]
        except ConfigError as exc:
            return [f"config: {exc}"]
    return []


def _describe(code: str, file: str, line: int, message: str) -> str:
    return f"{code}: {Path(file).name}:{line}: {message}"


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in argv
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}", file=sys.stderr)
        return 2
    files = sorted(corpus.glob("*.xml"))
    kinds = {f: root_tag(f.read_text(encoding="utf-8", errors="replace")) for f in files}
    fragments = {fragment_id(f): f for f in files if kinds[f] == "fragment"}
    documents = [f for f in files if kinds[f] != "fragment"]
    registry = default_registry()
    loaded, causes = 0, Counter[str]()
    for document in documents:
        problems = load_one(document, fragments, registry)
        if not problems:
            loaded += 1
            continue
        for problem in problems if verbose else problems[:1]:
            print(f"{document.name}: {problem}")
        for problem in problems:
            code, _, rest = problem.partition(": ")
            element = TAG_AT.search(rest.split(": ", 2)[-1])
            causes[f"{code} <{element.group(1)}>" if element else code] += 1
    if causes:
        print("\nproblems by code and element:")
        for cause, count in causes.most_common():
            print(f"  {count:3d}  {cause}")
    print(f"\n{loaded} of {len(documents)} API documents load ({len(fragments)} fragment files included by them)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
