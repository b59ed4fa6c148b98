"""A token server for tests, run as its own process: `python -m tests.support.token_server SECRET ASSERTION [PORT]`.

It listens on loopback, on PORT or a free port (printed as the first line of stdout), and speaks:

- the Azure Instance Metadata Service token protocol: `GET /metadata/identity/oauth2/token?api-version=
  2018-02-01&resource=R[&client_id=C]` with `Metadata: true` (else 400 `bad_request_102`), answering
  IMDS's JSON with string `expires_in`/`expires_on`;
- the OAuth 2.0 token endpoint: `POST /<tenant>/oauth2/v2.0/token`, form `grant_type=client_credentials`,
  `scope`, `client_id` and either `client_secret` (must be SECRET) or `client_assertion_type`
  jwt-bearer + `client_assertion` (must be ASSERTION), answering `{"access_token", "expires_in"}`
  (a number); wrong credentials get 401 `invalid_client`.

Tokens are `<kind>|<resource or scope>|<client id>|<n>` where n counts issued tokens. Controls:
`POST /control` with JSON `{"expires_in": s, "fail": status (0 = answer normally), "delay": s}`;
`GET /calls` -> `{"calls": n, "requests": [{"path", "query", "form", "headers"}...]}`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.parse
from http.server import ThreadingHTTPServer
from typing import Any

from tests.support.json_handler import JsonHandler

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def main(secret: str, assertion: str, port: int = 0) -> None:
    lock = threading.Lock()
    state: dict[str, Any] = {"expires_in": 3600, "fail": 0, "delay": 0.0, "calls": 0, "requests": []}

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/calls":
                with lock:
                    self.answer(200, {"calls": state["calls"], "requests": state["requests"]})
                return
            if url.path != "/metadata/identity/oauth2/token":
                self.answer(404, {"error": "not_found"})
                return
            query = dict(urllib.parse.parse_qsl(url.query))
            self.issue("imds", query, {}, lambda: self.imds_error(query))

        def imds_error(self, query: dict[str, str]) -> tuple[int, str] | None:
            if self.headers.get("Metadata") != "true":
                return 400, "bad_request_102"
            if query.get("api-version") != "2018-02-01" or not query.get("resource"):
                return 400, "invalid_request"
            return None

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/control":
                with lock:
                    state.update(json.loads(body))
                self.answer(200, {})
                return
            if not url.path.endswith("/oauth2/v2.0/token"):
                self.answer(404, {"error": "not_found"})
                return
            form = dict(urllib.parse.parse_qsl(body))
            self.issue("oauth", {}, form, lambda: self.oauth_error(form))

        def oauth_error(self, form: dict[str, str]) -> tuple[int, str] | None:
            if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                return 400, "invalid_request"
            if form.get("grant_type") != "client_credentials" or not form.get("scope", "").endswith("/.default"):
                return 400, "invalid_request"
            if form.get("client_secret") == secret and secret:
                return None
            if form.get("client_assertion_type") == JWT_BEARER and form.get("client_assertion") == assertion:
                return None
            return 401, "invalid_client"

        def issue(self, kind: str, query: dict[str, str], form: dict[str, str], check: Any) -> None:
            with lock:
                state["calls"] += 1
                n = state["calls"]
                state["requests"].append({"path": self.path, "query": query, "form": form,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                fail, delay, expires_in = state["fail"], state["delay"], state["expires_in"]
            time.sleep(delay)
            if fail:
                self.answer(fail, {"error": "unknown", "error_description": "the identity is not available"})
                return
            problem = check()
            if problem is not None:
                self.answer(problem[0], {"error": problem[1], "error_description": "refused by the test token server"})
                return
            audience = query.get("resource") or form.get("scope", "")
            client = query.get("client_id") or form.get("client_id", "")
            token = f"{kind}|{audience}|{client}|{n}"
            if kind == "imds":
                now = int(time.time())
                self.answer(200, {"access_token": token, "refresh_token": "", "expires_in": str(expires_in),
                                  "expires_on": str(now + expires_in), "not_before": str(now),
                                  "resource": audience, "token_type": "Bearer"})
            else:
                self.answer(200, {"token_type": "Bearer", "expires_in": expires_in, "access_token": token})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
