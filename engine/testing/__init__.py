"""Test policy documents like code: the engine behind `policygate test`, usable from pytest.

    from policygate.testing import Answer, Harness     # or engine.testing

    async with Harness.from_config("gateway.yaml") as gateway:
        gateway.answer_backend(Answer.json({"id": 1}))
        result = await gateway.request("GET", "/petstore/pets/1")

docs/testing.md describes the YAML format, the Python API and coverage.
"""

from engine.gateway.settings import UserSettings
from engine.testing.coverage import Coverage
from engine.testing.harness import Harness, Result
from engine.testing.identity import Identity
from engine.testing.report import render_text
from engine.testing.runner import Runner, RunResult
from engine.testing.spec import TestFile, TestFileError, load_test_file
from engine.testing.upstream import Answer, Call, TestClock

__all__ = ["Answer", "Call", "Coverage", "Harness", "Identity", "Result", "RunResult", "Runner", "TestClock",
           "TestFile", "TestFileError", "UserSettings", "load_test_file", "render_text"]
