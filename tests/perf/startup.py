"""Start-up benchmark: load + compile a generated configuration of many operations and products.

    python -m tests.perf.startup [--operations 500] [--products 10] [--rounds 3]

Prints the seconds `GatewayState.build` takes (reading, validating, composing and compiling every
document) and how many expressions were compiled next to how many distinct (expression, result
type) pairs the configuration holds: with the per-configuration expression cache they are equal.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from engine.gateway.state import GatewayState

APIS = 10  # the operations are spread over this many APIs
# Every document below holds expressions; each text differs per file so each occurrence is distinct.
GLOBAL_POLICY = """<policies>
    <inbound>
        <set-header name="X-Request-Id" exists-action="skip"><value>@(context.RequestId.ToString())</value></set-header>
        <set-variable name="caller" value="@(context.Request.IpAddress)" />
        <choose>
            <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;X-Debug&quot;, &quot;&quot;) == &quot;1&quot;)">
                <set-header name="X-Debug-Seen" exists-action="override"><value>yes</value></set-header>
            </when>
        </choose>
    </inbound>
    <backend><forward-request timeout="30" /></backend>
    <outbound>
        <set-header name="X-Elapsed" exists-action="override"><value>@(context.Elapsed.TotalMilliseconds.ToString())</value></set-header>
    </outbound>
    <on-error />
</policies>
"""
PRODUCT_POLICY = """<policies>
    <inbound>
        <base />
        <rate-limit-by-key calls="{calls}" renewal-period="60" counter-key="@(&quot;{name}:&quot; + context.Subscription.Id)" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""
API_POLICY = """<policies>
    <inbound>
        <base />
        <set-query-parameter name="api" exists-action="override"><value>@(context.Api.Name + "-{index}")</value></set-query-parameter>
    </inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <set-header name="X-Api" exists-action="override"><value>@(context.Api.Id.ToUpper() + "{index}")</value></set-header>
    </outbound>
    <on-error><base /></on-error>
</policies>
"""
OPERATION_POLICY = """<policies>
    <inbound>
        <base />
        <set-variable name="op" value="@(context.Operation.Name.Length + {index})" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""
GLOBAL_EXPRESSIONS = 4  # per document kind: the number of @(...) values above
PRODUCT_EXPRESSIONS = 1
API_EXPRESSIONS = 2
OPERATION_EXPRESSIONS = 1
OPERATION_POLICY_EVERY = 5  # one operation in five has its own document


@dataclass(frozen=True)
class Generated:
    config: Path
    operations: int
    products: int
    distinct_expressions: int  # (expression, result type) pairs: each occurrence has one attribute type


def generate(directory: Path, operations: int = 500, products: int = 10) -> Generated:
    """Write gateway.yaml and its documents into `directory`."""
    docs = directory / "policies"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "global.xml").write_text(GLOBAL_POLICY)
    config: dict[str, object] = {"policy": "policies/global.xml", "products": {}, "apis": {}}
    product_ids = [f"product-{p}" for p in range(products)]
    for p, product in enumerate(product_ids):
        (docs / f"{product}.xml").write_text(PRODUCT_POLICY.format(calls=100 + p, name=product))
        config["products"][product] = {"policy": f"policies/{product}.xml"}  # type: ignore[index]
    with_policy = 0
    apis = min(APIS, operations) or 1
    for a in range(apis):
        api = f"api-{a}"
        (docs / f"{api}.xml").write_text(API_POLICY.format(index=a))
        ops: dict[str, object] = {}
        for o in range(a, operations, apis):
            op: dict[str, object] = {"method": "GET", "url-template": f"/items-{o}/{{id}}"}
            if o % OPERATION_POLICY_EVERY == 0:
                (docs / f"op-{o}.xml").write_text(OPERATION_POLICY.format(index=o))
                op["policy"] = f"policies/op-{o}.xml"
                with_policy += 1
            ops[f"op-{o}"] = op
        config["apis"][api] = {  # type: ignore[index]
            "path": api, "service-url": "http://127.0.0.1:9", "products": product_ids,
            "policy": f"policies/{api}.xml", "operations": ops,
        }
    path = directory / "gateway.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    distinct = (GLOBAL_EXPRESSIONS + products * PRODUCT_EXPRESSIONS + apis * API_EXPRESSIONS
                + with_policy * OPERATION_EXPRESSIONS)
    return Generated(path, operations, products, distinct)


def start_up(generated: Generated) -> tuple[float, GatewayState]:
    """(seconds to load and compile, the compiled state) for one fresh start."""
    from engine.gateway.backend import BackendClient
    from engine.gateway.config import load_settings
    from engine.gateway.services import Services
    from engine.gateway.state import GatewayState
    from engine.metrics import Metrics

    started = time.perf_counter()
    settings = load_settings(generated.config)
    state = GatewayState.build(settings, Services(settings=settings, metrics=Metrics(), http=BackendClient(settings.backend)))
    return time.perf_counter() - started, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operations", type=int, default=500)
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        generated = generate(Path(directory), args.operations, args.products)
        start_up(generated)  # warm: imports, the grammar, the policy registry
        timings = []
        for _ in range(args.rounds):
            seconds, state = start_up(generated)
            timings.append(seconds)
        print(f"start-up of {args.operations} operations x {args.products} products: "
              f"best {min(timings):.2f} s, worst {max(timings):.2f} s over {args.rounds} rounds")
        print(f"expressions parsed: {state.expressions.parses}, compiled: {state.expressions.compilations}; "
              f"distinct (expression, result type) pairs: {generated.distinct_expressions}")


if __name__ == "__main__":
    main()
