"""Elements that cannot run outside Azure: lint warns, serve refuses, both naming the reason and the alternative."""

from __future__ import annotations

import pytest

from engine.errors import PolicyLoadError
from tests.policies.support import lint

REFUSED = {
    "publish-event": '<publish-event><targets><graphql-subscription id="s" /></targets></publish-event>',
    "sql-data-source": "<sql-data-source />",
    "cosmosdb-data-source": "<cosmosdb-data-source />",
}


@pytest.mark.parametrize("tag", sorted(REFUSED))
def test_lint_warns_with_the_alternative(tag: str) -> None:
    [warning] = [d for d in lint(REFUSED[tag]).sorted() if d.code == "policy-unsupported"]
    assert f"cannot run <{tag}>" in warning.message and ";" in warning.message  # reason; alternative


def test_serve_refuses_with_reason(api_gateway, backend) -> None:
    policy = f"<policies><inbound><base />{REFUSED['publish-event']}</inbound></policies>"
    with pytest.raises(PolicyLoadError) as caught, api_gateway(policy):
        pass
    [problem] = caught.value.diagnostics
    assert problem.code == "policy-not-implemented"
    assert problem.message.startswith("<publish-event> cannot run on the policygate gateway: "
                                      "policygate's synthetic GraphQL APIs answer queries and mutations but not subscriptions")
