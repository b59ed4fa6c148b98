"""The per-request model (engine/context.py): slotted classes with the dataclasses' constructors and defaults."""

from __future__ import annotations

import gc
import weakref

import pytest

from engine.context import Context, Exchange, GraphQL, Headers, Request, Response, Url


def test_defaults_are_per_object() -> None:
    first, second = Context(), Context()
    first.variables["a"] = 1
    first.trace("hello")
    assert second.variables == {} and second.traces == []
    assert first.variables == {"a": 1} and first.traces == [("expression", "verbose", "hello")]
    assert (first.response.status_code, first.response.status_reason, len(first.response.headers)) == (200, "OK", 0)
    assert first.response is not second.response
    request = Request()
    assert request.url == Url() and request.original_url == Url() and request.url is not request.original_url
    assert request.matched_parameters == {} and len(request.headers) == 0


def test_given_values_are_kept_and_unknown_attributes_fail() -> None:
    headers, response = Headers([("A", "1")]), Response(201, "Created")
    ctx = Context(request=Request("POST", headers=headers), response=response, variables={"v": 2})
    assert ctx.request.headers is headers and ctx.response is response and ctx.variables == {"v": 2}
    with pytest.raises(AttributeError, match="no attribute 'respone'"):
        ctx.respone  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError):
        ctx.respone = response  # type: ignore[attr-defined]  # slots: no stray attributes either
    assert not hasattr(ctx.exchange, "anything")
    assert ctx.deployment is Context().deployment  # this process's, made once


def test_url_compares_by_value_and_copies_deeply() -> None:
    url = Url("https", "example.com", 443, "/a", {"q": ["1", "2"]})
    copy = url.copy()
    assert copy == url and copy is not url and copy.query["q"] is not url.query["q"]
    copy.query["q"].append("3")
    assert copy != url and str(url) == "https://example.com/a?q=1&q=2"
    assert repr(Url()) == "Url('http', 'localhost', 80, '/', {})"


def test_context_is_weakly_referenceable_and_freed_without_the_cyclic_collector() -> None:
    ctx = Context()
    ctx.response.headers.add("X", "1")
    ref = weakref.ref(ctx)
    gc.disable()
    try:
        del ctx
        assert ref() is None  # no reference cycle: freed by reference counting alone
    finally:
        gc.enable()


def test_nested_context_shares_the_request_and_has_its_own_response_and_exchange() -> None:
    observer = object()
    ctx = Context(exchange=Exchange(observer=observer))  # type: ignore[arg-type]
    ctx.variables["v"] = 1
    nested = ctx.nested(GraphQL(parent={"id": 1}, arguments={}))
    assert nested.request is ctx.request and nested.variables is ctx.variables
    assert nested.request_id == ctx.request_id and nested.received == ctx.received
    assert nested.response is not ctx.response and nested.exchange is not ctx.exchange
    assert nested.exchange.observer is observer and nested.graphql is not None and ctx.graphql is None


def test_headers_from_the_wire_keep_order_case_and_repeats_without_the_dropped_names() -> None:
    raw = [(b"Content-Type", b"text/plain"), (b"Connection", b"close"), (b"Set-Cookie", b"a=1"),
           (b"X-\xe9", b"caf\xe9"), (b"set-cookie", b"b=2"), (b"Keep-Alive", b"timeout=5")]
    headers = Headers.from_wire(raw, frozenset({"connection", "keep-alive"}))
    assert list(headers.items()) == [("Content-Type", ["text/plain"]), ("Set-Cookie", ["a=1", "b=2"]),
                                     ("X-\xe9", ["caf\xe9"])]
    assert "connection" not in headers and "SET-COOKIE" in headers and headers.get("set-cookie") == "a=1,b=2"
    assert list(Headers.from_wire(raw).names()) == ["Content-Type", "Connection", "Set-Cookie", "X-\xe9", "Keep-Alive"]


def test_encoded_headers_send_latin_1_and_never_a_line_break() -> None:
    from engine.wire import encoded_headers

    headers = Headers([("A", "plain"), ("B", "tab\there"), ("C", "caf\xe9"), ("D", "\u20ac"), ("E", "x\r\ny"),
                       ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Vary", "a"), ("Vary", "b"), ("F", "")])
    assert encoded_headers(headers) == [
        (b"A", b"plain"), (b"B", b"tab\there"), (b"C", b"caf\xe9"), (b"D", "\u20ac".encode()), (b"E", b"x  y"),
        (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"), (b"Vary", b"a,b"), (b"F", b"")]
