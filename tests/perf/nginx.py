"""nginx as a reference point: `proxy_cache` hit and plain keep-alive proxy in front of the same backend.

One nginx worker (like one gateway worker; `workers=N` for more, each with its own `reuseport`
listening socket like the gateway's workers) on a free loopback port, with its config, cache, temp
files, pid and error log in a private directory:

    /cached/...  proxy_cache hit (the first request fills it; 200 answers kept for an hour)
    /proxy/...   plain reverse proxy, HTTP/1.1 keep-alive pool to the backend
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.perf.servers import Process

CONFIG = """
worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy_temp;
  fastcgi_temp_path {dir}/fastcgi_temp;
  uwsgi_temp_path {dir}/uwsgi_temp;
  scgi_temp_path {dir}/scgi_temp;
  proxy_cache_path {dir}/cache levels=1:2 keys_zone=bench:10m max_size=100m inactive=60m use_temp_path=off;
  upstream backend {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port}{reuseport};
    location /cached/ {{
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_valid 200 1h;
    }}
    location /proxy/ {{
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def find_nginx() -> str | None:
    """nginx on PATH or in the usual sbin directories (often not on a normal user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if Path(candidate).exists():
            return candidate
    return None


class Nginx:
    """A running nginx; `.url` is its base URL, `.stop()` ends it and removes its directory."""

    def __init__(self, binary: str, backend_port: int, cpus: str | None, *, workers: int = 1,
                 launcher: list[str] | None = None) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="policygate-nginx-"))
        self.directory.chmod(0o755)  # when run as root, the worker (user nobody) reads the cache below it
        config = self.directory / "nginx.conf"

        def command(port: int) -> list[str]:
            config.write_text(CONFIG.format(dir=self.directory, backend=backend_port, port=port, workers=workers,
                                             reuseport=" reuseport" if workers > 1 else ""))
            return [*(launcher or []), binary, "-p", str(self.directory), "-c", str(config),
                    "-e", str(self.directory / "error.log")]

        self.process = Process("nginx", command, cpus)
        port = self.process.port
        self.url = f"http://127.0.0.1:{port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
