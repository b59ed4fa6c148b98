"""Bad input never escapes as a raw Python exception: only DotNetException subclasses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.dotnet.datetimes import DateTime, DateTimeOffset
from engine.dotnet.errors import DotNetException
from engine.dotnet.formatting import composite_format, format_number
from engine.dotnet.guid import Guid
from engine.dotnet.jwt import as_basic, as_jwt
from engine.dotnet.newtonsoft import JObject, JToken
from engine.dotnet.numbers import Boolean, Decimal, Double, Int32, Int64
from engine.dotnet.regex import Regex
from engine.dotnet.strings import StringMembers
from engine.dotnet.systemconvert import Convert, Encoding
from engine.dotnet.timespan import TimeSpan
from engine.dotnet.uri import Uri, UriKind, WebUtility
from engine.dotnet.xlinq import XElement

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
JSONISH = st.text(alphabet="{}[]\":,'0123456789.eE-+truefalsn \\/abc", max_size=40)
FORMATS = st.text(alphabet="0#.,;%‰E+-eNnDdXxFfGgCcPpRr'\"\\ 123", max_size=8)


def _safe(call: Callable[[], Any]) -> None:
    try:
        call()
    except DotNetException:
        pass


@FAST
@given(TEXT)
def test_parsers_raise_only_dotnet_exceptions(text: str) -> None:
    for parse in (
        Int32.Parse,
        Int64.Parse,
        Double.Parse,
        Decimal.Parse,
        Boolean.Parse,
        DateTime.Parse,
        DateTimeOffset.Parse,
        TimeSpan.Parse,
        Guid.Parse,
        Convert.FromBase64String,
        Convert.FromHexString,
        JToken.Parse,
        JObject.Parse,
        XElement.Parse,
        Uri,
        Regex,
    ):
        _safe(lambda p=parse: p(text))
    _safe(lambda: Uri(text, UriKind.RelativeOrAbsolute))
    _safe(lambda: DateTime.ParseExact(text, "yyyy-MM-dd", None))
    assert as_jwt(text) is None or as_jwt(text) is not None
    assert as_basic(text) is None or as_basic(text).UserId is not None
    assert WebUtility.UrlDecode(WebUtility.UrlEncode(text)) == text
    assert Uri.UnescapeDataString(Uri.EscapeDataString(text)) == text
    assert Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)) == text


@FAST
@given(JSONISH)
def test_json_reader_raises_only_json_reader_exceptions(text: str) -> None:
    _safe(lambda: JToken.Parse(text).ToString())


@FAST
@given(
    st.one_of(
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True),
        st.decimals(allow_nan=False, allow_infinity=False, places=6),
    ),
    FORMATS,
)
def test_number_formats_raise_only_format_exceptions(value: Any, fmt: str) -> None:
    _safe(lambda: format_number(value, fmt))
    _safe(lambda: composite_format("{0:" + fmt + "}", [value]))


@FAST
@given(TEXT, st.integers(-3, 50), st.integers(-3, 50))
def test_string_members_raise_only_dotnet_exceptions(text: str, a: int, b: int) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: StringMembers.Substring(text, a),
        lambda: StringMembers.Substring(text, a, b),
        lambda: StringMembers.Remove(text, a),
        lambda: StringMembers.Remove(text, a, b),
        lambda: StringMembers.PadLeft(text, a),
        lambda: StringMembers.PadRight(text, b, "*"),
        lambda: StringMembers.IndexOf(text, "a", a),
        lambda: StringMembers.IndexOf(text, "a", a, b),
        lambda: StringMembers.LastIndexOf(text, "a", a),
        lambda: StringMembers.Split(text, ",", a),
        lambda: StringMembers.Insert(text, a, "x"),
        lambda: StringMembers.Item(text, a),
        lambda: StringMembers.ToCharArray(text, a, b),
        lambda: DateTime(2024, 1, 1).ToString(text),
        lambda: TimeSpan.FromSeconds(a).ToString(text),
    ]
    for call in calls:
        _safe(call)
