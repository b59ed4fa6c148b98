"""Policy tests from Python: `from policygate.testing import Answer, Harness` (docs/testing.md).

The public name of `engine.testing`; like the `policygate` command it first checks that `engine`
and `policies` are this distribution's packages, not folders of the same name in the way.
"""

from __future__ import annotations

from policygate import check_import_names

_problem = check_import_names()
if _problem is not None:
    raise ImportError(_problem)

from engine.testing import (  # noqa: E402 - only once the import names are known to be ours
    Answer,
    Call,
    Coverage,
    Harness,
    Identity,
    Result,
    Runner,
    RunResult,
    TestClock,
    TestFile,
    TestFileError,
    UserSettings,
    load_test_file,
    render_text,
)

__all__ = ["Answer", "Call", "Coverage", "Harness", "Identity", "Result", "RunResult", "Runner", "TestClock",
           "TestFile", "TestFileError", "UserSettings", "load_test_file", "render_text"]
