"""The five policies end to end: a real Hypercorn gateway in front of a real backend."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import Backend, HttpAnswer, run_gateway, simple_config
from tests.support.redis_server import RedisServer

FORWARD = "<policies><inbound/><backend><forward-request/></backend><outbound/><on-error/></policies>"


def api_policy(inbound: str, on_error: str = "") -> str:
    return (
        f"<policies><inbound><base/>{inbound}</inbound><backend><base/></backend>"
        f"<outbound><base/></outbound><on-error><base/>{on_error}</on-error></policies>"
    )


def config(**extra: Any) -> dict[str, Any]:
    return simple_config(api_policy="api.xml", global_policy="global.xml", **extra)


def files(inbound: str, on_error: str = "") -> dict[str, str]:
    return {"global.xml": FORWARD, "api.xml": api_policy(inbound, on_error)}


def assert_rate_limited(answer: HttpAnswer, retry_after: int) -> None:
    assert answer.status == 429
    assert answer.headers.get("Retry-After") == str(retry_after)
    assert answer.headers.get("Content-Type", "").startswith("application/json")
    assert answer.json() == {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {retry_after} seconds."}


class TestRateLimitByKey:
    def test_limit_headers_429_and_on_error(self, tmp_path: Path) -> None:
        policy = (
            '<rate-limit-by-key calls="2" renewal-period="60" counter-key="everyone" '
            'remaining-calls-header-name="X-Remaining" total-calls-header-name="X-Total" />'
        )
        on_error = '<set-header name="X-On-Error" exists-action="override"><value>ran</value></set-header>'
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy, on_error), backend=backend) as gateway:
            first, second, third = (gateway.get("/echo/a") for _ in range(3))
            assert (first.status, first.headers.get("X-Remaining"), first.headers.get("X-Total")) == (200, "1", "2")
            assert (second.status, second.headers.get("X-Remaining")) == (200, "0")
            assert_rate_limited(third, 60)
            assert third.headers.get("X-On-Error") == "ran"  # on-error saw the RateLimitExceeded error
            assert third.headers.get("X-Total") == "2" and third.headers.get("X-Remaining") == "0"
            assert backend.calls == 2
            assert 'policygate_throttled_requests_total{policy="rate-limit-by-key"} 1' in gateway.metrics()

    def test_custom_retry_after_header_and_standard_headers(self, tmp_path: Path) -> None:
        policy = '<rate-limit-by-key calls="1" renewal-period="30" counter-key="k" retry-after-header-name="X-Retry-In" />'
        settings = config(**{"rate-limits": {"standard-headers": True}})
        with Backend() as backend, run_gateway(tmp_path, settings, files(policy), backend=backend) as gateway:
            ok = gateway.get("/echo/a")
            assert ok.status == 200
            assert (ok.headers.get("RateLimit-Limit"), ok.headers.get("RateLimit-Remaining")) == ("1", "0")
            assert ok.headers.get("RateLimit-Reset") == "30"
            refused = gateway.get("/echo/a")
            assert refused.status == 429
            assert refused.headers.get("X-Retry-In") == "30" and "Retry-After" not in refused.headers
            assert refused.json()["message"] == "Rate limit is exceeded. Try again in 30 seconds."
            assert refused.headers.get("RateLimit-Remaining") == "0"

    def test_a_key_shared_by_two_scopes_counts_once_per_request(self, tmp_path: Path) -> None:
        shared = '<rate-limit-by-key calls="3" renewal-period="60" counter-key="shared" remaining-calls-header-name="X-Left" />'
        policies = {
            "global.xml": f"<policies><inbound>{shared}</inbound><backend><forward-request/></backend><outbound/><on-error/></policies>",
            "api.xml": api_policy(shared),
        }
        with Backend() as backend, run_gateway(tmp_path, config(), policies, backend=backend) as gateway:
            statuses = [gateway.get("/echo/a").status for _ in range(4)]
            assert statuses == [200, 200, 200, 429]

    def test_constant_false_increment_condition_never_counts(self, tmp_path: Path) -> None:
        policy = '<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-condition="false" />'
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            assert [gateway.get("/echo/a").status for _ in range(3)] == [200, 200, 200]

    def test_fail_closed_answers_503_while_redis_is_down(self, tmp_path: Path, redis_server: RedisServer) -> None:
        policy = '<rate-limit-by-key calls="5" renewal-period="60" counter-key="k" />'
        settings = config(**{"rate-limits": {"external": redis_server.url, "failure-mode": "closed", "timeout-ms": 200}})
        with Backend() as backend, run_gateway(tmp_path, settings, files(policy), backend=backend) as gateway:
            assert gateway.get("/echo/a").status == 200
            redis_server.stop()
            down = gateway.get("/echo/a")
            assert down.status == 503
            assert down.json() == {"statusCode": 503, "message": "Rate limit store is unavailable"}
            redis_server.restart()

    def test_fail_open_keeps_serving_while_redis_is_down(self, tmp_path: Path, redis_server: RedisServer) -> None:
        policy = '<rate-limit-by-key calls="3" renewal-period="60" counter-key="k" />'
        settings = config(**{"rate-limits": {"external": redis_server.url, "timeout-ms": 200}})
        with Backend() as backend, run_gateway(tmp_path, settings, files(policy), backend=backend) as gateway:
            assert gateway.get("/echo/a").status == 200
            redis_server.stop()
            # The in-process limiter takes over: it serves, and it still limits.
            assert [gateway.get("/echo/a").status for _ in range(4)] == [200, 200, 200, 429]
            assert "policygate_ratelimit_store_errors_total" in gateway.metrics()


SUBSCRIBED = """
products:
  starter: {policy: product.xml}
subscriptions:
  - {id: sub1, key: key-1, product: starter}
  - {id: sub2, key: key-2, product: starter}
policy: global.xml
apis:
  echo:
    path: echo
    service-url: "{{backend-url}}"
    products: [starter]
    operations:
      read: {method: GET, url-template: "/read"}
      write: {method: POST, url-template: "/write"}
"""


def product_files(inbound: str) -> dict[str, str]:
    return {"global.xml": FORWARD, "product.xml": api_policy(inbound)}


def call(gateway: Any, method: str, path: str, key: str) -> HttpAnswer:
    return gateway.request(method, path, headers={"Ocp-Apim-Subscription-Key": key})


class TestRateLimitPerSubscription:
    def test_subscription_api_and_operation_limits(self, tmp_path: Path) -> None:
        policy = (
            '<rate-limit calls="4" renewal-period="60" remaining-calls-header-name="X-Left">'
            '<api name="echo" calls="3" renewal-period="60"><operation name="write" calls="1" renewal-period="60"/></api>'
            "</rate-limit>"
        )
        with Backend() as backend, run_gateway(tmp_path, SUBSCRIBED, product_files(policy), backend=backend) as gateway:
            assert call(gateway, "POST", "/echo/write", "key-1").status == 200
            assert call(gateway, "POST", "/echo/write", "key-1").status == 429  # operation limit 1
            assert call(gateway, "GET", "/echo/read", "key-1").headers.get("X-Left") == "1"  # api: 3 - 2
            assert call(gateway, "GET", "/echo/read", "key-1").status == 200
            assert_rate_limited(call(gateway, "GET", "/echo/read", "key-1"), 60)  # api limit 3 reached
            assert call(gateway, "GET", "/echo/read", "key-2").status == 200  # other subscription: own counters


class TestQuota:
    def test_quota_403_message_and_retry_after(self, tmp_path: Path) -> None:
        policy = '<quota calls="2" renewal-period="3600" />'
        with Backend() as backend, run_gateway(tmp_path, SUBSCRIBED, product_files(policy), backend=backend) as gateway:
            assert [call(gateway, "GET", "/echo/read", "key-1").status for _ in range(2)] == [200, 200]
            refused = call(gateway, "GET", "/echo/read", "key-1")
            assert refused.status == 403
            retry = int(refused.headers.get("Retry-After") or 0)
            assert 0 < retry <= 3600
            message = refused.json()["message"]
            assert message.startswith("Out of call volume quota. Quota will be replenished in ")
            hours, minutes, seconds = (int(part) for part in message.rsplit(" ", 1)[1].rstrip(".").split(":"))
            assert abs(hours * 3600 + minutes * 60 + seconds - retry) <= 1
            assert call(gateway, "GET", "/echo/read", "key-2").status == 200

    def test_bandwidth_quota_by_key_counts_bodies_at_the_end(self, tmp_path: Path) -> None:
        policy = '<quota-by-key bandwidth="2" renewal-period="3600" counter-key="bw" />'
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            assert gateway.request("POST", "/echo/a", body="x" * 3000).status == 200  # 3 KB counted afterwards
            refused = gateway.get("/echo/a")
            assert refused.status == 403
            assert refused.json()["message"].startswith("Out of bandwidth quota. Quota will be replenished in ")

    def test_quota_by_key_calls(self, tmp_path: Path) -> None:
        policy = '<quota-by-key calls="1" renewal-period="300" counter-key="tenant-a" first-period-start="2024-01-01T00:00:00Z" />'
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            assert gateway.get("/echo/a").status == 200
            refused = gateway.get("/echo/a")
            assert refused.status == 403 and 0 < int(refused.headers.get("Retry-After") or 0) <= 300


class TestLimitConcurrency:
    def test_requests_beyond_max_count_get_429(self, tmp_path: Path) -> None:
        policies = {
            "global.xml": (
                "<policies><inbound/><backend>"
                '<limit-concurrency key="backend" max-count="1"><forward-request/></limit-concurrency>'
                "</backend><outbound/><on-error/></policies>"
            ),
            "api.xml": api_policy(""),
        }
        with Backend() as backend, run_gateway(tmp_path, config(), policies, backend=backend) as gateway:
            results: list[int] = []
            slow = threading.Thread(target=lambda: results.append(gateway.get("/echo/a", headers={"X-Test-Delay": "1.0"}).status))
            slow.start()
            for _ in range(100):  # wait until the slow request holds the slot
                if backend.calls:
                    break
                threading.Event().wait(0.02)
            refused = gateway.get("/echo/b")
            slow.join()
            assert results == [200]
            assert refused.status == 429 and refused.json()["statusCode"] == 429
            assert gateway.get("/echo/c").status == 200  # released after the slow request


def test_policies_reject_bad_attributes_at_load(tmp_path: Path) -> None:
    from engine.errors import PolicyLoadError

    policy = '<rate-limit-by-key calls="5" renewal-period="301" counter-key="k" />'
    with pytest.raises(PolicyLoadError) as error, Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend):
        pass
    assert "renewal-period" in str(error.value) and "300" in str(error.value)


def test_body_is_json(tmp_path: Path) -> None:
    policy = '<rate-limit-by-key calls="0" renewal-period="10" counter-key="k" />'
    with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
        answer = gateway.get("/echo/a")
        assert json.loads(answer.body)["statusCode"] == 429 and answer.headers.get("Retry-After") == "10"


class TestExpressions:
    def test_counter_key_expression_gives_each_client_its_own_counter(self, tmp_path: Path) -> None:
        policy = '<rate-limit-by-key calls="1" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Client&quot;, &quot;anonymous&quot;))" />'
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            assert gateway.get("/echo/a", headers={"X-Client": "alice"}).status == 200
            assert gateway.get("/echo/a", headers={"X-Client": "bob"}).status == 200
            assert gateway.get("/echo/a", headers={"X-Client": "alice"}).status == 429

    def test_on_error_sees_last_error_and_the_retry_after_variable(self, tmp_path: Path) -> None:
        policy = '<rate-limit-by-key calls="1" renewal-period="45" counter-key="k" retry-after-variable-name="retry" />'
        on_error = (
            '<set-header name="X-Error" exists-action="override">'
            '<value>@(context.LastError.Source + "/" + context.LastError.Reason + "/" + context.LastError.Message)</value></set-header>'
            '<set-header name="X-Retry-Variable" exists-action="override"><value>@(context.Variables["retry"].ToString())</value></set-header>'
        )
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy, on_error), backend=backend) as gateway:
            assert gateway.get("/echo/a").status == 200
            refused = gateway.get("/echo/a")
            assert refused.status == 429
            assert refused.headers.get("X-Error") == "rate-limit-by-key/RateLimitExceeded/Rate limit is exceeded"
            assert refused.headers.get("X-Retry-Variable") == "45"

    def test_expression_increment_condition_counts_at_the_end_of_outbound(self, tmp_path: Path) -> None:
        policy = (
            '<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" remaining-calls-header-name="X-Remaining" '
            'increment-condition="@(context.Response.StatusCode == 200)" />'
        )
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            failing = [gateway.get("/echo/a", headers={"X-Test-Status": "500"}) for _ in range(3)]
            # backend errors do not count
            assert [(a.status, a.headers.get("X-Remaining")) for a in failing] == [(500, "2")] * 3
            answers = [gateway.get("/echo/a") for _ in range(3)]
            # the header counts the request it is sent with, as when counting is not deferred
            assert [(a.status, a.headers.get("X-Remaining")) for a in answers] == [(200, "1"), (200, "0"), (429, "0")]

    def test_expression_increment_count_is_read_from_the_response(self, tmp_path: Path) -> None:
        policy = (
            '<rate-limit-by-key calls="10" renewal-period="60" counter-key="tokens" '
            'increment-count="@(int.Parse(context.Response.Headers.GetValueOrDefault(&quot;X-Units&quot;, &quot;1&quot;)))" />'
        )
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            units = {"X-Test-Response-Header": "X-Units: 8"}
            assert gateway.get("/echo/a", headers=units).status == 200  # 8 counted afterwards
            assert gateway.get("/echo/a", headers=units).status == 200  # 8 < 10 at inbound: one call later
            refused = gateway.get("/echo/a")
            assert refused.status == 429
            assert refused.headers.get("Retry-After") == "60"

    def test_quota_by_key_expression_condition_is_deferred_too(self, tmp_path: Path) -> None:
        policy = (
            '<quota-by-key calls="1" renewal-period="3600" counter-key="q" '
            'increment-condition="@(context.Response.StatusCode &lt; 400)" />'
        )
        with Backend() as backend, run_gateway(tmp_path, config(), files(policy), backend=backend) as gateway:
            assert gateway.get("/echo/a", headers={"X-Test-Status": "404"}).status == 404
            assert gateway.get("/echo/a").status == 200
            assert gateway.get("/echo/a").status == 403
