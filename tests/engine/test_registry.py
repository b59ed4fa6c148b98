"""The built-in registry: unique tags, one module per policy, every APIM element declared."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import policies
from engine.policy import Policy
from engine.registry import PolicyRegistry, default_registry, discover_policies

# apim-spec §1.4: every policy element of Azure API Management
APIM_POLICIES = """
rate-limit rate-limit-by-key quota quota-by-key limit-concurrency azure-openai-token-limit llm-token-limit
check-header get-authorization-context ip-filter validate-azure-ad-token validate-jwt
validate-client-certificate authentication-basic authentication-certificate authentication-managed-identity
validate-content validate-graphql-request validate-odata-request validate-parameters validate-headers
validate-status-code forward-request set-backend-service proxy cache-lookup cache-store cache-lookup-value
cache-store-value cache-remove-value azure-openai-semantic-cache-lookup azure-openai-semantic-cache-store
llm-semantic-cache-lookup llm-semantic-cache-store set-method set-status set-variable set-body set-header
set-query-parameter rewrite-uri json-to-xml xml-to-json find-and-replace redirect-content-urls xsl-transform
return-response mock-response cross-domain cors jsonp send-request send-one-way-request log-to-eventhub
send-service-bus-message publish-to-dapr invoke-dapr-binding trace emit-metric azure-openai-emit-token-metric
llm-emit-token-metric llm-content-safety sql-data-source cosmosdb-data-source http-data-source publish-event
choose include-fragment retry wait base
""".split()


def test_tags_are_unique() -> None:
    found = discover_policies()
    PolicyRegistry(found)  # raises on a duplicate tag
    assert len({p.tag for p in found}) == len(found)


def _declared_tags(module_name: str) -> set[str]:
    modules = [importlib.import_module(module_name)]
    package = modules[0]
    if hasattr(package, "__path__"):  # a policy promoted to a package: look at all its modules
        modules += [
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{module_name}.")
        ]
    return {
        obj.tag
        for module in modules
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Policy) and obj.__module__ == module.__name__ and "tag" in obj.__dict__
    }


def test_every_module_declares_its_policy_under_the_naming_rule() -> None:
    for info in pkgutil.iter_modules(policies.__path__):
        if info.name.startswith("_"):  # shared helpers of several policies
            continue
        tag = info.name.replace("_", "-")
        assert tag in _declared_tags(f"policies.{info.name}"), f"policies/{info.name} should declare <{tag}>"


def test_every_apim_policy_is_declared() -> None:
    missing = sorted(set(APIM_POLICIES) - set(default_registry().tags()))
    assert missing == []


def test_schema_only_policies_say_why() -> None:
    registry = default_registry()
    for tag in registry.tags():
        policy = registry.get(tag)
        assert policy is not None
        if not policy.implemented and tag not in ("base", "include-fragment"):
            assert policy.unsupported_reason, f"<{tag}> is refused without a reason"


def test_base_and_include_fragment_are_handled_by_composition() -> None:
    registry = default_registry()
    for tag in ("base", "include-fragment"):
        policy = registry.get(tag)
        assert policy is not None and policy.implemented and not policy.allowed_in_fragment
