"""Fixtures for policy tests: a real echo backend per module and a gateway factory in front of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

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
