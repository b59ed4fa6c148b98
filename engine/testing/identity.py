"""Who calls a document chain under test: its subscription, user and product."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.gateway.settings import UserSettings

DOCUMENT_KEY = "test-key"  # the subscription key a document chain's requests carry by default


@dataclass(frozen=True)
class Identity:
    """Who calls a document chain: the subscription, its user and its product."""

    subscription_id: str = "subscription"
    subscription_name: str = "subscription"
    key: str = DOCUMENT_KEY
    user: UserSettings = field(default_factory=lambda: UserSettings(id="user", email="user@example.com"))
    product_id: str = "product"
    product_name: str = "product"
    product_groups: tuple[str, ...] = ()
