"""forward-request's backend target built from its parts equals yarl's reading of the same URL.

`target_url` puts ordinary targets (host name or IPv4, percent-encoded path and query) together
without parsing; everything else goes through yarl as before (`parsed_target`). The two must agree
on every part the request head and the connection pool use, and on the URL (tracing, errors).
"""

from __future__ import annotations

import yarl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.context import Context, Request, Url
from engine.gateway.backend import parsed_target, target_url

HOSTS = st.one_of(
    st.sampled_from(["127.0.0.1", "localhost", "api.example.com", "EXAMPLE.com", "ex-1.example", "example.com.",
                     "[::1]", "bücher.example", "a_b.example", "-x.example", "", "10.0.0.300", "x..y"]),
    st.text("abcXYZ019.-_", min_size=1, max_size=12),
)
PORTS = st.one_of(st.sampled_from([80, 443, 8080, 0, 1, 65535, 65536]), st.integers(1, 70000))
PATH_CHARS = "aZ09-._~:/?#[]@!$&'()*+,;=% éx\u2603\t"
PATHS = st.one_of(
    st.sampled_from(["/", "/items/42", "/a/../b", "/a//b/./c", "/x%2Fy", "/x%zz", "/x?", "/x?y", "/x#f", "", "x"]),
    st.text(PATH_CHARS, max_size=16).map(lambda text: "/" + text),
)
QUERIES = st.dictionaries(st.text("ab =&é%", max_size=3), st.lists(st.text("xy =&?#é", max_size=3), min_size=1,
                                                                          max_size=2), max_size=2)
RAW_QUERIES = st.one_of(st.none(), st.sampled_from(["", "a=1", "a=1&b", "q=%20x", "x=a b", "y=é", "z=#f", "a=1?"]),
                        st.text("ab=&%?#é+ ", max_size=8))


def _context(scheme: str, host: str, port: int, path: str, query: dict[str, list[str]], raw_query: str | None,
             query_changed: bool) -> Context:
    original = Url(scheme, "gateway.example", 443, "/in", {k: list(v) for k, v in query.items()})
    url = Url(scheme, host, port, path, {**query, "changed": ["1"]} if query_changed else query)
    ctx = Context(request=Request(url=url, original_url=original))
    ctx.exchange.raw_query = raw_query
    return ctx


def _text_as_before(ctx: Context) -> str:
    """The URL text forward-request built before targets were made from their parts."""
    url, raw = ctx.request.url, ctx.exchange.raw_query
    netloc = url.host if url.default_port else f"{url.host}:{url.port}"
    if raw is None or url.query != ctx.request.original_url.query:
        return str(url)
    return f"{url.scheme}://{netloc}{url.path}?{raw}" if raw else f"{url.scheme}://{netloc}{url.path}"


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["http", "https"]), HOSTS, PORTS, PATHS, QUERIES, RAW_QUERIES, st.booleans())
@example("http", "127.0.0.1", 8080, "/items/42", {}, "", False)
@example("http", "example.com.", 80, "/x", {}, None, False)
@example("http", "example.com", 80, "/x?", {}, "", False)
@example("https", "example.com", 443, "/x#y", {}, "a=1", False)
def test_a_target_built_from_its_parts_is_what_yarl_reads(scheme, host, port, path, query, raw_query, changed) -> None:
    ctx = _context(scheme, host, port, path, query, raw_query, changed)
    text = _text_as_before(ctx)
    try:
        expected = parsed_target(text)
    except ValueError:  # yarl refuses it (a port out of range...): so does target_url
        try:
            target_url(ctx)
        except ValueError:
            return
        raise AssertionError(f"{text!r}: yarl refuses it, target_url does not") from None
    (origin, path_qs), (parsed, parsed_path_qs) = target_url(ctx), expected
    assert (origin.parts(), path_qs) == (parsed.parts(), parsed_path_qs), text
    assert origin.text(path_qs) == parsed.text(parsed_path_qs) == str(yarl.URL(text, encoded=_encoded(text))), text
    url, parsed_url = origin.url(path_qs), parsed.url(parsed_path_qs)
    assert (url.host, url.port, url.raw_user) == (parsed_url.host, parsed_url.port, parsed_url.raw_user)  # errors


def _encoded(text: str) -> bool:
    from engine.gateway.backend import _ENCODED

    return _ENCODED.fullmatch(text) is not None


def test_an_ordinary_target_is_not_parsed() -> None:
    ctx = _context("http", "127.0.0.1", 8080, "/items/42", {"a": ["1"]}, "a=1", False)
    origin, path_qs = target_url(ctx)
    assert (origin.parts(), path_qs) == (("http", "127.0.0.1", 8080, "127.0.0.1:8080", False), "/items/42?a=1")
    assert origin._url is None  # no yarl URL was made
    assert target_url(ctx)[0] is origin  # one origin per scheme, host and port
    assert origin.url(path_qs) == yarl.URL("http://127.0.0.1:8080/items/42?a=1")
