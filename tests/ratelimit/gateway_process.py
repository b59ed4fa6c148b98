"""Run one gateway process for multi-process tests: `python -m tests.ratelimit.gateway_process CONFIG [--admin]`.

Prints `PORT <n>` (and `ADMIN <n>` with --admin) on stdout once listening; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


async def _serve(config: str, admin: bool) -> None:
    from engine.gateway.config import load_settings
    from engine.gateway.runner import GatewayServer

    server = GatewayServer(load_settings(config), host="127.0.0.1", port=0, admin_port=0 if admin else False)
    server.prepare()
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown.set)

    def ready(started: GatewayServer) -> None:
        admin_line = f" ADMIN {started.bound['admin'][1]}" if admin else ""
        print(f"PORT {started.bound['gateway'][1]}{admin_line}", flush=True)

    await server.serve(shutdown, ready=ready)


@contextmanager
def gateway_processes(config: Path, count: int, timeout: float = 120.0, *, admin: bool = False) -> Iterator[Any]:
    """Start `count` gateway processes on `config`; yield their base URLs (with `admin`: the tuple
    (gateway URLs, admin URLs)); stop them. `timeout` only guards against a process that never
    starts: on a loaded 2-core machine, 4 processes starting at once can take well over 30 s."""
    root = Path(__file__).resolve().parents[2]
    logs = [open(config.parent / f"gateway-{i}.log", "w") for i in range(count)]  # noqa: SIM115
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ratelimit.gateway_process", str(config), *(["--admin"] if admin else [])],
            cwd=root, stdout=subprocess.PIPE, stderr=log, text=True,
        )
        for log in logs
    ]
    try:
        urls, admin_urls = [], []
        deadline = time.monotonic() + timeout
        for process in processes:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = process.stdout.readline() if ready else ""
            if not line.startswith("PORT "):
                errors = (config.parent / f"gateway-{processes.index(process)}.log").read_text()
                raise RuntimeError(f"gateway process did not start: {line!r} {errors[-2000:]}")
            words = line.split()
            urls.append(f"http://127.0.0.1:{int(words[1])}")
            if admin:
                admin_urls.append(f"http://127.0.0.1:{int(words[3])}")
        yield (urls, admin_urls) if admin else urls
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            if process.stdout is not None:
                process.stdout.close()
        for log in logs:
            log.close()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], "--admin" in sys.argv[2:]))
