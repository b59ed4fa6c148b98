"""Configuration reload (SIGHUP or `--reload` file watching): build everything new, then swap.

A reload re-reads the configuration file and every document, re-creates the cache and rate-limit
services only when their settings changed, and swaps the compiled state in one assignment.
Any failure keeps the running configuration and logs the diagnostics. Listener settings (host,
ports, workers) need a restart.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from engine.credentials import credential_service
from engine.diagnostics import render_text
from engine.errors import ConfigError, PolicyLoadError
from engine.gateway import heap, hup
from engine.gateway.apiops import is_apiops_folder, load_any_settings, watched_files
from engine.gateway.services import build_store_services, certificate_store
from engine.gateway.settings import GatewaySettings
from engine.gateway.state import GatewayState
from engine.identity import token_service
from engine.loggers import logger_service
from engine.source import SourceFile

if TYPE_CHECKING:
    from engine.cache.service import CacheService
    from engine.gateway.runner import GatewayServer
    from engine.loggers import LoggerService
    from engine.ratelimit.service import LimitService

log = logging.getLogger("policygate.reload")


def describe_failure(exc: BaseException) -> str:
    """Render a ConfigError or PolicyLoadError for humans (diagnostics with source lines)."""
    if isinstance(exc, PolicyLoadError):
        sources: dict[str, SourceFile | None] = {}
        parts = []
        for diagnostic in exc.diagnostics:
            file = diagnostic.span.file
            if file not in sources:
                try:
                    sources[file] = SourceFile(file, Path(file).read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    sources[file] = None
            parts.append(render_text(diagnostic, sources[file]))
        return "\n".join(parts)
    return str(exc)


async def reload_server(server: GatewayServer, path: Path) -> bool:
    services, app = server.services, server.app
    assert services is not None and app is not None
    metrics = services.gateway_metrics
    created: list[CacheService | LimitService] = []
    try:
        settings = await asyncio.to_thread(load_any_settings, path)  # may fetch WSDL imports: off the loop
        certificates = certificate_store(settings)  # re-read: files may have been renewed
        cache, limits = services.cache, services.limits
        if _changed(settings, services.settings):
            cache, limits = build_store_services(settings, server.metrics)
            created = [s for s in (cache, limits) if s is not None]
        state = await asyncio.to_thread(GatewayState.build, settings, services, server.registry)
        for service in created:
            await service.start()
    except (ConfigError, PolicyLoadError) as exc:
        log.error("reload of %s failed; keeping the running configuration:\n%s", path, describe_failure(exc))
        if metrics is not None:
            metrics.reloads.inc("failed")
        return False
    except Exception as exc:  # e.g. Redis refused at start: still keep serving the old state
        log.error("reload of %s failed; keeping the running configuration: %s", path, exc)
        if metrics is not None:
            metrics.reloads.inc("failed")
        return False
    old: list[CacheService | LimitService | LoggerService] = [
        s for s in (services.cache, services.limits) if s is not None and s not in (cache, limits)
    ]
    services.cache, services.limits = cache, limits
    for service in created:  # their admin routes (e.g. cache purge) now reach the new service
        register = getattr(service, "register_admin_routes", None)
        if callable(register):
            register(services)
    if settings.identity != services.settings.identity:
        services.identity = token_service(settings.identity)
    if settings.credentials != services.settings.credentials:
        services.credentials = credential_service(settings.credentials)
    services.certificates = certificates
    if settings.loggers != services.settings.loggers:
        replaced, services.loggers = services.loggers, logger_service(settings.loggers, server.metrics)
        if services.loggers is not None:
            await services.loggers.start()
        if replaced is not None:
            old.append(replaced)
    services.use_settings(settings)
    services.named_values = dict(settings.named_values)
    services.fragments = state.fragments
    app.gateway.swap(state)
    server.settings = settings
    for stale in old:
        try:
            await stale.close()
        except Exception as exc:
            log.warning("closing the replaced %s failed: %s", type(stale).__name__, exc)
    if server.owns_heap:
        heap.settle()  # the replaced state is collected, the new one frozen (engine/gateway/heap.py)
    if metrics is not None:
        metrics.reloads.inc("ok")
    log.warning("reloaded %s", path)
    return True


def _changed(new: GatewaySettings, old: GatewaySettings) -> bool:
    return new.cache != old.cache or new.rate_limits != old.rate_limits


def install_sighup(server: GatewayServer) -> None:
    """Reload on SIGHUP (POSIX only), and once now if one came before (engine/gateway/hup.py)."""
    if not hasattr(signal, "SIGHUP"):
        return
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[bool]] = set()

    def on_hup() -> None:
        task = loop.create_task(server.reload())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    if hup.take():  # one came while the configuration was compiling: reload once now
        log.warning("a SIGHUP came during start-up: reloading once now")
        loop.call_soon(on_hup)


async def watch_files(server: GatewayServer, shutdown: asyncio.Event, interval: float = 1.0) -> None:
    """Poll the configuration file and every document it names; reload when one changes."""
    def snapshot() -> dict[Path, int]:
        config = server.settings.file
        root = config if config.is_dir() else config.parent
        if is_apiops_folder(root):  # every JSON, specification and policy file of the folder
            files = list(watched_files(root))
        else:
            files = [config, *server.settings.policy_files()]
        stamps = {}
        for file in files:
            try:
                stamps[file] = file.stat().st_mtime_ns
            except OSError:
                stamps[file] = -1
        return stamps

    seen = snapshot()
    while not shutdown.is_set():
        try:
            await asyncio.wait_for(shutdown.wait(), interval)
        except TimeoutError:
            pass
        current = snapshot()
        if current != seen:
            await server.reload()
            seen = snapshot()
