"""docs/policies.md's reference part is exactly what the Policy declarations say."""

from __future__ import annotations

from engine.reference import PAGE, render, updated
from engine.registry import default_registry


def test_policy_reference_matches_the_declarations() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert updated(page, default_registry()) == page, "docs/policies.md drifted: run `python -m engine.reference`"


def test_every_policy_has_an_entry() -> None:
    text = render(default_registry())
    for policy in default_registry().all():
        assert f"### {policy.tag} (reference)" in text
