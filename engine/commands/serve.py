"""`policygate serve CONFIG`: run the gateway (Granian or Hypercorn on uvloop) and its admin listener."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from typing import Any

from engine.errors import ConfigError, PolicyLoadError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from engine.gateway.listeners import CHOICES

    parser.add_argument("config", help="gateway configuration file (YAML) or an APIOps folder")
    parser.add_argument("--host", help="listen address (default: server.host or 127.0.0.1)")
    parser.add_argument("--port", type=port_number, help="listen port (default: server.port or 8080)")
    parser.add_argument("--admin-port", type=port_number, help="port of /metrics and /health (default: server.admin-port or 9090; 0 = off)")
    parser.add_argument("--admin-host", help="admin listen address (default: server.admin-host or 127.0.0.1)")
    parser.add_argument("--workers", type=int, help="worker processes sharing the port (default: server.workers or 1)")
    parser.add_argument("--server", choices=CHOICES,
                        help="HTTP server; auto = native without TLS, granian with it (default: server.http-server or auto)")
    parser.add_argument("--reload", action="store_true", help="reload when the configuration or a document changes")
    parser.add_argument("--access-log", action="store_true", help="write one JSON line per request to stderr")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="warning",
                        help="application log threshold (default warning; <trace> verbose = debug, information = info)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="application log lines on stderr: text, or JSON with the access log's schema")


def port_number(text: str) -> int:
    """A TCP port for argparse: 0-65535 (0: any free port, or no admin listener)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range 0..65535")
    return port


def run(args: argparse.Namespace) -> int:
    from engine.gateway import hup

    hup.defer()  # a SIGHUP while the configuration compiles is remembered, not fatal
    from engine.gateway.logs import configure_logging

    configure_logging(args.log_level, args.log_format)
    from engine.gateway.request_trace import share_secret

    share_secret()  # every worker (and a restarted one) accepts the admin's trace tokens
    from engine.gateway.reload import describe_failure
    from engine.gateway.runner import bind_socket

    server = None
    try:
        server = _prepare(args)
        workers = args.workers or server.settings.server.workers
        if workers < 1:
            raise ConfigError("--workers must be at least 1")
        # One worker, or several native ones, listen on this socket (native workers share it and balance
        # their connections: engine/gateway/balance.py); Granian and Hypercorn workers each listen on
        # their own SO_REUSEPORT socket, and this one only reserves the port (engine/gateway/workers.py).
        shared = workers == 1 or server.http_server == "native"
        sock = bind_socket(server.host, server.port, reuse_port=not shared, listen=shared)
    except (ConfigError, PolicyLoadError) as exc:
        say(describe_failure(exc), "policygate: not started")
        return 1
    except OSError as exc:
        where = f"{server.host}:{server.port}" if server is not None else f"{args.host or ''}:{args.port or ''}"
        say(f"policygate: cannot listen on {where}: {exc.strerror or exc}")
        return 1
    except Exception as exc:  # a bug, not bad input: say what failed in one line, still no traceback
        logging.getLogger("policygate").debug("start-up failed", exc_info=True)
        say(f"policygate: start-up failed: {type(exc).__name__}: {exc}")
        return 1
    if workers == 1:
        return _run_worker(server, sock, args.reload, first=True)
    from engine.gateway.worker_metrics import shared_metrics_dir

    with shared_metrics_dir():  # every worker's metrics on the admin port's /metrics
        return _run_workers(args, server, sock, workers)


def say(*lines: str) -> None:
    """Lines on stderr in one write: the workers and the parent share it, and `print` writes a
    line's text and its newline separately, so lines of different processes could mix."""
    sys.stderr.write("".join(f"{line}\n" for line in lines))
    sys.stderr.flush()


def _prepare(args: argparse.Namespace) -> Any:
    """A GatewayServer for the configuration with the command line's overrides, compiled."""
    from engine.gateway.apiops import load_any_settings
    from engine.gateway.runner import GatewayServer

    options: dict[str, Any] = {"host": args.host, "port": args.port, "access_log": args.access_log or None,
                               "http_server": args.server, "admin_host": args.admin_host}
    if args.admin_port is not None:
        options["admin_port"] = args.admin_port or False
    server = GatewayServer(load_any_settings(args.config), **options)
    server.prepare()
    return server


def _run_worker(server: Any, sock: Any, watch: bool, *, first: bool) -> int:
    _use_uvloop()
    if not first:
        server.admin_port = None  # one admin listener (in the first worker)
    try:
        asyncio.run(_serve(server, sock, watch, announce=first))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        say(f"policygate: {exc}")
        return 1
    return 0


async def _serve(server: Any, sock: Any, watch: bool, *, announce: bool) -> None:
    from engine.gateway.reload import install_sighup, watch_files

    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM"):
        loop.add_signal_handler(getattr(signal, name), shutdown.set)
    install_sighup(server)
    server.run_demo_backend = announce  # the first worker runs the sample backend
    server.owns_heap = True  # this process serves: keep its long-lived heap out of the collector's way
    tasks = []
    if watch:
        tasks.append(loop.create_task(watch_files(server, shutdown)))

    def ready(srv: Any) -> None:
        if announce:
            admin = f", admin on {srv.url('admin')}" if "admin" in srv.bound else ""
            if "demo-backend" in srv.bound:
                say(f"policygate: demo backend on {srv.url('demo-backend')}")
            say(f"policygate: serving {srv.settings.file} on {srv.url()} ({srv.http_server}){admin}")

    try:
        await server.serve(shutdown, ready=ready, gateway_socket=sock)
    finally:
        shutdown.set()
        for task in tasks:
            await task


def _run_workers(args: argparse.Namespace, server: Any, reserved: Any, workers: int) -> int:
    from engine.gateway.balance import ConnectionTable
    from engine.gateway.reload import describe_failure
    from engine.gateway.runner import bind_socket
    from engine.gateway.workers import Supervisor

    host, port = reserved.getsockname()[:2]
    table = ConnectionTable(workers) if server.http_server == "native" else None

    def work(index: int, respawn: bool) -> int:
        if table is None:
            reserved.close()
        current = server
        if respawn:  # read the files again: the other workers may have reloaded since the parent compiled
            try:
                current = _prepare(args)
            except (ConfigError, PolicyLoadError) as exc:
                logging.getLogger("policygate.workers").error(
                    "restarted worker keeps the configuration of the start; the current files fail:\n%s",
                    describe_failure(exc))
        current.port, current.http_server = port, server.http_server  # what the parent listens for
        if table is None:
            return _run_worker(current, bind_socket(host, port, reuse_port=True), args.reload, first=index == 0)
        current.balance = table.slot(index)
        return _run_worker(current, reserved, args.reload, first=index == 0)

    def stop_listening() -> None:  # shutting down: the port refuses new connections at once, in every worker
        if table is not None:
            reserved.shutdown(socket.SHUT_RDWR)

    from engine.gateway import heap

    heap.freeze()  # the workers inherit the compiled state frozen: their collections never copy its pages
    try:
        return Supervisor(workers, work, server.settings.server.graceful_timeout, stop_listening=stop_listening,
                          exited=table.slot_left if table is not None else None).run()
    finally:
        reserved.close()


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
