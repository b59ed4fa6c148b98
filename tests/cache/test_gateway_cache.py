"""cache-lookup / cache-store end to end: real Hypercorn gateway, real backend, real Redis."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main as cli_main
from tests.support.gateway import Backend, http_request, run_gateway, simple_config
from tests.support.redis_server import RedisServer

SUBSCRIPTIONS = [
    {"id": "s-alice", "key": "key-alice", "api": "echo", "user": {"id": "alice", "groups": ["partners"]}},
    {"id": "s-bob", "key": "key-bob", "api": "echo", "user": {"id": "bob", "groups": ["partners"]}},
    {"id": "s-carol", "key": "key-carol", "api": "echo", "user": {"id": "carol", "groups": ["staff"]}},
]


def policy(lookup: str = "", children: str = "", store: str = 'duration="60"', before_store: str = "") -> str:
    return f"""<policies>
  <inbound><base/><cache-lookup {lookup}>{children}</cache-lookup></inbound>
  <backend><base/></backend>
  <outbound><base/>{before_store}<cache-store {store}/>
    <set-header name="X-After-Store" exists-action="override"><value>ran</value></set-header>
  </outbound>
  <on-error><base/></on-error>
</policies>"""


def gateway(tmp_path: Path, backend: Backend, xml: str, **config: Any) -> Any:
    return run_gateway(tmp_path, simple_config(api_policy="api.xml", **config), {"api.xml": xml}, backend=backend)


class TestHitAndMiss:
    def test_second_get_is_served_from_the_cache(self, tmp_path: Path) -> None:
        before = '<set-header name="X-Before-Store" exists-action="append"><value>ran</value></set-header>'
        with Backend() as backend, gateway(tmp_path, backend, policy(before_store=before)) as gw:
            first = gw.get("/echo/items/1?x=1")
            second = gw.get("/echo/items/1?x=1")
            assert (first.status, second.status) == (200, 200)
            assert backend.calls == 1
            assert second.body == first.body
            # The stored entry includes what ran before cache-store; on a hit outbound resumes after
            # cache-store, so the appending policy before it does not run a second time.
            assert first.headers.get_all("X-Before-Store") == second.headers.get_all("X-Before-Store") == ["ran"]
            assert second.headers.get("X-After-Store") == "ran"
            assert second.headers.get("Age") is not None
            assert 'policygate_cache_requests_total{store="internal",result="hit"} 1' in gw.metrics()

    def test_other_paths_and_methods_are_not_shared(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            gw.get("/echo/a")
            gw.get("/echo/b")
            assert backend.calls == 2
            gw.request("POST", "/echo/a", body="x")
            gw.request("POST", "/echo/a", body="x")
            assert backend.calls == 4
            gw.get("/echo/a")
            assert backend.calls == 4

    def test_only_200_unless_cache_response(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            for _ in range(2):
                assert gw.get("/echo/x", headers={"X-Test-Status": "404"}).status == 404
            assert backend.calls == 2
        with Backend() as backend, gateway(tmp_path, backend, policy(store='duration="60" cache-response="true"')) as gw:
            for _ in range(2):
                assert gw.get("/echo/x", headers={"X-Test-Status": "404"}).status == 404
            assert backend.calls == 1

    def test_responses_setting_cookies_are_not_shared(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            for _ in range(2):
                answer = gw.get("/echo/x", headers={"X-Test-Response-Header": "Set-Cookie: session=abc"})
                assert answer.headers.get("Set-Cookie") == "session=abc"
            assert backend.calls == 2

    def test_miss_strips_request_cache_headers(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            gw.get("/echo/x", headers={"Cache-Control": "no-cache", "Pragma": "no-cache", "If-None-Match": '"v1"',
                                       "X-Kept": "1"})
            seen = backend.requests[0]
            assert seen.header("Cache-Control") is None and seen.header("Pragma") is None
            assert seen.header("If-None-Match") is None and seen.header("X-Kept") == "1"

    def test_store_without_lookup_and_external_without_redis_do_not_cache(self, tmp_path: Path) -> None:
        only_store = policy().replace("<cache-lookup ></cache-lookup>", "")
        assert "cache-lookup" not in only_store
        with Backend() as backend, gateway(tmp_path, backend, only_store) as gw:
            gw.get("/echo/x")
            gw.get("/echo/x")
            assert backend.calls == 2
        with Backend() as backend, gateway(tmp_path, backend, policy(lookup='caching-type="external"')) as gw:
            assert [gw.get("/echo/x").status for _ in range(2)] == [200, 200]
            assert backend.calls == 2

    def test_expired_entries_miss(self, tmp_path: Path) -> None:
        import time

        with Backend() as backend, gateway(tmp_path, backend, policy(store='duration="1"')) as gw:
            gw.get("/echo/x")
            gw.get("/echo/x")
            assert backend.calls == 1
            time.sleep(1.2)
            gw.get("/echo/x")
            assert backend.calls == 2


class TestBackendInKey:
    """The key includes the backend URL the request goes to when cache-lookup runs (issue 11)."""

    ROUTED = """<policies>
  <inbound><base/>
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;X-Region&quot;, &quot;&quot;) == &quot;b&quot;)">
        %s
      </when>
    </choose>
    <cache-lookup />
  </inbound>
  <backend><base/></backend>
  <outbound><base/><cache-store duration="60"/></outbound>
  <on-error><base/></on-error>
</policies>"""

    @pytest.mark.parametrize("retarget", [
        '<set-backend-service base-url="{{other-url}}" />',
        '<set-backend-service base-url="{{other-url}}/v2" />',
        '<set-backend-service backend-id="other" />',
    ])
    def test_callers_routed_to_different_backends_get_their_own_entries(self, tmp_path: Path, retarget: str) -> None:
        with Backend() as first, Backend() as second:
            config = simple_config(api_policy="api.xml", backends={"other": "{{other-url}}"},
                                   **{"named-values": {"other-url": second.url}})
            with run_gateway(tmp_path, config, {"api.xml": self.ROUTED % retarget}, backend=first) as gw:
                a = gw.get("/echo/items/1")
                b = gw.get("/echo/items/1", headers={"X-Region": "b"})
                assert (a.status, b.status) == (200, 200)
                assert (first.calls, second.calls) == (1, 1)  # the second caller was not served the first's entry
                assert gw.get("/echo/items/1").headers.get("Age") is not None
                assert gw.get("/echo/items/1", headers={"X-Region": "b"}).headers.get("Age") is not None
                assert (first.calls, second.calls) == (1, 1)
                assert b.json()["path"] == ("/v2/items/1" if "/v2" in retarget else "/items/1")


class TestDownstreamCacheControl:
    @pytest.mark.parametrize(
        ("lookup", "expected_miss", "expected_hit_start"),
        [
            ("", "no-store", "no-store"),
            ('downstream-caching-type="private"', "private, max-age=60, must-revalidate", "private, max-age="),
            ('downstream-caching-type="public" must-revalidate="false"', "public, max-age=60", "public, max-age="),
        ],
    )
    def test_cache_control(self, tmp_path: Path, lookup: str, expected_miss: str, expected_hit_start: str) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy(lookup=lookup)) as gw:
            miss = gw.get("/echo/x", headers={"X-Test-Response-Header": "Cache-Control: max-age=999"})
            hit = gw.get("/echo/x")
            assert backend.calls == 1
            assert miss.headers.get("Cache-Control") == expected_miss
            assert hit.headers.get("Cache-Control", "").startswith(expected_hit_start)
            assert hit.headers.get("Cache-Control", "").endswith(expected_miss.rsplit("60", 1)[-1])


    def test_vary_names_the_vary_by_headers(self, tmp_path: Path) -> None:
        xml = policy(lookup='downstream-caching-type="public"', children="<vary-by-header>Accept</vary-by-header>")
        with Backend() as backend, gateway(tmp_path, backend, xml) as gw:
            miss = gw.get("/echo/x", headers={"X-Test-Response-Header": "Vary: Accept-Encoding"})
            hit = gw.get("/echo/x")
            assert backend.calls == 1
            assert miss.headers.get("Vary") == hit.headers.get("Vary") == "Accept-Encoding, Accept"

    def test_personal_responses_are_never_public_downstream(self, tmp_path: Path) -> None:
        xml = policy(lookup='downstream-caching-type="public" vary-by-developer="true"')
        with Backend() as backend, gateway(tmp_path, backend, xml, subscription_required=True,
                                           subscriptions=SUBSCRIPTIONS) as gw:
            headers = {"Ocp-Apim-Subscription-Key": "key-alice"}
            assert gw.get("/echo/x", headers=headers).headers.get("Cache-Control", "").startswith("private, max-age=")
            assert gw.get("/echo/x", headers=headers).headers.get("Cache-Control", "").startswith("private, max-age=")
            assert backend.calls == 1


class TestVaryBy:
    def test_vary_by_header(self, tmp_path: Path) -> None:
        xml = policy(children="<vary-by-header>Accept</vary-by-header><vary-by-header>Accept-Language</vary-by-header>")
        with Backend() as backend, gateway(tmp_path, backend, xml) as gw:
            gw.get("/echo/x", headers={"Accept": "application/json"})
            gw.get("/echo/x", headers={"Accept": "text/xml"})
            gw.get("/echo/x", headers={"Accept": "application/json", "Accept-Language": "fr"})
            gw.get("/echo/x")
            assert backend.calls == 4
            gw.get("/echo/x", headers={"Accept": "text/xml", "X-Other": "ignored"})
            gw.get("/echo/x", headers={"Accept": "application/json"})
            assert backend.calls == 4

    def test_listed_query_parameters_only(self, tmp_path: Path) -> None:
        xml = policy(children="<vary-by-query-parameter>version;lang</vary-by-query-parameter>")
        with Backend() as backend, gateway(tmp_path, backend, xml) as gw:
            gw.get("/echo/x?version=1&lang=en&noise=1")
            gw.get("/echo/x?noise=2&lang=en&version=1")
            assert backend.calls == 1
            gw.get("/echo/x?version=2&lang=en")
            gw.get("/echo/x?version=1")
            assert backend.calls == 3

    @pytest.mark.parametrize("children", ["", "<vary-by-query-parameter>*</vary-by-query-parameter>"])
    def test_no_list_or_star_means_every_parameter(self, tmp_path: Path, children: str) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy(children=children)) as gw:
            gw.get("/echo/x?a=1&b=2")
            gw.get("/echo/x?b=2&a=1")
            assert backend.calls == 1
            gw.get("/echo/x?a=1&b=3")
            gw.get("/echo/x?a=1")
            assert backend.calls == 3

    def test_vary_by_developer_never_crosses_developers(self, tmp_path: Path) -> None:
        xml = policy(lookup='vary-by-developer="true"')
        with Backend() as backend, gateway(tmp_path, backend, xml, subscription_required=True,
                                           subscriptions=SUBSCRIPTIONS) as gw:
            alice = gw.get("/echo/me", headers={"Ocp-Apim-Subscription-Key": "key-alice"})
            bob = gw.get("/echo/me", headers={"Ocp-Apim-Subscription-Key": "key-bob"})
            assert backend.calls == 2
            again = gw.get("/echo/me", headers={"Ocp-Apim-Subscription-Key": "key-alice"})
            assert backend.calls == 2
            assert again.body == alice.body != bob.body
            assert json.loads(again.body)["headers"]["ocp-apim-subscription-key"] == "key-alice"

    def test_vary_by_developer_groups(self, tmp_path: Path) -> None:
        xml = policy(lookup='vary-by-developer-groups="true"')
        with Backend() as backend, gateway(tmp_path, backend, xml, subscription_required=True,
                                           subscriptions=SUBSCRIPTIONS) as gw:
            gw.get("/echo/x", headers={"Ocp-Apim-Subscription-Key": "key-alice"})
            gw.get("/echo/x", headers={"Ocp-Apim-Subscription-Key": "key-bob"})  # same groups: shared
            assert backend.calls == 1
            gw.get("/echo/x", headers={"Ocp-Apim-Subscription-Key": "key-carol"})
            assert backend.calls == 2

    def test_authorization_requires_private_caching(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            for _ in range(2):
                gw.get("/echo/x", headers={"Authorization": "Bearer a"})
            assert backend.calls == 2
        xml = policy(lookup='allow-private-response-caching="true"', children="<vary-by-header>Authorization</vary-by-header>")
        with Backend() as backend, gateway(tmp_path, backend, xml) as gw:
            gw.get("/echo/x", headers={"Authorization": "Bearer a"})
            gw.get("/echo/x", headers={"Authorization": "Bearer b"})
            gw.get("/echo/x", headers={"Authorization": "Bearer a"})
            assert backend.calls == 2


class TestCoalescing:
    def _concurrent(self, gw: Any, count: int, headers: dict[str, str]) -> list[Any]:
        barrier = threading.Barrier(count)

        def one(_: int) -> Any:
            barrier.wait()
            return gw.get("/echo/slow", headers=headers)

        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, range(count)))

    def test_concurrent_misses_make_one_backend_call(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            answers = self._concurrent(gw, 8, {"X-Test-Delay": "1.5"})
            assert [a.status for a in answers] == [200] * 8
            assert len({a.body for a in answers}) == 1
            assert backend.calls == 1

    def test_uncacheable_leader_lets_followers_through(self, tmp_path: Path) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            answers = self._concurrent(gw, 4, {"X-Test-Delay": "0.5", "X-Test-Status": "503"})
            assert [a.status for a in answers] == [503] * 4
            assert backend.calls == 4


    def test_redis_down_still_coalesces_each_variant(self, tmp_path: Path) -> None:
        """With Redis unreachable nothing is stored, but concurrent misses of one variant still make one
        backend call (the outage is when the backend needs shielding), and unrelated variants are never
        grouped: a fast variant does not wait for a slow one."""
        count = 8
        barrier = threading.Barrier(count)
        # Each group's leader is at the backend long enough for its 3 followers to arrive, even on a
        # busy machine (nothing is stored: a follower arriving after the leader's answer calls again).
        fast_delay, slow_delay = 1.0, 3.0

        def one(index: int) -> Any:
            path, delay = ("/echo/slow", str(slow_delay)) if index % 2 else ("/echo/fast", str(fast_delay))
            barrier.wait()
            started = time.monotonic()
            answer = gw.get(path, headers={"X-Test-Delay": delay}, timeout=20)
            return path, answer, time.monotonic() - started

        cache = {"external": Backend.unused_url().replace("http", "redis"), "breaker": {"failures": 1, "reset-seconds": 30}}
        with Backend() as backend, gateway(tmp_path, backend, policy('caching-type="external"'), cache=cache) as gw:
            with ThreadPoolExecutor(count) as pool:
                results = list(pool.map(one, range(count)))
            assert backend.calls == 2
        assert all(answer.status == 200 and answer.json()["path"] == path[5:] for path, answer, _ in results)
        fast = [elapsed for path, _, elapsed in results if path == "/echo/fast"]
        # Grouped with the slow variant, a fast request would wait for its 3 s backend call.
        assert max(fast) < slow_delay - 0.5


class TestFailedLeader:
    """A coalesced miss whose leader fails releases its waiters at once (issue 11): no 5 s stalls."""

    FAILING = {
        "refused": ("", "<base/>", ""),
        "timeout": ('<forward-request timeout="1" />', "<base/>", ""),
        "on-error return-response": ("", '<return-response><set-status code="503" reason="Down"/></return-response>', ""),
        "exception": ("", "<base/>", '<set-variable name="n" value="@(int.Parse(&quot;not a number&quot;))" />'),
    }

    def _xml(self, kind: str) -> str:
        backend, on_error, after_lookup = self.FAILING[kind]
        return f"""<policies>
  <inbound><base/><cache-lookup />{after_lookup}</inbound>
  <backend>{backend or "<base/>"}</backend>
  <outbound><base/><cache-store duration="60"/></outbound>
  <on-error>{on_error}</on-error>
</policies>"""

    def _burst(self, gw: Any, count: int, headers: dict[str, str]) -> tuple[list[int], float]:
        import time

        barrier = threading.Barrier(count)

        def one(_: int) -> tuple[int, float]:
            barrier.wait()
            began = time.monotonic()
            status = gw.get("/echo/down", headers=headers, timeout=20).status
            return status, time.monotonic() - began

        with ThreadPoolExecutor(count) as pool:
            results = list(pool.map(one, range(count)))
        return [status for status, _ in results], max(took for _, took in results)

    @pytest.mark.parametrize("kind", list(FAILING))
    def test_waiters_are_released_when_the_leader_fails(self, tmp_path: Path, kind: str) -> None:
        import time

        expected = {"refused": 502, "timeout": 504, "on-error return-response": 503, "exception": 500}[kind]
        with Backend() as backend:
            url = backend.url if kind == "timeout" else Backend.unused_url()
            config = simple_config(api_policy="api.xml", **{"named-values": {"backend-url": url}})
            with run_gateway(tmp_path, config, {"api.xml": self._xml(kind)}) as gw:
                headers = {"X-Test-Delay": "3"} if kind == "timeout" else {}
                statuses, slowest = self._burst(gw, 6, headers)
                assert statuses == [expected] * 6
                # Before the fix waiters stayed blocked for coalesce-timeout-ms (5 s). A released
                # waiter tries itself: at most two attempts in a row (1 s each for the timeout case).
                assert slowest < (3.5 if kind == "timeout" else 2.0), slowest
                if kind != "timeout":  # during the outage later requests fail fast, one after another
                    began = time.monotonic()
                    assert [gw.get("/echo/down").status for _ in range(5)] == [expected] * 5
                    assert time.monotonic() - began < 2.0


class TestPurge:
    def test_admin_endpoint_purges_every_variant(self, tmp_path: Path) -> None:
        xml = policy(children="<vary-by-header>Accept</vary-by-header>")
        with Backend() as backend, gateway(tmp_path, backend, xml) as gw:
            for accept in ("a/b", "c/d", "e/f"):
                gw.get("/echo/x", headers={"Accept": accept})
            answer = http_request(gw.admin_url, "POST", "/cache/purge?api=echo")
            assert answer.status == 200 and answer.json()["removed"] == 3
            gw.get("/echo/x", headers={"Accept": "a/b"})
            assert backend.calls == 4
            assert http_request(gw.admin_url, "POST", "/cache/purge").status == 400

    def test_cli_purges_the_external_cache(self, tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        import uuid

        # generation-cache-ms 0: the gateway reads the purge generation with every lookup, so it sees
        # a purge made by another process at once (by default within one second).
        cache = {"external": redis_url, "prefix": f"t{uuid.uuid4().hex[:8]}:", "timeout-ms": 1000, "generation-cache-ms": 0}
        with Backend() as backend, gateway(tmp_path, backend, policy(), cache=cache) as gw:
            gw.get("/echo/one")
            gw.get("/echo/two")
            config = str(tmp_path / "gateway.yaml")
            assert cli_main(["cache", "purge", config, "--api", "echo", "--operation", "all"]) == 0
            assert "removed 2 cached entries of API 'echo' operation 'all'" in capsys.readouterr().out
            gw.get("/echo/one")
            assert backend.calls == 3
            assert cli_main(["cache", "purge", config, "--api", "nope"]) == 2
            assert "no API 'nope'" in capsys.readouterr().err
            assert cli_main(["cache", "purge", config, "--api", "echo", "--operation", "al"]) == 2
            assert "apis.echo: no operation 'al' (known: all)" in capsys.readouterr().err
            # /echo/one was stored again above; the folder holding gateway.yaml is accepted, as by serve
            assert cli_main(["cache", "purge", str(tmp_path), "--api", "echo"]) == 0
            assert "removed 1 cached entry of API 'echo'\n" in capsys.readouterr().out


    def test_cli_through_the_admin_endpoint_and_without_external_cache(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with Backend() as backend, gateway(tmp_path, backend, policy()) as gw:
            gw.get("/echo/one")
            config = str(tmp_path / "gateway.yaml")
            assert cli_main(["cache", "purge", config, "--api", "echo", "--admin", gw.admin_url]) == 0
            assert "removed 1 cached entry of API 'echo'" in capsys.readouterr().out
            assert cli_main(["cache", "purge", config, "--api", "ecko", "--admin", gw.admin_url]) == 2
            assert "no API 'ecko' (known: echo)" in capsys.readouterr().err
            gw.get("/echo/one")
            assert backend.calls == 2
            assert cli_main(["cache", "purge", config, "--api", "echo"]) == 2
            assert "cache.external: not configured" in capsys.readouterr().err
        unreachable = Backend.unused_url()
        assert cli_main(["cache", "purge", config, "--api", "echo", "--admin", unreachable]) == 1
        assert "cannot purge through" in capsys.readouterr().err


class TestRedis:
    def test_hits_come_from_redis_with_one_get(self, tmp_path: Path, redis_url: str) -> None:
        import uuid

        import redis

        cache = {"external": redis_url, "prefix": f"t{uuid.uuid4().hex[:8]}:", "timeout-ms": 1000}
        client = redis.Redis.from_url(redis_url)
        try:
            with Backend() as backend, gateway(tmp_path, backend, policy(), cache=cache) as gw:
                gw.get("/echo/x")
                before = client.info("commandstats")
                for _ in range(5):
                    assert gw.get("/echo/x").status == 200
                after = client.info("commandstats")
                assert backend.calls == 1
                assert after["cmdstat_get"]["calls"] - before["cmdstat_get"]["calls"] == 5
                assert 'policygate_cache_requests_total{store="external",result="hit"} 5' in gw.metrics()
        finally:
            client.close()

    def test_gateways_share_entries_by_prefix(self, tmp_path: Path, redis_url: str) -> None:
        import uuid

        shared = {"external": redis_url, "prefix": f"t{uuid.uuid4().hex[:8]}:", "timeout-ms": 1000}
        other = {**shared, "prefix": f"t{uuid.uuid4().hex[:8]}:"}
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        (tmp_path / "c").mkdir()
        with Backend() as backend, gateway(tmp_path / "a", backend, policy(), cache=shared) as first, \
                gateway(tmp_path / "b", backend, policy(), cache=shared) as second, \
                gateway(tmp_path / "c", backend, policy(), cache=other) as separate:
            first.get("/echo/x")
            assert second.get("/echo/x").headers.get("Age") is not None  # stored by the first gateway
            assert backend.calls == 1
            assert separate.get("/echo/x").headers.get("Age") is None  # its own namespace: a miss
            assert backend.calls == 2

    def test_redis_cluster(self, tmp_path: Path, redis_cluster_url: str) -> None:
        cache = {"external": redis_cluster_url, "timeout-ms": 1000, "connect-timeout-ms": 1000}
        with Backend() as backend, gateway(tmp_path, backend, policy(), cache=cache) as gw:
            for path in ("/echo/a", "/echo/b", "/echo/a", "/echo/b"):
                assert gw.get(path).status == 200
            assert backend.calls == 2
            answer = http_request(gw.admin_url, "POST", "/cache/purge?api=echo&operation=all")
            assert answer.json()["removed"] == 2
            gw.get("/echo/a")
            assert backend.calls == 3

    def test_value_cache_and_rate_limits_on_redis_cluster(self, tmp_path: Path, redis_cluster_url: str) -> None:
        limit = '<rate-limit-by-key calls="5" renewal-period="60" counter-key="cluster-test" />'
        xml = TestExpressions.VALUES.replace("<inbound><base/>", "<inbound><base/>" + limit, 1)
        cache = {"external": redis_cluster_url, "timeout-ms": 1000, "connect-timeout-ms": 1000, "prefix": "vc:"}
        with Backend() as backend, gateway(tmp_path, backend, xml, cache=cache) as gw:
            assert gw.get("/echo/?who=ann").headers.get("X-Greeting") == "no greeting for ann"
            gw.request("PUT", "/echo/?who=ann")
            assert gw.get("/echo/?who=ann").headers.get("X-Greeting") == "hello ann"
            gw.request("DELETE", "/echo/?who=ann")
            assert gw.get("/echo/?who=ann").headers.get("X-Greeting") == "no greeting for ann"
            assert gw.get("/echo/?who=ann").status == 429  # the 6th request: the counter lives in the cluster too
            assert "policygate_ratelimit_fallback_decisions_total{" not in gw.metrics()

    def test_redis_killed_and_restarted_mid_test_fails_no_request(
        self, tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        import time

        cache = {"external": redis_server.url, "breaker": {"failures": 2, "reset-seconds": 0.2}}
        statuses: list[int] = []
        stop = threading.Event()
        with Backend() as backend, gateway(tmp_path, backend, policy(), cache=cache) as gw:

            def load() -> None:
                while not stop.is_set():
                    statuses.append(gw.get("/echo/x", timeout=10).status)

            gw.get("/echo/x")
            gw.get("/echo/x")
            assert backend.calls == 1
            worker = threading.Thread(target=load)
            worker.start()
            try:
                time.sleep(0.3)
                redis_server.stop()
                time.sleep(0.8)
                calls_while_down = backend.calls
                redis_server.start()
                deadline = time.monotonic() + 10
                recovered = False
                while time.monotonic() < deadline and not recovered:
                    calls = backend.calls
                    time.sleep(0.5)
                    recovered = backend.calls == calls
            finally:
                stop.set()
                worker.join(15)
            assert statuses and set(statuses) == {200}
            assert calls_while_down > 1  # served by the backend while Redis was down
            assert recovered  # hits again after the restart
            assert "policygate_redis_errors_total" in gw.metrics()
        opened = [r for r in caplog.records if "unavailable" in r.getMessage() and r.name == "policygate.breaker"]
        assert 1 <= len(opened) <= 3  # logged per state change, not per request


class TestExpressions:
    VALUES = """<policies>
  <inbound><base/>
    <set-variable name="who" value="@(context.Request.Url.Query.GetValueOrDefault(&quot;who&quot;, &quot;&quot;))" />
    <choose>
      <when condition="@(context.Request.Method == &quot;PUT&quot;)">
        <cache-store-value key="@(&quot;greeting-&quot; + (string)context.Variables[&quot;who&quot;])"
                           value="@(&quot;hello &quot; + (string)context.Variables[&quot;who&quot;])" duration="60" />
      </when>
      <when condition="@(context.Request.Method == &quot;DELETE&quot;)">
        <cache-remove-value key="@(&quot;greeting-&quot; + (string)context.Variables[&quot;who&quot;])" />
      </when>
    </choose>
    <cache-lookup-value key="@(&quot;greeting-&quot; + (string)context.Variables[&quot;who&quot;])"
                        variable-name="greeting" default-value="@(&quot;no greeting for &quot; + (string)context.Variables[&quot;who&quot;])" />
    <return-response>
      <set-status code="200" reason="OK" />
      <set-header name="X-Greeting" exists-action="override"><value>@((string)context.Variables["greeting"])</value></set-header>
    </return-response>
  </inbound>
  <backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error>
</policies>"""

    @pytest.mark.parametrize("external", [False, True])
    def test_value_policies_with_expressions(self, tmp_path: Path, redis_url: str, external: bool) -> None:
        import uuid

        cache = {"external": redis_url, "prefix": f"t{uuid.uuid4().hex[:8]}:", "timeout-ms": 1000} if external else {}
        with Backend() as backend, gateway(tmp_path, backend, self.VALUES, cache=cache) as gw:
            assert gw.get("/echo/?who=ann").headers.get("X-Greeting") == "no greeting for ann"
            gw.request("PUT", "/echo/?who=ann")
            assert gw.get("/echo/?who=ann").headers.get("X-Greeting") == "hello ann"
            assert gw.get("/echo/?who=bob").headers.get("X-Greeting") == "no greeting for bob"
            gw.request("DELETE", "/echo/?who=ann")
            assert gw.get("/echo/?who=ann").headers.get("X-Greeting") == "no greeting for ann"
            assert backend.calls == 0

    def test_duration_and_vary_by_developer_from_expressions(self, tmp_path: Path) -> None:
        xml = policy(
            lookup='vary-by-developer="@(context.Request.Headers.GetValueOrDefault(&quot;X-Personal&quot;, &quot;&quot;) == &quot;1&quot;)"',
            store='duration="@(int.Parse(context.Request.Headers.GetValueOrDefault(&quot;X-Ttl&quot;, &quot;60&quot;)))"',
        )
        with Backend() as backend, gateway(tmp_path, backend, xml, subscription_required=True,
                                           subscriptions=SUBSCRIPTIONS) as gw:
            alice = {"Ocp-Apim-Subscription-Key": "key-alice", "X-Ttl": "120"}
            bob = {"Ocp-Apim-Subscription-Key": "key-bob"}
            assert gw.get("/echo/x", headers=alice).headers.get("Cache-Control") == "no-store"
            gw.get("/echo/x", headers=bob)  # shared entry: not personal
            assert backend.calls == 1
            gw.get("/echo/x", headers={**alice, "X-Personal": "1"})
            gw.get("/echo/x", headers={**bob, "X-Personal": "1"})
            assert backend.calls == 3
            entries = gw.run(lambda: _internal_ttls(gw))
            assert sorted(round(t) for t in entries) == [60, 120, 120]  # shared (alice), alice, bob


async def _internal_ttls(gw: Any) -> list[float]:
    import time

    cache = gw.server.services.cache
    return [item[0] - time.monotonic() for item in cache.internal._cache.values()]


def test_redis_cluster_node_killed_fails_no_request(tmp_path: Path) -> None:
    from tests.support.redis_cluster import RedisClusterNodes

    cluster = RedisClusterNodes(3)
    cluster.start()
    try:
        cache = {"external": cluster.url, "breaker": {"failures": 3, "reset-seconds": 0.2}}
        with Backend() as backend, gateway(tmp_path, backend, policy(), cache=cache) as gw:
            paths = [f"/echo/item{i}" for i in range(12)]  # spread over the nodes (one key per variant)
            assert {gw.get(p).status for p in paths} == {200}
            assert {gw.get(p).status for p in paths} == {200}
            assert backend.calls == 12
            next(node for node in cluster.nodes if _holds_entries(node.port)).stop()
            assert {gw.get(p, timeout=10).status for p in paths * 2} == {200}
            assert 12 < backend.calls <= 12 + 24
            assert "policygate_redis_errors_total" in gw.metrics()
    finally:
        cluster.stop()


def _holds_entries(port: int) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        return any(True for _ in client.scan_iter(match="policygate:r:*"))
    finally:
        client.close()


def test_cli_purge_reports_an_unreachable_redis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.gateway import unused_port

    config = tmp_path / "gateway.yaml"
    config.write_text(f"cache:\n  external: redis://127.0.0.1:{unused_port()}/0\n")
    assert cli_main(["cache", "purge", str(config), "--api", "echo"]) == 1
    assert "Redis unavailable" in capsys.readouterr().err
