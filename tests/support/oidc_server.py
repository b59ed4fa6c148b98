"""An OpenID Connect provider for tests, run as its own process: `python -m tests.support.oidc_server`.

It listens on a free loopback port (printed as the first line of stdout) and speaks what Microsoft
Entra ID serves (the gateway is pointed at it with `token-validation.entra-authority`):

- `GET /<tenant>/v2.0/.well-known/openid-configuration`: the discovery document. `<tenant>` is
  TENANT_ID, the domain TENANT_DOMAIN (both: issuer `<base>/<TENANT_ID>/v2.0`) or `common` /
  `organizations` (issuer `<base>/{tenantid}/v2.0`); others get 400, as from Entra.
- `GET /<tenant>/discovery/v2.0/keys`: the JSON Web Key Set (RSA keys with `kid`, `n`, `e`).
- `POST /<tenant>/oauth2/v2.0/token` and `POST /token`: an OAuth 2.0 token endpoint (RFC 6749) for
  grants `client_credentials` and `refresh_token` with form credentials `client_id=CLIENT_ID`,
  `client_secret=CLIENT_SECRET`; a refresh token is single use (each answer carries the next one,
  the first is INITIAL_REFRESH_TOKEN). Answers `{"access_token", "token_type", "expires_in",
  "refresh_token", "scope"}`; the access token is a JWT signed with the current key.

Test controls: `POST /sign` with JSON `{"claims": {...}, "kid": optional, "alg": optional}` returns the
token signed by the current key (or the key `kid`; an unknown `kid` signs with a key the JWKS
does not list); `POST /rotate` adds a new current key (`{"kid": new}`); `POST /control` with JSON
`{"expires_in": s, "fail": status}`; `GET /calls` -> `{"discovery": n, "keys": n, "token": n,
"grants": [...]}`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.control import ControlledServer
from tests.support.json_handler import JsonHandler

TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
TENANT_DOMAIN = "contoso.example"
CLIENT_ID, CLIENT_SECRET = "connector-app", "connector-secret"
INITIAL_REFRESH_TOKEN = "refresh-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class Keys:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.current = ""
        self.rotate()

    def rotate(self) -> str:
        kid = f"key-{len(self.keys) + 1}"
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.current = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        entries = []
        for kid, key in self.keys.items():
            numbers = key.public_key().public_numbers()
            entries.append({"kty": "RSA", "use": "sig", "kid": kid, "n": b64url(_int_bytes(numbers.n)),
                            "e": b64url(_int_bytes(numbers.e))})
        return {"keys": entries}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        kid = kid or self.current
        key = self.keys.get(kid) or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        header = {"alg": "RS256", "typ": "JWT", "kid": kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}".encode()
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{b64url(signature)}"


class OidcProvider(ControlledServer):
    """The test side of a running provider process: its URL and controls."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.post_json(path, body)
        return answer

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return str(self.post("/sign", {"claims": claims, "kid": kid})["token"])

    def rotate(self) -> str:
        return str(self.post("/rotate", {})["kid"])



@contextmanager
def oidc_provider() -> Iterator[OidcProvider]:
    """Start the provider as a separate process; stop it after the block."""
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "tests.support.oidc_server"], cwd=root,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield OidcProvider(int(process.stdout.readline()))
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    lock = threading.Lock()
    keys = Keys()
    state: dict[str, Any] = {"expires_in": 3600, "fail": 0, "discovery": 0, "keys": 0, "token": 0, "grants": [],
                             "refresh": INITIAL_REFRESH_TOKEN}

    class Handler(JsonHandler):
        @property
        def base(self) -> str:
            return f"http://{self.headers.get('Host')}"

        def do_GET(self) -> None:  # noqa: N802
            path = urllib.parse.urlsplit(self.path).path
            parts = [p for p in path.split("/") if p]
            if path == "/calls":
                with lock:
                    self.answer(200, {k: state[k] for k in ("discovery", "keys", "token", "grants")})
            elif len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                self.discovery(parts[0])
            elif len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
                with lock:
                    state["keys"] += 1
                    self.answer(200, keys.jwks())
            else:
                self.answer(404, {"error": "not_found"})

        def discovery(self, tenant: str) -> None:
            if tenant in (TENANT_ID, TENANT_DOMAIN):
                issuer = f"{self.base}/{TENANT_ID}/v2.0"
            elif tenant in ("common", "organizations"):
                issuer = f"{self.base}/{{tenantid}}/v2.0"
            else:
                self.answer(400, {"error": "invalid_tenant", "error_description": f"Tenant '{tenant}' not found."})
                return
            with lock:
                state["discovery"] += 1
            self.answer(200, {"issuer": issuer, "jwks_uri": f"{self.base}/{tenant}/discovery/v2.0/keys",
                              "token_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/token",
                              "id_token_signing_alg_values_supported": ["RS256"]})

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            path = urllib.parse.urlsplit(self.path).path
            if path == "/sign":
                spec = json.loads(body)
                with lock:
                    token = keys.sign(spec["claims"], spec.get("kid"))
                self.answer(200, {"token": token})
            elif path == "/rotate":
                with lock:
                    self.answer(200, {"kid": keys.rotate()})
            elif path == "/control":
                with lock:
                    state.update(json.loads(body))
                self.answer(200, {})
            elif path == "/token" or path.endswith("/oauth2/v2.0/token"):
                self.token(dict(urllib.parse.parse_qsl(body)))
            else:
                self.answer(404, {"error": "not_found"})

        def token(self, form: dict[str, str]) -> None:
            with lock:
                state["token"] += 1
                state["grants"].append({k: v for k, v in form.items() if k != "client_secret"})
                if state["fail"]:
                    self.answer(state["fail"], {"error": "temporarily_unavailable"})
                    return
                if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                    self.answer(401, {"error": "invalid_client", "error_description": "bad client credentials"})
                    return
                grant = form.get("grant_type")
                if grant == "refresh_token":
                    if form.get("refresh_token") != state["refresh"]:
                        self.answer(400, {"error": "invalid_grant", "error_description": "refresh token expired"})
                        return
                    state["refresh"] = f"refresh-{state['token'] + 1}"
                elif grant != "client_credentials":
                    self.answer(400, {"error": "unsupported_grant_type"})
                    return
                now = int(time.time())
                access = keys.sign({"sub": form.get("client_id"), "scope": form.get("scope", ""), "iat": now,
                                    "exp": now + state["expires_in"], "n": state["token"]})
                answer = {"access_token": access, "token_type": "Bearer", "expires_in": state["expires_in"],
                          "scope": form.get("scope", "")}
                if grant == "refresh_token":
                    answer["refresh_token"] = state["refresh"]
                self.answer(200, answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
