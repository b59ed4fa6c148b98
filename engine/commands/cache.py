"""`policygate cache purge CONFIG --api X [--operation Y]`: remove every cached variant of an API.

Without `--admin` it connects to the configuration's external cache (`cache.external`) and deletes
the entries there. In-process caches live inside each gateway process: `--admin URL` asks a running
gateway's admin endpoint (`POST /cache/purge`) instead, which purges its in-process cache and the
external one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING

from engine.errors import ConfigError

if TYPE_CHECKING:
    from engine.gateway.settings import GatewaySettings

ADMIN_TOKEN_VARIABLE = "POLICYGATE_ADMIN_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    purge = sub.add_parser("purge", help="remove every cached response variant of an API or operation")
    purge.add_argument("config", help="gateway configuration: a YAML file, a folder holding gateway.yaml, or an APIOps folder")
    purge.add_argument("--api", required=True, help="API id (the key under `apis:`)")
    purge.add_argument("--operation", help="operation id (default: every operation of the API)")
    purge.add_argument("--admin", metavar="URL", help="purge through a running gateway's admin endpoint, e.g. http://127.0.0.1:9090")
    purge.add_argument("--admin-token", metavar="TOKEN", default=os.environ.get(ADMIN_TOKEN_VARIABLE),
                       help=f"the gateway's server.admin-token (default: ${ADMIN_TOKEN_VARIABLE})")


def run(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args.config, through_admin=bool(args.admin))
        if settings is not None:
            _check_target(settings, args.api, args.operation)
        if settings is None or args.admin:
            removed = asyncio.run(_purge_via_admin(args.admin, args.api, args.operation, args.admin_token))
        else:
            removed = asyncio.run(_purge_external(settings, args.api, args.operation))
    except ConfigError as exc:
        print(f"policygate: {exc}", file=sys.stderr)
        return 2
    except PurgeFailed as exc:
        print(f"policygate: {exc}", file=sys.stderr)
        return 1
    target = f"API '{args.api}'" + (f" operation '{args.operation}'" if args.operation else "")
    print(f"removed {removed} cached {'entry' if removed == 1 else 'entries'} of {target}")
    return 0


def _settings(config: str, *, through_admin: bool) -> GatewaySettings | None:
    """The configuration, as `serve` reads it (a file, a folder holding gateway.yaml, an APIOps folder).
    Through the admin endpoint it only names the APIs, so one this machine cannot load (a secret's
    variable unset) is not needed."""
    from engine.gateway.apiops import load_any_settings

    try:
        return load_any_settings(config)
    except ConfigError:
        if through_admin:
            return None
        raise


def _check_target(settings: GatewaySettings, api: str, operation: str | None) -> None:
    """A typo in `--api` or `--operation` is an error, not a purge of nothing reported as success."""
    if not settings.apis:
        return
    found = settings.apis.get(api)
    if found is None:
        raise ConfigError(f"{settings.file}: apis: no API '{api}' (known: {', '.join(sorted(settings.apis))})")
    known = [o.id for o in found.operations]
    if operation is not None and operation not in known:
        raise ConfigError(f"{settings.file}: apis.{api}: no operation '{operation}' (known: {', '.join(known)})")


class PurgeFailed(Exception):
    """The cache or the admin endpoint could not be reached."""


async def _purge_external(settings: GatewaySettings, api: str, operation: str | None) -> int:
    from engine.cache.service import CacheService
    from engine.cache.stores import CacheUnavailable

    service = CacheService.from_config(settings.cache, where=f"{settings.file}: cache")
    if service.settings is None:
        raise ConfigError(
            f"{settings.file}: cache.external: not configured; in-process caches live in each gateway: use --admin URL"
        )
    # An administrative call may wait longer than the request path's 50 ms.
    service.settings = service.settings.with_timeouts(connect_timeout=2.0, timeout=5.0)
    await service.start()
    try:
        return await service.purge(api, operation)
    except CacheUnavailable as exc:
        raise PurgeFailed(str(exc)) from None
    finally:
        await service.close()


async def _purge_via_admin(base_url: str, api: str, operation: str | None, token: str | None) -> int:
    import aiohttp

    params = {"api": api, **({"operation": operation} if operation else {})}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = base_url.rstrip("/") + "/cache/purge"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(url, params=params, headers=headers) as response:
                text = await response.text()
                if response.status != 200:
                    raise PurgeFailed(f"{url} answered {response.status}: {text.strip()}")
                return int(json.loads(text)["removed"])
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        raise PurgeFailed(f"cannot purge through {url}: {exc or type(exc).__name__}") from None
