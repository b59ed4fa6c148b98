"""A Dapr sidecar stand-in for tests, run as its own process: `python -m tests.support.dapr_sidecar`.

It listens on a free loopback port (printed as the first line of stdout) and speaks the parts of
daprd's HTTP API (v1.0) the gateway uses, with daprd's status codes and error bodies:

- `POST /v1.0/publish/<pubsub>/<topic>`: 204 when published; an unknown component (any name but
  `pubsub`) gets 404 `{"errorCode": "ERR_PUBSUB_NOT_FOUND", "message": ...}`;
- `POST /v1.0/bindings/<name>`: a JSON body `{"data", "metadata", "operation"}`; the binding
  `echo` answers 200 with `{"data": <data>, "operation": <operation>}`, any other name 500
  `{"errorCode": "ERR_INVOKE_OUTPUT_BINDING", ...}`; a body that is not JSON gets 400 `ERR_MALFORMED_REQUEST`.

`GET /calls` -> `{"calls": [{"path", "content_type", "body", "token"}...]}`.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main() -> None:
    calls: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            pass

        def answer(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/calls":
                self.answer(200, {"calls": calls})
            else:
                self.answer(404, {"errorCode": "ERR_NOT_FOUND", "message": "method not found"})

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            calls.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body,
                          "token": self.headers.get("dapr-api-token")})
            parts = self.path.split("/")
            if len(parts) == 5 and parts[2] == "publish":
                if parts[3] != "pubsub":
                    self.answer(404, {"errorCode": "ERR_PUBSUB_NOT_FOUND", "message": f"pubsub {parts[3]} not found"})
                else:
                    self.answer(204)
                return
            if len(parts) == 4 and parts[2] == "bindings":
                try:
                    request = json.loads(body)
                except ValueError:
                    self.answer(400, {"errorCode": "ERR_MALFORMED_REQUEST", "message": "the body is not JSON"})
                    return
                if parts[3] == "echo":
                    self.answer(200, {"data": request.get("data"), "operation": request.get("operation")})
                else:
                    self.answer(500, {"errorCode": "ERR_INVOKE_OUTPUT_BINDING",
                                      "message": f"error invoking output binding {parts[3]}"})
                return
            self.answer(404, {"errorCode": "ERR_NOT_FOUND", "message": "method not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
