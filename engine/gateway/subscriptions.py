"""Subscription keys: find the key in the request, check it against the API, build context objects.

The 401 bodies and `context.LastError` values are APIM's (apim-spec §6).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.context import Group, Headers, Subscription, User
from engine.errors import PolicyRuntimeError
from engine.gateway.settings import ApiSettings, GatewaySettings, ProductSettings, SubscriptionSettings

MISSING_KEY = (
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)


@dataclass(slots=True)
class Grant:
    """A request's resolved subscription: the context objects and the product it grants."""

    subscription: Subscription | None
    user: User | None
    product: ProductSettings | None


class Subscriptions:
    """Key -> subscription index, built once per configuration."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._products = settings.products
        self._by_key: dict[str, tuple[SubscriptionSettings, Subscription, User | None]] = {}
        for sub in settings.subscriptions:
            context_sub = Subscription(
                id=sub.id, key=sub.key, name=sub.name, primary_key=sub.key, secondary_key=sub.secondary_key
            )
            user = _user(sub)
            for key in (sub.key, sub.secondary_key):
                if key:
                    self._by_key[key] = (sub, context_sub, user)

    def resolve(self, api: ApiSettings, headers: Headers, query: dict[str, list[str]]) -> Grant:
        """Find and check the key; raise PolicyRuntimeError(401) when the API requires one and it fails."""
        key = headers.get(api.key_header)
        if key is None:
            values = query.get(api.key_query)
            key = values[0] if values else None
        if key is None:
            if api.subscription_required:
                raise _denied(MISSING_KEY, "SubscriptionKeyNotFound", api)
            return Grant(None, None, self._open_product(api))
        found = self._by_key.get(key)
        product = self._granted_product(found[0], api) if found is not None else None
        if found is None or product is False or not found[0].active:
            if api.subscription_required:
                raise _denied(INVALID_KEY, "SubscriptionKeyInvalid", api)
            return Grant(None, None, self._open_product(api))
        sub, context_sub, user = found
        if context_sub.key != key:  # called with the secondary key: Key is the key in use
            context_sub = Subscription(
                id=sub.id, key=key, name=sub.name, primary_key=sub.key, secondary_key=sub.secondary_key
            )
        return Grant(context_sub, user, product if isinstance(product, ProductSettings) else None)

    def _granted_product(self, sub: SubscriptionSettings, api: ApiSettings) -> ProductSettings | None | bool:
        """The product a subscription grants for `api`; None for API/all-API scope; False when not allowed."""
        if sub.product is not None:
            return self._products[sub.product] if sub.product in api.products else False
        if sub.api is not None:
            return None if sub.api == api.id else False
        return None

    def _open_product(self, api: ApiSettings) -> ProductSettings | None:
        """Without a subscription, the first open product (subscription not required) of the API applies."""
        for pid in api.products:
            product = self._products[pid]
            if not product.subscription_required:
                return product
        return None


def _user(sub: SubscriptionSettings) -> User | None:
    if sub.user is None:
        return None
    u = sub.user
    groups = [Group(id=g, name=g) for g in u.groups]
    return User(id=u.id, email=u.email, first_name=u.first_name, last_name=u.last_name, note=u.note, groups=groups)


def _denied(message: str, reason: str, api: ApiSettings) -> PolicyRuntimeError:
    challenge = f'AzureApiManagementKey realm="policygate", name="{api.key_header}", type="header"'
    error = PolicyRuntimeError(
        message, source="authorization", reason=reason, status=401, headers={"WWW-Authenticate": challenge}
    )
    return error
