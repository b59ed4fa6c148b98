"""An Azure Service Bus stand-in for tests, run as its own process:
`python -m tests.support.servicebus_server ENTITY [ENTITY...]`.

It listens on a free loopback port (printed as the first line of stdout) and speaks Service Bus's
REST "Send Message" API for the queues and topics named ENTITY:

- `POST /<entity>/messages` with `Authorization: Bearer <token>`: the token must be one the test
  token server (tests/support/token_server.py) issued for Service Bus, `<kind>|<audience>|<client>|<n>`
  with audience `https://servicebus.azure.net` (IMDS) or `https://servicebus.azure.net/.default`
  (OAuth 2.0), else 401; an unknown entity gets 404; a `BrokerProperties` header that is not a JSON
  object gets 400 (errors as Service Bus writes them: `<Error><Code>..</Code><Detail>..</Detail></Error>`).
  Accepted messages are recorded and answered 201 with no body.

Controls: `POST /control` with JSON `{"fail": status (0 = answer normally), "delay": seconds}`;
`GET /messages` -> `{"messages": [{"entity", "body", "content_type", "broker_properties",
"properties" (the other headers, lower-case names), "token"}...]}`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

AUDIENCES = ("https://servicebus.azure.net", "https://servicebus.azure.net/.default")
PROTOCOL_HEADERS = frozenset({
    "host", "content-length", "content-type", "authorization", "brokerproperties", "connection", "user-agent",
    "accept", "accept-encoding", "traceparent", "tracestate",
})


def main(entities: list[str]) -> None:
    lock = threading.Lock()
    state: dict[str, Any] = {"fail": 0, "delay": 0.0, "messages": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            pass

        def answer(self, status: int, body: bytes = b"", content_type: str = "application/xml; charset=utf-8") -> None:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error(self, status: int, detail: str) -> None:
            self.answer(status, f"<Error><Code>{status}</Code><Detail>{detail}</Detail></Error>".encode())

        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/messages":
                self.error(404, "not found")
                return
            with lock:
                self.answer(200, json.dumps({"messages": state["messages"]}).encode(), "application/json")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/control":
                with lock:
                    state.update(json.loads(body))
                self.answer(200)
                return
            with lock:
                fail, delay = state["fail"], state["delay"]
            time.sleep(delay)
            if fail:
                self.error(fail, "The service was unable to process the request; please retry the operation.")
                return
            entity, _, tail = self.path.lstrip("/").rpartition("/")
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            fields = token.split("|")
            if len(fields) != 4 or fields[1] not in AUDIENCES:
                self.error(401, "InvalidSignature: The token has an invalid signature.")
                return
            if tail != "messages" or entity not in entities:
                self.error(404, f"The messaging entity 'sb://test/{entity}' could not be found.")
                return
            try:
                broker = json.loads(self.headers.get("BrokerProperties") or "{}")
            except ValueError:
                broker = None
            if not isinstance(broker, dict):
                self.error(400, "The value of the BrokerProperties header is not a valid JSON object.")
                return
            message = {"entity": entity, "body": body.decode("utf-8"), "content_type": self.headers.get("Content-Type"),
                       "broker_properties": broker, "token": token,
                       "properties": {k.lower(): v for k, v in self.headers.items() if k.lower() not in PROTOCOL_HEADERS}}
            with lock:
                state["messages"].append(message)
            self.answer(201)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
