"""An HTTPS backend for tests, run as its own process:
`python -m tests.support.tls_backend CERTFILE KEYFILE CA_FILE`.

It listens on a free loopback port (printed as the first line of stdout), refuses TLS handshakes
without a client certificate issued by CA_FILE (CA_FILE `-`: no client certificate asked for), and
answers every request with JSON `{"method", "path", "client": {"subject": [[name, value]...],
"serial": hex}}` describing the verified client certificate (`"client": null` without one).
"""

from __future__ import annotations

import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main(certfile: str, keyfile: str, ca_file: str) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=None if ca_file == "-" else ca_file)
    context.verify_mode = ssl.CERT_NONE if ca_file == "-" else ssl.CERT_REQUIRED
    context.load_cert_chain(certfile, keyfile)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            pass

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            if length:
                self.rfile.read(length)
            peer: Any = self.connection.getpeercert()  # type: ignore[attr-defined]
            subject = [list(pair) for rdn in (peer or {}).get("subject", ()) for pair in rdn]
            client = {"subject": subject, "serial": peer.get("serialNumber")} if peer else None
            data = json.dumps({"method": self.command, "path": self.path, "client": client}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer  # noqa: N815

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> Any:
            sock, address = super().get_request()
            return context.wrap_socket(sock, server_side=True), address

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # refused handshakes are the point of some tests

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
