"""xsl-transform through the real gateway (a real echo backend), its load-time checks and the limits
of its transform processes."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from engine.isolation import WorkerFailed, close_worker_pools, worker_pool
from policies.xsl_transform import WORKER_SCRIPT
from tests.policies.support import codes

SHEET = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:param name="greeting" />
      <xsl:output method="xml" indent="no" />
      <xsl:template match="/order">
        <summary id="{@id}"><xsl:value-of select="$greeting" />: <xsl:value-of select="count(item)" /> items</summary>
      </xsl:template>
    </xsl:stylesheet>"""


def transform(sheet: str = SHEET, parameters: str = "") -> str:
    return f"<xsl-transform>{parameters}{sheet}</xsl-transform>"


def document(inbound: str = "", outbound: str = "") -> str:
    return (f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend>"
            f"<outbound><base />{outbound}</outbound><on-error><base /></on-error></policies>")


class TestSchema:
    def test_valid(self) -> None:
        assert codes(transform(parameters='<parameter name="greeting">hi</parameter>')) == []
        assert codes(transform(parameters='<parameter parameter-name="greeting">hi</parameter>'), "outbound") == []

    def test_refused_at_load(self) -> None:
        assert codes("<xsl-transform><parameter>x</parameter></xsl-transform>") == \
            ["policy-bad-value", "policy-missing-attribute"]  # no name, no stylesheet
        broken = SHEET.replace("<xsl:value-of select=\"count(item)\" />", "<xsl:value-of select=\"count(((\" />")
        assert codes(transform(broken)) == ["policy-bad-value"]
        include = SHEET.replace("<xsl:param", '<xsl:include href="/etc/hostname" /><xsl:param')
        assert codes(transform(include)) == ["policy-bad-value"]  # no file access, even at load time


def test_transforms_response_with_parameters(api_gateway, backend) -> None:
    backend.respond(200, '<order id="7"><item/><item/></order>', {"Content-Type": "application/xml"})
    parameters = '<parameter name="greeting">@(context.Request.Headers.GetValueOrDefault("X-Hello", "hello"))</parameter>'
    with api_gateway(document(outbound=transform(parameters=parameters))) as gw:
        answer = gw.get("/echo/x", headers={"X-Hello": "bonjour"})
    assert answer.status == 200
    assert answer.body.rstrip().endswith(b'<summary id="7">bonjour: 2 items</summary>')
    assert answer.headers.get("Content-Type") == "application/xml"


def test_request_body_and_errors(api_gateway, backend) -> None:
    with api_gateway(document(inbound=transform(parameters='<parameter name="greeting">in</parameter>'))) as gw:
        sent = gw.request("POST", "/echo/x", body=b'<order id="1"><item/></order>',
                          headers={"Content-Type": "text/xml"}).json()
        assert sent["body"].rstrip().endswith('<summary id="1">in: 1 items</summary>')
        bad = gw.request("POST", "/echo/x", body=b"<order>", headers={"Content-Type": "text/xml"})
        assert bad.status == 400 and "not well-formed XML" in bad.json()["message"]
        entity = b'<!DOCTYPE o [<!ENTITY e SYSTEM "file:///etc/hostname">]><order id="&e;"/>'
        refused = gw.request("POST", "/echo/x", body=entity, headers={"Content-Type": "text/xml"})
        assert refused.status == 400  # external entities are never read


def test_document_function_cannot_read_files(api_gateway, backend) -> None:
    sheet = SHEET.replace('<xsl:value-of select="$greeting" />', "<xsl:value-of select=\"document('/etc/hostname')\" />")
    backend.respond(200, '<order id="7"/>', {"Content-Type": "application/xml"})
    with api_gateway(document(outbound=transform(sheet))) as gw:
        answer = gw.get("/echo/x")
    assert answer.status == 500 and b"summary" not in answer.body


RUNAWAY = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:template name="loop"><xsl:param name="n" /><xsl:if test="$n &gt; 0">
        <xsl:call-template name="loop"><xsl:with-param name="n" select="$n - 1" /></xsl:call-template>
        <xsl:call-template name="loop"><xsl:with-param name="n" select="$n - 1" /></xsl:call-template>
      </xsl:if></xsl:template>
      <xsl:template match="/"><r><xsl:call-template name="loop"><xsl:with-param name="n" select="60" /></xsl:call-template></r></xsl:template>
    </xsl:stylesheet>"""

GROWING = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:template name="grow"><xsl:param name="s" /><xsl:param name="n" /><xsl:choose>
        <xsl:when test="$n &gt; 0"><xsl:call-template name="grow">
          <xsl:with-param name="s" select="concat($s, $s)" /><xsl:with-param name="n" select="$n - 1" />
        </xsl:call-template></xsl:when>
        <xsl:otherwise><r><xsl:value-of select="$s" /></r></xsl:otherwise>
      </xsl:choose></xsl:template>
      <xsl:template match="/"><xsl:call-template name="grow">
        <xsl:with-param name="s" select="'0123456789abcdef'" /><xsl:with-param name="n" select="/n" />
      </xsl:call-template></xsl:template>
    </xsl:stylesheet>"""


def test_transform_processes_bound_time_memory_and_output() -> None:
    """A runaway transform is killed at its deadline (no thread keeps running it), one that outgrows
    its address space or its output cap fails alone, and the pool answers the next call normally."""

    async def scenario() -> None:
        pool = worker_pool(WORKER_SCRIPT, (str(256 << 20), str(1 << 20)), size=1, max_reply=1 << 20)
        good = {"sheet": SHEET, "parameters": {"greeting": "hi"}}
        reply, result = await pool.call(good, b'<order id="3"><item/></order>', 30)
        assert reply == {} and result.rstrip().endswith(b'<summary id="3">hi: 1 items</summary>')
        worker = pool._idle[0].process
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.call({"sheet": RUNAWAY, "parameters": {}}, b"<x/>", 1.0)
        assert time.monotonic() - started < 5
        assert await asyncio.wait_for(worker.wait(), 5) == -signal.SIGKILL  # killed, not left running
        reply, _ = await pool.call({"sheet": GROWING, "parameters": {}}, b"<n>16</n>", 30)  # 1 MiB: over the cap
        assert reply["error"] == "output"
        reply, _ = await pool.call({"sheet": GROWING, "parameters": {}}, b"<n>30</n>", 30)  # 16 GiB
        assert reply["error"] == "apply"  # libxslt's allocation failed at the address-space limit
        crashed = pool._idle[0].process
        crashed.kill()
        await crashed.wait()
        reply, result = await pool.call(good, b'<order id="4"/>', 30)  # a fresh process answers
        assert reply == {} and b'<summary id="4">hi: 0 items</summary>' in result
        busy = pool._idle[0].process
        assert busy.pid != crashed.pid
        runaway = asyncio.ensure_future(pool.call({"sheet": RUNAWAY, "parameters": {}}, b"<x/>", 30))
        await asyncio.sleep(0.3)
        busy.kill()
        with pytest.raises(WorkerFailed):  # the process died under the call: the call fails, nothing hangs
            await asyncio.wait_for(runaway, 5)
        reply, _ = await pool.call(good, b'<order id="5"/>', 30)
        assert reply == {}
        await close_worker_pools()
        assert pool.closed and not pool._idle

    asyncio.run(scenario())
