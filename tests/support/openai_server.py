"""An OpenAI-compatible server for tests, run as its own process: `python -m tests.support.openai_server [NAME [PORT]]`.

It listens on loopback, on PORT or else a free port (printed as the first line of stdout), and answers every response
with the header `x-test-server: NAME` (default `openai`), so a test running several of them (a backend
pool) can tell which one answered.

Endpoints (OpenAI paths and their Azure OpenAI twins; an Azure path without `?api-version=` gets 404
`{"error": {"code": "404", "message": "Resource not found"}}`, as Azure answers):

- `POST /v1/chat/completions`, `POST /openai/deployments/{d}/chat/completions?api-version=V`.
  Prompt tokens: the number of words (maximal runs of letters and digits, see `words`) in every
  message's text (`content` as a string, or the `text` of its `{"type": "text"}` parts), unless the
  request header `x-test-prompt-tokens` gives the number.
  Completion tokens: the `x-test-completion-tokens` request header, else the control value
  `completion_tokens` (default 5), capped by `max_completion_tokens` / `max_tokens` (then
  `finish_reason` is `length`, else `stop`). The reply text is that many words: `r<call number>`
  then `w1`, `w2`, ... separated by spaces, so equal prompts get different replies.
  With `"stream": true` the answer is `text/event-stream`, sent with chunked transfer encoding, one
  event per word (`choices[0].delta.content`), the first one carrying `delta.role`, the last content
  chunk carrying `finish_reason`, then, when `stream_options.include_usage` is true, one chunk with
  `"choices": []` and the `usage`, then `data: [DONE]`. Every other chunk has `"usage": null`. The
  control value `chunk_delay` (or header `x-test-chunk-delay`, seconds) waits between events.
- `POST /v1/embeddings`, `POST /openai/deployments/{d}/embeddings?api-version=V`: `input` is a string
  or a list of strings; each is embedded as a hashed bag of words (each lower-cased word adds 1 to
  dimension `sha256(word) mod D`; the vector is then L2-normalised; a text with no word gets the
  unit vector on dimension 0). D is the request's `dimensions`, else 256. So texts sharing most of
  their words have cosine similarity near 1 and texts sharing none have 0 (barring hash collisions).
  `usage.prompt_tokens` = `total_tokens` = words over all inputs.

Controls, shared by every endpoint of the process:
- `POST /control` with a JSON object merged into the settings: `delay` (seconds before answering),
  `chunk_delay` (seconds between stream events), `completion_tokens` (default 5),
  `throttle` (the next N model calls get 429; -1 = every call; default 0), `retry_after` (seconds
  sent in `Retry-After` and `retry-after-ms` with a 429; default 1), `fail` (a status: every model call
  gets it with an OpenAI error body; 0 = answer normally).
- `x-test-gzip: 1` (request header): model answers are sent `Content-Encoding: gzip` (a stream as
  one gzip member flushed after every event).
- Per request, headers override: `x-test-delay` (seconds), `x-test-status` (answer this status,
  e.g. 429, with the same bodies and headers as above), `x-test-completion-tokens`,
  `x-test-prompt-tokens`, `x-test-chunk-delay`; `x-test-reply` gives the reply's words (its word
  count is then the completion tokens).
- `GET /calls` -> `{"calls": n, "chat": n, "embeddings": n, "requests": [{"path", "query", "headers", "body"}]}`
  counting every model call (429s and failures included); `POST /reset` zeroes the counters and
  restores the default settings.

A 429 body is Azure OpenAI's `{"error": {"code": "429", "message": "... Please retry after N seconds."}}`.

From a test: `with run_openai_server("a") as server:` starts the process and yields an `OpenAIServer`
with `url`, `control(**settings)`, `calls()`, `reset()` and `wait_for_calls(n)`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.control import ControlledServer

DEFAULTS: dict[str, Any] = {"delay": 0.0, "chunk_delay": 0.0, "completion_tokens": 5, "throttle": 0,
                            "retry_after": 1, "fail": 0}
DEFAULT_DIMENSIONS = 256
_WORD = re.compile(r"[^\W_]+")
_AZURE = re.compile(r"^/openai/deployments/([^/]+)/(chat/completions|embeddings)$")


def words(text: str) -> list[str]:
    """The words of a text: maximal runs of Unicode letters and digits, lower-cased."""
    return [w.lower() for w in _WORD.findall(text)]


def message_text(message: Any) -> str:
    """The text of one chat message: its string `content` or the `text` of its text parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def prompt_tokens(body: dict[str, Any]) -> int:
    """Prompt tokens of a chat request under this server's counting rule (words of every message)."""
    return sum(len(words(message_text(m))) for m in body.get("messages") or [])


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The hashed bag-of-words embedding of a text (see the module docstring)."""
    vector = [0.0] * dimensions
    for word in words(text):
        vector[int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big") % dimensions] += 1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


class OpenAIServer(ControlledServer):
    """A running server process, seen from a test."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port
        self.url = f"http://127.0.0.1:{port}"

    def reset(self) -> None:
        self.post_json("/reset", {})


@contextmanager
def run_openai_server(name: str = "openai") -> Iterator[OpenAIServer]:
    """Start `python -m tests.support.openai_server NAME`; stop it on exit."""
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "tests.support.openai_server", name], cwd=root,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield OpenAIServer(process, int(process.stdout.readline()))
    finally:
        process.terminate()
        process.wait(10)


def main(name: str, port: int = 0) -> None:
    lock = threading.Lock()
    state: dict[str, Any] = {**DEFAULTS, "calls": 0, "chat": 0, "embeddings": 0, "requests": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        compressor: Any = None

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            pass

        def answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            if self.headers.get("x-test-gzip") == "1" and self.command == "POST":
                data = gzip.compress(data)
                headers = {**(headers or {}), "Content-Encoding": "gzip"}
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-test-server", name)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if urllib.parse.urlsplit(self.path).path == "/calls":
                with lock:
                    self.answer(200, {k: state[k] for k in ("calls", "chat", "embeddings", "requests")})
                return
            self.answer(404, {"error": {"code": "404", "message": "Resource not found"}})

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/control":
                with lock:
                    state.update(json.loads(raw or b"{}"))
                self.answer(200, {})
                return
            if url.path == "/reset":
                with lock:
                    state.update({**DEFAULTS, "calls": 0, "chat": 0, "embeddings": 0, "requests": []})
                self.answer(200, {})
                return
            kind = self.kind(url)
            if kind is None:
                self.answer(404, {"error": {"code": "404", "message": "Resource not found"}})
                return
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("the body is not a JSON object")
            except ValueError as error:
                self.answer(400, {"error": {"message": f"invalid JSON body: {error}", "type": "invalid_request_error",
                                            "param": None, "code": None}})
                return
            with lock:
                state["calls"] += 1
                state[kind] += 1
                call = state["calls"]
                state["requests"].append({"path": url.path, "query": url.query, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                settings = {k: state[k] for k in DEFAULTS}
                throttled = settings["throttle"] != 0
                if settings["throttle"] > 0:
                    state["throttle"] -= 1
            time.sleep(float(self.headers.get("x-test-delay", settings["delay"])))
            status = int(self.headers.get("x-test-status", 429 if throttled else settings["fail"]))
            if status:
                self.fail(status, settings["retry_after"])
            elif kind == "chat":
                self.chat(body, call, settings)
            else:
                self.embeddings(body)

        def kind(self, url: urllib.parse.SplitResult) -> str | None:
            if url.path == "/v1/chat/completions":
                return "chat"
            if url.path == "/v1/embeddings":
                return "embeddings"
            azure = _AZURE.match(url.path)
            if azure is None or "api-version" not in urllib.parse.parse_qs(url.query):
                return None
            return "chat" if azure.group(2) == "chat/completions" else "embeddings"

        def fail(self, status: int, retry_after: float) -> None:
            if status == 429:
                message = (f"Requests to the ChatCompletions_Create Operation have exceeded token rate limit of "
                           f"the test server {name}. Please retry after {retry_after} seconds.")
                self.answer(429, {"error": {"code": "429", "message": message}},
                            {"Retry-After": str(retry_after), "retry-after-ms": str(int(retry_after * 1000))})
                return
            self.answer(status, {"error": {"message": f"the test server {name} was told to fail",
                                           "type": "server_error", "param": None, "code": str(status)}})

        def chat(self, body: dict[str, Any], call: int, settings: dict[str, Any]) -> None:
            wanted = int(self.headers.get("x-test-completion-tokens", settings["completion_tokens"]))
            limit = body.get("max_completion_tokens", body.get("max_tokens"))
            count = wanted if limit is None else min(wanted, int(limit))
            finish = "length" if count < wanted else "stop"
            reply = [f"r{call}"] + [f"w{i}" for i in range(1, count)] if count else []
            if "x-test-reply" in self.headers:  # the reply's words, given by the test
                reply = self.headers["x-test-reply"].split()
                count, finish = len(reply), "stop"
            prompt = int(self.headers.get("x-test-prompt-tokens", prompt_tokens(body)))
            usage = {"prompt_tokens": prompt, "completion_tokens": count, "total_tokens": prompt + count}
            head = {"id": f"chatcmpl-{name}-{call}", "created": int(time.time()), "model": body.get("model", name),
                    "system_fingerprint": None}
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                delay = float(self.headers.get("x-test-chunk-delay", settings["chunk_delay"]))
                self.stream(head, reply, finish, usage if include_usage else None, delay)
                return
            message = {"role": "assistant", "content": " ".join(reply), "refusal": None}
            self.answer(200, {**head, "object": "chat.completion",
                              "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                              "usage": usage})

        def stream(self, head: dict[str, Any], reply: list[str], finish: str, usage: dict[str, int] | None,
                   delay: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("x-test-server", name)
            self.compressor = None
            if self.headers.get("x-test-gzip") == "1":
                self.compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            chunk = {**head, "object": "chat.completion.chunk"}
            deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
            deltas += [{"content": word if i == 0 else " " + word} for i, word in enumerate(reply)]
            for i, delta in enumerate(deltas):
                last = i == len(deltas) - 1
                self.event({**chunk, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                  "finish_reason": finish if last else None}],
                            **({"usage": None} if usage is not None else {})})
                time.sleep(delay)
            if usage is not None:
                self.event({**chunk, "choices": [], "usage": usage})
            self.send_event(b"data: [DONE]\n\n")
            if self.compressor is not None:
                self.send_chunk(self.compressor.flush())
            self.send_chunk(b"")

        def event(self, payload: dict[str, Any]) -> None:
            self.send_event(b"data: " + json.dumps(payload).encode() + b"\n\n")

        def send_event(self, data: bytes) -> None:
            if self.compressor is not None:
                data = self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
            self.send_chunk(data)

        def send_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def embeddings(self, body: dict[str, Any]) -> None:
            inputs = body.get("input")
            if isinstance(inputs, str):
                inputs = [inputs]
            if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
                self.answer(400, {"error": {"message": "'input' must be a string or a non-empty list of strings",
                                            "type": "invalid_request_error", "param": "input", "code": None}})
                return
            dimensions = int(body.get("dimensions") or DEFAULT_DIMENSIONS)
            tokens = sum(len(words(t)) for t in inputs)
            self.answer(200, {"object": "list", "model": body.get("model", name),
                              "data": [{"object": "embedding", "index": i, "embedding": embed(t, dimensions)}
                                       for i, t in enumerate(inputs)],
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "openai", int(sys.argv[2]) if len(sys.argv) > 2 else 0)
