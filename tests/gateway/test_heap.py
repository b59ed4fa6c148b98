"""A serving process freezes its long-lived heap, and a reload lets the replaced state be collected.

Runs in a child process: the heap belongs to the process that serves, so this test must not freeze
pytest's own. The child builds a gateway the way `policygate serve` does (`owns_heap`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import asyncio, gc, json, sys, weakref
from engine.gateway.runner import load_server

server = load_server(sys.argv[1], admin_port=False, port=0)
server.owns_heap = True

class Node:
    pass

keep = [Node()]  # a reference cycle alive at start-up, dropped while serving
keep[0].me = keep[0]
cycle = weakref.ref(keep[0])

async def main():
    shutdown, ready = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(server.serve(shutdown, ready=lambda _: ready.set()))
    await asyncio.wait_for(ready.wait(), 30)
    await asyncio.sleep(0.05)  # the settle step runs right beside `ready`
    frozen_at_start = gc.get_freeze_count()
    keep.clear()
    gc.collect()
    frozen_cycle_kept = cycle() is not None  # frozen: ordinary collections no longer walk it
    old_state = weakref.ref(server.app.gateway.state)
    ok = await server.reload()
    print(json.dumps({"frozen": frozen_at_start, "frozen_cycle_kept": frozen_cycle_kept, "reloaded": ok,
                      "cycle_alive": cycle() is not None, "old_state_alive": old_state() is not None,
                      "frozen_after_reload": gc.get_freeze_count()}))
    shutdown.set()
    await serving

asyncio.run(main())
"""

CONFIG = """
apis:
  echo:
    path: echo
    service-url: http://127.0.0.1:9
    policy: api.xml
"""

POLICY = """<policies><inbound><base /><set-header name="X-A" exists-action="override"><value>@(context.Request.Method)</value></set-header></inbound>
<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""


def test_serving_process_freezes_its_heap_and_reload_releases_the_old_state(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(CONFIG)
    (tmp_path / "api.xml").write_text(POLICY)
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "gateway.yaml")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["reloaded"] is True
    assert report["frozen"] > 10_000  # imports, compiled documents and services are out of the collector's way
    assert report["frozen_cycle_kept"] is True
    assert report["cycle_alive"] is False  # a reload unfreezes and collects what start-up left behind
    assert report["old_state_alive"] is False  # and the replaced state is gone
    assert report["frozen_after_reload"] > 10_000
