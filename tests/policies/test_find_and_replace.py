from __future__ import annotations

from policies._body import message_for
from tests.policies.support import build, codes, context, response, run


def test_schema() -> None:
    assert codes('<find-and-replace from="a" />') == ["policy-missing-attribute"]
    assert codes('<find-and-replace from="a" to="" />', "on-error") == []


async def test_request_body_in_inbound() -> None:
    ctx = context(method="POST", body="hello world, hello", headers={"Content-Length": "18"})
    await run(build('<find-and-replace from="hello" to="bye" />'), ctx)
    assert ctx.request.body is not None and ctx.request.body.content == b"bye world, bye"
    assert ctx.request.headers.get("Content-Length") == "14"


async def test_response_body_in_outbound_with_expressions() -> None:
    ctx = context(headers={"X-Secret": "s3cr3t"})
    ctx.response = response(body="token=s3cr3t; other", headers={"Content-Type": "text/plain; charset=utf-8"})
    await run(build('<find-and-replace from="@(context.Request.Headers.GetValueOrDefault(&quot;X-Secret&quot;,&quot;?&quot;))" to="***" />', "outbound"), ctx)
    assert ctx.response.body is not None and ctx.response.body.content == b"token=***; other"


async def test_empty_to_removes_and_charset_is_respected() -> None:
    ctx = context(method="POST", body="caf\xe9 latte".encode("latin-1"), headers={"Content-Type": "text/plain; charset=iso-8859-1"})
    await run(build('<find-and-replace from="é" to="e" /><find-and-replace from=" latte" to="" />'), ctx)
    assert ctx.request.body is not None and ctx.request.body.content == b"cafe"


async def test_bytes_outside_matches_are_kept() -> None:
    body = b"\xff\xfe binary-ish token=abc"
    ctx = context(method="POST", body=body)
    await run(build('<find-and-replace from="abc" to="***" />'), ctx)
    assert ctx.request.body is not None and ctx.request.body.content == b"\xff\xfe binary-ish token=***"


async def test_utf16_bodies_compare_as_text() -> None:
    ctx = context(method="POST", body="hello".encode("utf-16"), headers={"Content-Type": "text/plain; charset=utf-16"})
    await run(build('<find-and-replace from="ell" to="ELL" />'), ctx)
    assert ctx.request.body is not None and ctx.request.body.content.decode("utf-16") == "hELLo"


async def test_compressed_body_is_left_alone() -> None:
    import gzip

    packed = gzip.compress(b"secret")
    ctx = context(method="POST", body=packed, headers={"Content-Encoding": "gzip"})
    await run(build('<find-and-replace from="secret" to="x" />'), ctx)
    assert ctx.request.body is not None and ctx.request.body.content == packed


async def test_no_body_is_left_alone() -> None:
    ctx = context()
    await run(build('<find-and-replace from="a" to="b" />'), ctx)
    assert message_for(ctx, "inbound").body is None


def test_end_to_end(api_gateway, backend) -> None:
    policy = """<policies><inbound><base /><find-and-replace from="cat" to="dog" /></inbound><backend><base /></backend>
      <outbound><base /><find-and-replace from="dog" to="DOG" /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        answer = gw.request("POST", "/echo/x", body="a cat and a cat")
    # inbound turned cats into dogs before the backend echoed the body; outbound upper-cased them
    assert answer.json()["body"] == "a DOG and a DOG"
    assert int(answer.headers.get("content-length")) == len(answer.body)
