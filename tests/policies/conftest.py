"""Fixtures for policy tests: a real echo backend per module, a gateway factory in front of it, and
the token server (tests/support/token_server.py) as its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.support.control import ControlledServer
from tests.support.gateway import Backend, RunningGateway, run_gateway, simple_config

GatewayFactory = Callable[..., AbstractContextManager[RunningGateway]]


@pytest.fixture(scope="module")
def module_backend() -> Iterator[Backend]:
    with Backend() as backend:
        yield backend


@pytest.fixture
def backend(module_backend: Backend) -> Iterator[Backend]:
    module_backend.reset()
    yield module_backend
    module_backend.reset()


@pytest.fixture
def api_gateway(tmp_path: Path, backend: Backend) -> GatewayFactory:
    """`with api_gateway(policy_xml) as gw:` — one API at /echo with that policy, in front of `backend`."""

    def start(policy: str, **config: Any) -> AbstractContextManager[RunningGateway]:
        return run_gateway(tmp_path, simple_config(api_policy="api.xml", **config), {"api.xml": policy}, backend=backend)

    return start


TOKEN_SECRET, TOKEN_ASSERTION = "s3cret", "federated-service-account-token"  # what the token server accepts


class TokenServer(ControlledServer):
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port
        self.url = f"http://127.0.0.1:{port}"

    def imds(self, **extra: Any) -> dict[str, Any]:
        """`identity:` settings asking this server's IMDS endpoint."""
        return {"provider": "imds", "endpoint": f"{self.url}/metadata/identity/oauth2/token", **extra}


@pytest.fixture
def tokens() -> Iterator[TokenServer]:
    process = subprocess.Popen([sys.executable, "-m", "tests.support.token_server", TOKEN_SECRET, TOKEN_ASSERTION],
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield TokenServer(process, int(process.stdout.readline()))
    finally:
        process.terminate()
        process.wait(10)
