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

With `--run`, each document that loads is also served (on a loopback port, in front of a local echo
backend) and sent `GET /corpus/items/1` and `POST /corpus/items` with a JSON body. A document *runs*
when both requests are answered and the gateway logged no fault (an exception outside the policies'
own errors, logged with its traceback). Every host name resolves to 127.0.0.1 in this run, so the
calls the documents make to Azure services are refused on loopback (nothing leaves the machine) and
fail as they would without those services; that is the policy's own outcome, not a fault. Prints
`N of M loaded documents run` and the faults found.
"""

from __future__ import annotations

import asyncio
import logging
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
STATUSES: Counter[int] = Counter()  # --run: the status codes the documents answered with
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


def load_one(document: Path, fragments: dict[str, Path], registry: object, backend: str = "http://127.0.0.1:9",
             run: bool = False) -> list[str]:
    """The problems `serve` reports for `document` as an API policy (empty: it loads); with `run`, then
    the faults serving two requests showed (as `run: ...` problems)."""
    text = document.read_text(encoding="utf-8", errors="replace")
    included = {fid: fragments[fid] for fid in FRAGMENT_ID.findall(text) if fid in fragments}
    names = set(NAMED_VALUE.findall(text))
    for path in included.values():
        names |= set(NAMED_VALUE.findall(path.read_text(encoding="utf-8", errors="replace")))
    config = {
        "named-values": {name: "1" for name in sorted(names)},
        "fragments": {fid: str(path) for fid, path in included.items()},
        "apis": {"corpus": {"path": "corpus", "service-url": backend, "subscription-required": False,
                            "policy": str(document)}},
        "server": {"admin-port": False, "host": "127.0.0.1", "port": 0},
        "identity": {"provider": "static", "token": "corpus"},  # authentication-managed-identity needs a provider
    }
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "gateway.yaml"
        file.write_text(yaml.safe_dump(config), encoding="utf-8")
        try:
            server = GatewayServer(load_settings(file), registry=registry, http_server="hypercorn")  # type: ignore[arg-type]
            server.prepare()
        except PolicyLoadError as exc:
            return [_describe(d.code, d.span.file, d.span.line, d.message) for d in exc.diagnostics]
        except ConfigError as exc:
            return [f"config: {exc}"]
        return asyncio.run(_serve_two_requests(server)) if run else []


class _Faults(logging.Handler):
    """Collects the gateway's fault logs: errors logged with a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.faults: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.name.startswith("policygate"):
            self.faults.append(f"run: {record.getMessage()}: {record.exc_info[1]!r}")


async def _serve_two_requests(server: GatewayServer) -> list[str]:
    import aiohttp

    faults = _Faults()
    logging.getLogger("policygate").addHandler(faults)
    shutdown, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(server.serve(shutdown, ready=lambda _: ready.set()))
    problems: list[str] = []
    try:
        await asyncio.wait_for(ready.wait(), 30)
        url = server.url("gateway") + "/corpus/items"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as session:
            for method, path, body in (("GET", "/1", None), ("POST", "", b'{"id": 1, "name": "x"}')):
                try:
                    async with session.request(method, url + path, data=body,
                                               headers={"Content-Type": "application/json"}) as answer:
                        await answer.read()
                        STATUSES[answer.status] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    problems.append(f"run: {method} got no answer: {exc!r}")
    finally:
        shutdown.set()
        await task
        logging.getLogger("policygate").removeHandler(faults)
    return problems + faults.faults


async def _echo(request: object) -> object:
    from aiohttp import web

    assert isinstance(request, web.Request)
    return web.json_response({"method": request.method, "path": request.path, "body": await request.text()})


def _keep_on_this_machine() -> None:
    """Resolve every host name to 127.0.0.1 in this process, so calls the documents make to Azure
    (management.azure.com, a key vault...) are refused on loopback instead of leaving the machine."""
    import socket

    resolve = socket.getaddrinfo

    def loopback(host: object, *args: object, **kwargs: object) -> object:
        return resolve("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]

    socket.getaddrinfo = loopback  # type: ignore[assignment]


def _start_echo_backend() -> tuple[str, object]:
    """A loopback echo backend in its own thread; (its URL, the thread's loop)."""
    import threading

    from aiohttp import web

    loop = asyncio.new_event_loop()
    started: dict[str, str] = {}
    ready = threading.Event()

    async def start() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", _echo)  # type: ignore[arg-type]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        started["url"] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        ready.set()

    def serve() -> None:
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    return started["url"], loop


def _describe(code: str, file: str, line: int, message: str) -> str:
    return f"{code}: {Path(file).name}:{line}: {message}"


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in argv
    run = "--run" in argv
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}", file=sys.stderr)
        return 2
    files = sorted(corpus.glob("*.xml"))
    kinds = {f: root_tag(f.read_text(encoding="utf-8", errors="replace")) for f in files}
    fragments = {fragment_id(f): f for f in files if kinds[f] == "fragment"}
    documents = [f for f in files if kinds[f] != "fragment"]
    registry = default_registry()
    if run:
        _keep_on_this_machine()
    backend = _start_echo_backend()[0] if run else "http://127.0.0.1:9"
    loaded, ran, causes = 0, 0, Counter[str]()
    for document in documents:
        problems = load_one(document, fragments, registry, backend, run)
        if not problems or all(p.startswith("run: ") for p in problems):
            loaded += 1
        if not problems:
            ran += 1
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
    if run:
        print(f"{ran} of {loaded} loaded documents run (two requests each, no gateway fault); answers by status: "
              + ", ".join(f"{status}: {count}" for status, count in sorted(STATUSES.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
