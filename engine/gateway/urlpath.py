"""Dot segments in request paths (RFC 3986 §5.2.4), removed before routing.

`/api/a/../../admin` must not reach a backend that normalises paths itself, because that backend
would then serve `/admin`, outside the API's service URL. The gateway normalises first, so the
request is routed (and forwarded) as the resource it names: `/admin` here, matching no API.
`%2e` is an encoded `.` (an unreserved character, RFC 3986 §6.2.2.2) and counts as one.

An encoded separator (`%2f`, `%5c`) or a backslash that would make a dot segment once a backend
decodes it (`..%2f`, `%2e%2e%5c`, `..\\`) cannot be normalised without changing what the
segment means, so such a path is refused (`normalize_path` returns None: 400).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_DOT = re.compile(r"%2e", re.IGNORECASE)
_SEPARATORS = re.compile(r"[/\\]")
_SUSPECT = re.compile(r"\.|%2e|%2f|%5c|%25|\\", re.IGNORECASE)


def normalize_path(path: str) -> str | None:
    """`path` (percent-encoded, starting with `/`) without dot segments; None when it must be refused."""
    if _SUSPECT.search(path) is None:  # the common case: nothing to look at
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        dots = _DOT.sub(".", segment)
        if dots in (".", ".."):
            if dots == ".." and len(output) > 1:
                output.pop()
            if last:
                output.append("")  # "/a/b/.." is "/a/": the result names a folder
            continue
        if _hides_dot_segment(segment):  # a dot segment once a backend decodes it: cannot be normalised here
            return None
        output.append(segment)
    if not output or output[0] != "":
        output.insert(0, "")
    result = "/".join(output)
    return result if result else "/"


def _hides_dot_segment(segment: str) -> bool:
    """True when decoding the segment gives a `.` or `..` piece (`..%2f`, `..\\x`, `%252e%252e`)."""
    if "%" not in segment and "\\" not in segment:  # nothing to decode: a plain `.`/`..` was resolved already
        return False
    decoded = unquote(unquote(segment))  # twice: `%252e%252e` is `..` to a backend that decodes twice
    return any(piece in (".", "..") for piece in _SEPARATORS.split(decoded))
