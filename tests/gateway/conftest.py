"""Fixtures for end-to-end gateway tests: a real echo backend per module, a gateway factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import Backend, RunningGateway, run_gateway

POLICIES = """<policies>
  <inbound>{inbound}</inbound>
  <backend>{backend}</backend>
  <outbound>{outbound}</outbound>
  <on-error>{on_error}</on-error>
</policies>"""


def document(inbound: str = "<base />", backend: str = "<base />", outbound: str = "<base />",
             on_error: str = "<base />") -> str:
    """A <policies> document from the XML of each section."""
    return POLICIES.format(inbound=inbound, backend=backend, outbound=outbound, on_error=on_error)


@pytest.fixture(scope="module")
def module_backend() -> Iterator[Backend]:
    with Backend() as backend:
        yield backend


@pytest.fixture
def backend(module_backend: Backend) -> Iterator[Backend]:
    module_backend.reset()
    yield module_backend
    module_backend.reset()


GatewayFactory = Callable[..., AbstractContextManager[RunningGateway]]


@pytest.fixture
def gateway(tmp_path: Path, backend: Backend) -> GatewayFactory:
    """`with gateway(config, {"api.xml": XML}) as gw:` — a real gateway in front of `backend`."""

    def start(config: str | dict[str, Any], policies: dict[str, str] | None = None, **options: Any) -> AbstractContextManager[RunningGateway]:
        return run_gateway(tmp_path, config, policies, backend=backend, **options)

    return start
