from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis

from engine.errors import ConfigError, PolicyLoadError
from engine.loggers import MAX_MESSAGE_BYTES, truncate
from tests.policies.support import codes
from tests.support.redis_server import RedisServer

POLICY = """<policies><inbound><base />
  <log-to-eventhub logger-id="{logger}" partition-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Key&quot;, &quot;none&quot;))">@{{
    return new JObject(new JProperty("method", context.Request.Method),
                       new JProperty("path", context.Request.Url.Path)).ToString(Newtonsoft.Json.Formatting.None);
  }}</log-to-eventhub>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""


def wait_for(check, timeout: float = 5.0):  # noqa: ANN001, ANN201 - a poll helper
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


class TestSchema:
    def test_logger_id_required(self) -> None:
        assert codes("<log-to-eventhub>x</log-to-eventhub>") == ["policy-missing-attribute"]

    def test_partition_id_or_key(self) -> None:
        both = '<log-to-eventhub logger-id="a" partition-id="1" partition-key="k">x</log-to-eventhub>'
        assert codes(both) == ["policy-bad-value"]
        assert codes('<log-to-eventhub logger-id="a" partition-id="1">x</log-to-eventhub>', "on-error") == []


def test_truncates_at_utf8_boundary() -> None:
    text = "é" * MAX_MESSAGE_BYTES  # two bytes each
    cut = truncate(text)
    assert len(cut.encode()) == MAX_MESSAGE_BYTES and cut == "é" * (MAX_MESSAGE_BYTES // 2)
    assert truncate("short") == "short"


def test_redis_stream_end_to_end(api_gateway, backend, redis_server: RedisServer) -> None:
    url = redis_server.url
    loggers = {"audit": {"type": "redis-stream", "redis": url, "stream": "events", "max-length": 50}}
    client = redis.Redis.from_url(url, decode_responses=True)
    client.config_set("stream-node-max-entries", 10)  # approximate trimming removes whole nodes of 10
    with api_gateway(POLICY.format(logger="audit"), loggers=loggers) as gw:
        for i in range(120):
            assert gw.request("GET", f"/echo/items/{i}", headers={"X-Key": "tenant-1"}).status == 200
        assert wait_for(lambda: (last := client.xrevrange("events", count=1)) and "/119" in last[0][1]["message"])
        entries = client.xrange("events")
        assert 50 <= len(entries) < 70  # MAXLEN ~ 50 keeps the stream bounded
        _, last = entries[-1]
        assert json.loads(last["message"]) == {"method": "GET", "path": "/items/119"}
        assert last["logger"] == "audit" and last["partition-key"] == "tenant-1" and last["time"].endswith("Z")
        assert 'policygate_logger_events_total{logger="audit",outcome="sent"} 120' in gw.metrics()


def test_redis_down_never_blocks_requests(api_gateway, backend, tmp_path: Path) -> None:
    # nothing listens on this port: writes fail, requests are answered at once and failures counted
    loggers = {"audit": {"type": "redis-stream", "redis": "redis://127.0.0.1:9/0", "queue-size": 5, "retry-for-ms": 0}}
    with api_gateway(POLICY.format(logger="audit"), loggers=loggers) as gw:
        started = time.monotonic()
        for _ in range(30):
            assert gw.request("GET", "/echo/x").status == 200
        assert time.monotonic() - started < 5
        metrics = wait_for(lambda: next((m for m in [gw.metrics()] if 'outcome="failed"' in m), ""))
        assert 'policygate_logger_events_total{logger="audit",outcome="failed"}' in metrics


def test_batches_wait_for_redis_to_come_back(api_gateway, backend, redis_server: RedisServer) -> None:
    """Events logged while Redis is down are written once it is back (within retry-for-ms), none lost."""
    loggers = {"audit": {"type": "redis-stream", "redis": redis_server.url, "stream": "events", "timeout-ms": 500}}
    redis_server.stop()
    with api_gateway(POLICY.format(logger="audit"), loggers=loggers) as gw:
        for i in range(5):
            assert gw.request("GET", f"/echo/during/{i}").status == 200
        time.sleep(1.0)  # several tries fail meanwhile
        redis_server.start()
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        assert wait_for(lambda: client.xlen("events") >= 5, timeout=15)
        paths = [json.loads(fields["message"])["path"] for _, fields in client.xrange("events")]
        assert paths[:5] == [f"/during/{i}" for i in range(5)]
        metrics = gw.metrics()
    assert 'policygate_logger_events_total{logger="audit",outcome="sent"} 5' in metrics and 'outcome="failed"' not in metrics


def test_a_refused_batch_is_not_tried_again(api_gateway, backend, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.set("events", "not a stream")  # XADD answers WRONGTYPE: trying again cannot help
    loggers = {"audit": {"type": "redis-stream", "redis": redis_server.url, "stream": "events"}}
    with api_gateway(POLICY.format(logger="audit"), loggers=loggers) as gw:
        assert gw.request("GET", "/echo/refused").status == 200
        assert wait_for(lambda: 'policygate_logger_events_total{logger="audit",outcome="failed"} 1' in gw.metrics(),
                        timeout=5)
        client.delete("events")
        assert gw.request("GET", "/echo/accepted").status == 200
        assert wait_for(lambda: client.exists("events") and client.xlen("events") == 1)
    assert json.loads(client.xrange("events")[0][1]["message"])["path"] == "/accepted"


def test_queue_full_drops_and_counts(api_gateway, backend, tmp_path: Path) -> None:
    # a stalled Redis (it accepts the connection, never answers): the queue fills, later events are dropped
    import socket

    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(16)
    port = stalled.getsockname()[1]
    loggers = {"audit": {"type": "redis-stream", "redis": f"redis://127.0.0.1:{port}/0", "queue-size": 3,
                         "timeout-ms": 3000}}
    try:
        with api_gateway(POLICY.format(logger="audit"), loggers=loggers) as gw:
            started = time.monotonic()
            for _ in range(20):
                assert gw.request("GET", "/echo/x").status == 200
            assert time.monotonic() - started < 2.5  # faster than one Redis timeout: nobody waited for it
            metrics = gw.metrics()
        dropped = [line for line in metrics.splitlines() if 'outcome="dropped"' in line]
        assert dropped and float(dropped[0].split()[-1]) >= 10
    finally:
        stalled.close()


def test_file_and_stdout(api_gateway, backend, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    policy = POLICY.format(logger="archive").replace(
        "</inbound>", '<log-to-eventhub logger-id="console" partition-id="3">hello</log-to-eventhub></inbound>')
    loggers = {"archive": {"type": "file", "path": "events.jsonl"}, "console": {"type": "stdout"}}
    with api_gateway(policy, loggers=loggers) as gw:
        for _ in range(3):
            assert gw.request("GET", "/echo/a", headers={"X-Key": "k"}).status == 200
        file = tmp_path / "events.jsonl"
        lines = wait_for(lambda: file.exists() and len(file.read_text().splitlines()) == 3 and file.read_text().splitlines())
    events = [json.loads(line) for line in lines]
    assert {e["partition-key"] for e in events} == {"k"} and json.loads(events[0]["message"])["path"] == "/a"
    out = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith('{"logger": "console"')]
    assert len(out) == 3 and out[0]["message"] == "hello" and out[0]["partition-id"] == "3"


def test_unknown_logger_refused_at_load(api_gateway, backend) -> None:
    with pytest.raises(PolicyLoadError) as caught, api_gateway(POLICY.format(logger="nope"),
                                                               loggers={"audit": {"type": "stdout"}}):
        pass
    problem = caught.value.diagnostics[0]
    assert problem.code == "gateway-settings-missing" and "logger-id 'nope' is not declared under `loggers:`" in problem.message


def test_bad_logger_configuration(api_gateway, backend) -> None:
    with pytest.raises(ConfigError, match=r"loggers.audit.type: expected one of redis-stream, file, stdout"), \
            api_gateway(POLICY.format(logger="audit"), loggers={"audit": {"type": "eventhub"}}):
        pass
    with pytest.raises(ConfigError, match=r":\d+:\d+: loggers.audit.stream: unknown key for type file"), \
            api_gateway(POLICY.format(logger="audit"), loggers={"audit": {"type": "file", "path": "x", "stream": "s"}}):
        pass


def test_reload_swaps_loggers(api_gateway, backend, tmp_path: Path) -> None:
    import yaml

    policy = POLICY.format(logger="archive")
    with api_gateway(policy, loggers={"archive": {"type": "file", "path": "before.jsonl"}}) as gw:
        assert gw.get("/echo/one").status == 200
        config = yaml.safe_load((tmp_path / "gateway.yaml").read_text())
        config["loggers"]["archive"]["path"] = "after.jsonl"
        (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config))
        assert gw.reload()
        assert gw.get("/echo/two").status == 200
        after = tmp_path / "after.jsonl"
        assert wait_for(lambda: after.exists() and after.read_text())
    assert json.loads(json.loads((tmp_path / "before.jsonl").read_text())["message"])["path"] == "/one"
    assert json.loads(json.loads(after.read_text())["message"])["path"] == "/two"
