"""The test's side of a local protocol server that also answers /control and /calls (JSON over HTTP)."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any


class ControlledServer:
    """A server process at `url` whose behaviour a test sets (/control) and whose calls it reads (/calls)."""

    url: str

    def post_json(self, path: str, body: dict[str, Any], timeout: float = 10.0) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            text = answer.read()
        return json.loads(text) if text.strip() else None

    def control(self, **settings: Any) -> None:
        self.post_json("/control", settings)

    def calls(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/calls", timeout=10) as answer:
            found: dict[str, Any] = json.loads(answer.read())
        return found

    def wait_for_calls(self, n: int, timeout: float = 10.0) -> None:
        """Return once the server counted `n` calls, or after `timeout` seconds (the test asserts after)."""
        deadline = time.monotonic() + timeout
        while self.calls()["calls"] < n and time.monotonic() < deadline:
            time.sleep(0.05)
