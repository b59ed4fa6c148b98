"""`context.Deployment` is made once per process: shared by requests, new in a forked worker."""

from __future__ import annotations

import os

from engine.context import Context


def test_requests_share_the_process_deployment() -> None:
    first, second = Context(), Context()
    assert first.deployment is second.deployment
    assert first.deployment.gateway.instance_id.endswith(f"_{os.getpid()}")


def test_a_forked_worker_has_its_own_instance_id() -> None:
    parent = Context().deployment.gateway.instance_id
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: report its InstanceId and leave without running pytest's exit handlers
        try:
            os.write(write, Context().deployment.gateway.instance_id.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read().decode()
    os.waitpid(pid, 0)
    assert child == parent.rsplit("_", 1)[0] + f"_{pid}"
