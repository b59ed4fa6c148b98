"""A GraphQL server for tests, run as its own process: `python -m tests.support.graphql_server [PORT]`.

It listens on loopback, on PORT or a free port (printed as the first line of stdout), and executes
GraphQL over HTTP with graphql-core at exactly `/graphql` (`/graphql/` and other paths get 404, as many
servers do): `POST` with a JSON body `{"query", "variables", "operationName"}` and `GET ?query=`.
Invalid queries get 400 with `errors`. `GET /calls` -> `{"calls": n, "requests": [{"method", "path",
"query", "headers", "body"}...]}` (what reached it); `POST /control` with `{}` clears them.

Schema (SCHEMA): users with names, emails and friends; `echo(text)`; `headers` (the request's
headers as JSON text); mutation `deleteUser(id)`.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from http.server import ThreadingHTTPServer
from typing import Any

from graphql import build_schema, graphql_sync

from tests.support.json_handler import JsonHandler

SCHEMA = """
type Query {
  users: [User!]!
  user(id: ID!): User
  echo(text: String!): String
  headers: String
}

type User {
  id: ID!
  name: String
  email: String
  friends: [User!]!
}

type Mutation {
  deleteUser(id: ID!): Boolean
}
"""

USERS = {"1": {"id": "1", "name": "Ada", "email": "ada@example.org", "friends": ["2"]},
         "2": {"id": "2", "name": "Alan", "email": "alan@example.org", "friends": ["1"]}}


def main(port: int = 0) -> None:
    lock = threading.Lock()
    state: dict[str, Any] = {"calls": 0, "requests": []}
    schema = build_schema(SCHEMA)

    def user(uid: str) -> dict[str, Any] | None:
        found = USERS.get(uid)
        return None if found is None else {**found, "friends": lambda *_: [user(f) for f in found["friends"]]}

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/calls":
                with lock:
                    self.answer(200, {"calls": state["calls"], "requests": state["requests"]})
                return
            params = dict(urllib.parse.parse_qsl(url.query))
            variables = json.loads(params["variables"]) if params.get("variables") else None
            self.execute(url, b"", params.get("query", ""), variables, params.get("operationName"))

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/control":
                with lock:
                    state.update(calls=0, requests=[])
                self.answer(200, {})
                return
            try:
                payload = json.loads(body)
            except ValueError:
                self.answer(400, {"errors": [{"message": "not JSON"}]})
                return
            self.execute(url, body, payload.get("query", ""), payload.get("variables"), payload.get("operationName"))

        def execute(self, url: urllib.parse.SplitResult, body: bytes, query: str, variables: Any, name: Any) -> None:
            with lock:
                state["calls"] += 1
                state["requests"].append({"method": self.command, "path": url.path, "query": url.query,
                                          "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body.decode("utf-8", "replace")})
            if url.path != "/graphql":
                self.answer(404, {"errors": [{"message": f"no GraphQL endpoint at {url.path}"}]})
                return
            root = {"users": lambda *_: [user(uid) for uid in USERS], "user": lambda _info, id: user(id),
                    "echo": lambda _info, text: text, "headers": json.dumps(dict(self.headers.items())),
                    "deleteUser": lambda _info, id: id in USERS}
            result = graphql_sync(schema, query, root_value=root, variable_values=variables, operation_name=name)
            self.answer(400 if result.data is None else 200, result.formatted)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
