"""The samples' own policy tests pass (they are the examples docs/testing.md points to)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.testing.report import render_text
from engine.testing.runner import Runner

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize("sample", ["demo", "apiops"])
async def test_sample_policy_tests_pass(sample: str) -> None:
    result = await Runner().run_paths([SAMPLES / sample])
    assert result.files, f"no policy tests under samples/{sample}"
    assert result.exit_code == 0, render_text(result)
    assert sum(1 for _ in result.cases()) >= 5
