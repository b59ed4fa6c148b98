"""Test policy documents like code: the engine behind `policygate test`, usable from pytest.

    from engine.testing import Answer, Harness

    async with Harness.from_config("gateway.yaml") as gateway:
        gateway.answer_backend(Answer.json({"id": 1}))
        result = await gateway.request("GET", "/petstore/pets/1")

docs/testing.md describes the YAML format, the Python API and coverage.
"""

from engine.testing.harness import Harness, Result
from engine.testing.runner import Runner, RunResult
from engine.testing.spec import TestFile, TestFileError, load_test_file
from engine.testing.upstream import Answer, Call, TestClock

__all__ = ["Answer", "Call", "Harness", "Result", "RunResult", "Runner", "TestClock", "TestFile", "TestFileError",
           "load_test_file"]
