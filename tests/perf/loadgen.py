"""Load generation for the benchmark suite: wrk when installed, else a Python asyncio client.

`run_load(url, ...)` returns a `LoadResult` (requests/s, p50/p99 latency, non-2xx/3xx answers
and socket errors) whichever tool ran. The Python client runs in its own process (so it can be
pinned to a CPU like wrk) and keeps `connections` HTTP/1.1 keep-alive connections busy:

    python -m tests.perf.loadgen URL --seconds 4 --connections 32 [--header 'Name: value'] [--paths 200]

`--paths N` (both tools) spreads requests over `URL0` ... `URL{N-1}` (the URL with a number appended).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.perf.servers import ROOT, pinned

WRK_SCRIPT = """
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. (counter % {paths}))
end
"""


@dataclass
class LoadResult:
    tool: str
    seconds: float
    requests: int
    errors: int  # answers other than 2xx/3xx, plus socket errors and timeouts
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(url: str, *, seconds: float, connections: int, headers: dict[str, str] | None = None,
             paths: int = 0, cpus: str | None = None, use_wrk: bool = True) -> LoadResult:
    """Keep `connections` connections busy for `seconds` (at least 1 s) and report what came back."""
    if use_wrk and wrk_available():
        return _wrk(url, seconds, connections, headers or {}, paths, cpus)
    command = [sys.executable, "-m", "tests.perf.loadgen", url, "--seconds", str(seconds),
               "--connections", str(connections), "--paths", str(paths)]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    out = subprocess.run(pinned(command, cpus), capture_output=True, text=True, check=True, cwd=ROOT,
                         timeout=seconds + 60).stdout
    return LoadResult(**json.loads(out))


# -- wrk ---------------------------------------------------------------------------------------
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(url: str, seconds: float, connections: int, headers: dict[str, str], paths: int, cpus: str | None) -> LoadResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory(prefix="policygate-wrk-") as tmp:
        if paths:
            script = Path(tmp) / "paths.lua"
            script.write_text(WRK_SCRIPT.replace("{paths}", str(paths)))
            command += ["-s", str(script)]
        out = subprocess.run(pinned([*command, url], cpus), capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if total is None or p50 is None or p99 is None:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return LoadResult("wrk", _duration_ms(total.group(2) + total.group(3)) / 1000, int(total.group(1)), errors,
                      _duration_ms(p50.group(1)), _duration_ms(p99.group(1)))


# -- the Python load generator -----------------------------------------------------------------
async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def python_load(url: str, seconds: float, connections: int, headers: dict[str, str], paths: int) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    base = parts.path or "/"
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    def request(index: int) -> bytes:
        path = f"{base}{index % paths}" if paths else base
        if parts.query:
            path += "?" + parts.query
        return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode()

    requests = [request(i) for i in range(max(1, paths))]
    samples: list[float] = []
    counts = {"requests": 0, "errors": 0}
    started = time.perf_counter()
    until = started + seconds

    async def connection(offset: int) -> None:
        index = offset
        while time.perf_counter() < until:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                counts["errors"] += 1
                await asyncio.sleep(0.01)
                continue
            try:
                while time.perf_counter() < until:
                    sent = time.perf_counter()
                    writer.write(requests[index % len(requests)])
                    status = await asyncio.wait_for(_read_answer(reader), 10)
                    samples.append(time.perf_counter() - sent)
                    counts["requests"] += 1
                    if status >= 400:
                        counts["errors"] += 1
                    index += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
                counts["requests"] += 1
                counts["errors"] += 1
            finally:
                writer.close()

    await asyncio.gather(*(connection(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    samples.sort()
    p50 = statistics.median(samples) * 1000 if samples else 0.0
    p99 = samples[max(0, int(len(samples) * 0.99) - 1)] * 1000 if samples else 0.0
    return LoadResult("python", elapsed, counts["requests"], counts["errors"], p50, p99)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    parser.add_argument("--paths", type=int, default=0)
    args = parser.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(python_load(args.url, args.seconds, args.connections, headers, args.paths))
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
