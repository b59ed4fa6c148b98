"""An Azure AI Content Safety-compatible server for tests, run as its own process:
`python -m tests.support.content_safety_server`.

It listens on a free loopback port (printed as the first line of stdout). Endpoints, both requiring
`?api-version=` (else 404 `ResourceNotFound`), JSON in and out, errors as
`{"error": {"code": "...", "message": "..."}}` with the service's codes:

- `POST /contentsafety/text:analyze`: `{"text", "categories"?, "blocklistNames"?, "haltOnBlocklistHit"?,
  "outputType"?}` -> `{"blocklistsMatch": [{"blocklistName", "blocklistItemId", "blocklistItemText"}],
  "categoriesAnalysis": [{"category", "severity"}]}` for the requested categories (default all four:
  Hate, SelfHarm, Sexual, Violence). Severities are written into the text as markers: `[Violence=5]`
  gives Violence severity 5 (0-7); with `outputType` `FourSeverityLevels` (the default) it is rounded
  down to 0, 2, 4 or 6, as the service reports. A blocklist item matches when the text contains it
  (case-insensitive); blocklists are set with `/control`; an unknown blocklist name is 404
  `ResourceNotFound`. Text longer than 10,000 characters, an empty text, an unknown category or
  output type is 400 `InvalidRequestBody`.
- `POST /contentsafety/text:shieldPrompt`: `{"userPrompt", "documents"?}` ->
  `{"userPromptAnalysis": {"attackDetected"}, "documentsAnalysis": [{"attackDetected"}]}`. A text is an
  attack when it contains `ignore previous instructions` or `[attack]` (case-insensitive). More than
  10,000 characters in the prompt or over the documents is 400 `InvalidRequestBody`.

Controls: `POST /control` merges `delay` (seconds before answering), `fail` (answer every call with
this status and `InternalError`), `blocklists` (`{"name": ["item text", ...]}`); `GET /calls` ->
`{"calls": n, "analyze": n, "shield": n, "requests": [{"path", "query", "headers", "body"}]}`;
`POST /reset` restores the defaults and zeroes the counters.

From a test: `with run_content_safety_server() as server:` yields a `ContentSafetyServer` (the
client class of tests/support/openai_server.py) with `url`, `control(**settings)`, `calls()` and `reset()`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.openai_server import OpenAIServer

CATEGORIES = ("Hate", "SelfHarm", "Sexual", "Violence")
OUTPUT_TYPES = ("FourSeverityLevels", "EightSeverityLevels")
MAX_CHARACTERS = 10_000
DEFAULTS: dict[str, Any] = {"delay": 0.0, "fail": 0, "blocklists": {}}
_MARKER = re.compile(r"\[(Hate|SelfHarm|Sexual|Violence)=([0-7])\]")
_ATTACKS = ("ignore previous instructions", "[attack]")


def severities(text: str, output_type: str) -> dict[str, int]:
    """The severity of each category in `text` (the highest marker; 0 without one)."""
    found = dict.fromkeys(CATEGORIES, 0)
    for category, level in _MARKER.findall(text):
        found[category] = max(found[category], int(level))
    if output_type == "FourSeverityLevels":
        found = {k: v - v % 2 for k, v in found.items()}
    return found


def is_attack(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in _ATTACKS)


ContentSafetyServer = OpenAIServer  # the same client side: url, control(), reset(), calls()


@contextmanager
def run_content_safety_server() -> Iterator[ContentSafetyServer]:
    """Start `python -m tests.support.content_safety_server`; stop it on exit."""
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "tests.support.content_safety_server"], cwd=root,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield ContentSafetyServer(process, int(process.stdout.readline()))
    finally:
        process.terminate()
        process.wait(10)


class BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def analyze(body: dict[str, Any], blocklists: dict[str, list[str]]) -> dict[str, Any]:
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise BadRequest(400, "InvalidRequestBody", "The text field is required and must not be empty.")
    if len(text) > MAX_CHARACTERS:
        raise BadRequest(400, "InvalidRequestBody", f"The text is longer than {MAX_CHARACTERS} characters.")
    output_type = body.get("outputType", "FourSeverityLevels")
    if output_type not in OUTPUT_TYPES:
        raise BadRequest(400, "InvalidRequestBody", f"Unknown outputType '{output_type}'.")
    wanted = body.get("categories") or list(CATEGORIES)
    unknown = [c for c in wanted if c not in CATEGORIES]
    if unknown:
        raise BadRequest(400, "InvalidRequestBody", f"Unknown category '{unknown[0]}'.")
    matches = []
    for name in body.get("blocklistNames") or []:
        if name not in blocklists:
            raise BadRequest(404, "ResourceNotFound", f"Blocklist '{name}' does not exist.")
        for index, item in enumerate(blocklists[name]):
            if item.lower() in text.lower():
                matches.append({"blocklistName": name, "blocklistItemId": f"{name}-{index}", "blocklistItemText": item})
    if matches and body.get("haltOnBlocklistHit"):
        return {"blocklistsMatch": matches, "categoriesAnalysis": []}
    found = severities(text, output_type)
    return {"blocklistsMatch": matches, "categoriesAnalysis": [{"category": c, "severity": found[c]} for c in wanted]}


def shield(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("userPrompt", "")
    documents = body.get("documents") or []
    if not isinstance(prompt, str) or not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
        raise BadRequest(400, "InvalidRequestBody", "userPrompt must be a string and documents a list of strings.")
    if len(prompt) > MAX_CHARACTERS or sum(map(len, documents)) > MAX_CHARACTERS:
        raise BadRequest(400, "InvalidRequestBody", f"The prompt or the documents are longer than {MAX_CHARACTERS} characters.")
    return {"userPromptAnalysis": {"attackDetected": is_attack(prompt)},
            "documentsAnalysis": [{"attackDetected": is_attack(d)} for d in documents]}


def main() -> None:
    lock = threading.Lock()
    state: dict[str, Any] = {**DEFAULTS, "calls": 0, "analyze": 0, "shield": 0, "requests": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            pass

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if urllib.parse.urlsplit(self.path).path == "/calls":
                with lock:
                    self.answer(200, {k: state[k] for k in ("calls", "analyze", "shield", "requests")})
                return
            self.answer(404, {"error": {"code": "ResourceNotFound", "message": "Resource not found"}})

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = urllib.parse.urlsplit(self.path)
            if url.path in ("/control", "/reset"):
                with lock:
                    if url.path == "/reset":
                        state.update({**DEFAULTS, "calls": 0, "analyze": 0, "shield": 0, "requests": []})
                    else:
                        state.update(json.loads(raw or b"{}"))
                self.answer(200, {})
                return
            kind = {"/contentsafety/text:analyze": "analyze", "/contentsafety/text:shieldPrompt": "shield"}.get(url.path)
            if kind is None or "api-version" not in urllib.parse.parse_qs(url.query):
                self.answer(404, {"error": {"code": "ResourceNotFound", "message": "Resource not found"}})
                return
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
            except ValueError as error:
                self.answer(400, {"error": {"code": "InvalidRequestBody", "message": f"Invalid JSON: {error}"}})
                return
            with lock:
                state["calls"] += 1
                state[kind] += 1
                state["requests"].append({"path": url.path, "query": url.query, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                delay, fail, blocklists = state["delay"], state["fail"], dict(state["blocklists"])
            time.sleep(float(delay))
            if fail:
                self.answer(int(fail), {"error": {"code": "InternalError", "message": "The test server was told to fail."}})
                return
            try:
                self.answer(200, analyze(body, blocklists) if kind == "analyze" else shield(body))
            except BadRequest as error:
                self.answer(error.status, {"error": {"code": error.code, "message": error.message}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
