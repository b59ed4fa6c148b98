"""policygate engine: policy documents, the expression language, the runtime and the gateway."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "apim-policygate"  # the package-index name; `policygate` there is an unrelated project


def distribution_version() -> str:
    """The installed version ('0+unknown' when running from a copy that is not installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
