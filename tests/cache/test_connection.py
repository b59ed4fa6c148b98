"""RedisSettings parsing (URLs and StackExchange strings) and real connections."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from engine.cache.connection import RedisSettings, RedisSettingsError, create_client
from engine.errors import ConfigError
from tests.support.redis_server import RedisServer


class TestUrls:
    def test_plain_url_defaults_to_50ms_connect_and_500ms_read_timeouts(self) -> None:
        s = RedisSettings.parse("redis://cache.local:6390/4")
        assert s.nodes == (("cache.local", 6390),)
        assert (s.db, s.ssl, s.cluster) == (4, False, False)
        assert (s.connect_timeout, s.timeout) == (0.05, 0.5)

    def test_tls_user_password_and_options(self) -> None:
        s = RedisSettings.parse("rediss://app:p%40ss@cache.local?ssl_cert_reqs=none&timeout_ms=200&client_name=gw")
        assert s.ssl and s.ssl_cert_reqs == "none"
        assert (s.username, s.password, s.timeout, s.client_name) == ("app", "p@ss", 0.2, "gw")
        assert s.nodes == (("cache.local", 6379),)

    def test_password_only_userinfo(self) -> None:
        s = RedisSettings.parse("redis://secret@h:1")
        assert (s.username, s.password) == (None, "secret")

    def test_cluster_scheme_with_several_nodes(self) -> None:
        s = RedisSettings.parse("redis+cluster://a:7000,b:7001")
        assert s.cluster and s.nodes == (("a", 7000), ("b", 7001))
        assert s.describe() == "redis://a:7000,b:7001/0 (cluster)"

    def test_cluster_query_option_and_forced_off(self) -> None:
        assert RedisSettings.parse("redis://a:1?cluster=true").cluster
        assert not RedisSettings.parse("redis+cluster://a:1", cluster=False).cluster

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("http://x", "unsupported Redis URL scheme"),
            ("redis://h:99999", "out of range"),
            ("redis://h/abc", "database number"),
            ("redis://h?bogus=1", "unknown Redis URL option 'bogus'"),
            ("redis+cluster://h/2", "only has database 0"),
            ("redis://h?timeout_ms=0", "must be positive"),
            ("", "empty"),
        ],
    )
    def test_bad_urls(self, text: str, message: str) -> None:
        with pytest.raises(RedisSettingsError, match=message):
            RedisSettings.parse(text)


class TestStackExchange:
    def test_azure_connection_string(self) -> None:
        s = RedisSettings.parse("teamdemo.redis.cache.windows.net:6380,password=ab+c/d=,ssl=True,abortConnect=False")
        assert s.nodes == (("teamdemo.redis.cache.windows.net", 6380),)
        assert s.password == "ab+c/d=" and s.ssl and not s.cluster

    def test_database_timeouts_user_and_name(self) -> None:
        s = RedisSettings.parse("h1,h2:7001,user=u,defaultDatabase=3,connectTimeout=20,syncTimeout=30,name=gw")
        assert s.nodes == (("h1", 6379), ("h2", 7001))
        assert (s.username, s.db, s.connect_timeout, s.timeout, s.client_name) == ("u", 3, 0.02, 0.03, "gw")

    def test_explicit_timeouts_win(self) -> None:
        s = RedisSettings.parse("h,connectTimeout=5000,syncTimeout=5000", connect_timeout=0.01, timeout=0.02)
        assert (s.connect_timeout, s.timeout) == (0.01, 0.02)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("password=x", "names no host"),
            ("h,ssl=maybe", "ssl must be true or false"),
            ("h,frobnicate=1", "unknown option 'frobnicate'"),
            ("h,defaultDatabase=x", "defaultDatabase must be an integer"),
            ("h,sslHost=other", "sslHost is not supported"),
        ],
    )
    def test_bad_strings(self, text: str, message: str) -> None:
        with pytest.raises(RedisSettingsError, match=message):
            RedisSettings.parse(text)

    def test_password_not_in_repr_or_description(self) -> None:
        s = RedisSettings.parse("h:1,password=hunter2")
        assert "hunter2" not in repr(s) and "hunter2" not in s.describe()


class TestFromConfig:
    def test_absent_means_no_external_cache(self) -> None:
        assert RedisSettings.from_config(None, where="g.yaml: cache") is None
        assert RedisSettings.from_config({"prefix": "x"}, where="g.yaml: cache") is None

    def test_options_and_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PG_TEST_REDIS_PASSWORD", "s3cret")
        s = RedisSettings.from_config(
            {"external": "h:1,password=${PG_TEST_REDIS_PASSWORD}", "cluster": True, "timeout-ms": 80, "connect-timeout-ms": 20},
            where="g.yaml: cache",
        )
        assert s is not None and s.password == "s3cret" and s.cluster and (s.timeout, s.connect_timeout) == (0.08, 0.02)

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"external": 5}, r"g.yaml: cache.external: expected a Redis URL"),
            ({"external": "h", "cluster": "yes"}, r"g.yaml: cache.cluster: expected true or false"),
            ({"external": "h", "timeout-ms": -1}, r"g.yaml: cache.timeout-ms: expected a positive number"),
            ({"external": "redis://h?nope=1"}, r"g.yaml: cache.external: unknown Redis URL option"),
            ({"external": "h,password=${PG_TEST_SURELY_UNSET}"}, r"cache.external: environment variable PG_TEST_SURELY_UNSET"),
        ],
    )
    def test_errors_name_the_key(self, config: dict[str, object], message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            RedisSettings.from_config(config, where="g.yaml: cache")


class TestClients:
    async def test_client_kinds(self) -> None:
        plain = create_client(RedisSettings.parse("rediss://h:1"))
        cluster = create_client(RedisSettings.parse("redis+cluster://h:1"))
        try:
            assert isinstance(plain, Redis) and isinstance(cluster, RedisCluster)
            kwargs = plain.connection_pool.connection_kwargs
            assert kwargs["socket_timeout"] == 0.5 and kwargs["socket_connect_timeout"] == 0.05
            assert plain.connection_pool.connection_class.__name__ == "SSLConnection"
        finally:
            await plain.aclose()
            await cluster.aclose()

    async def test_stackexchange_string_with_password_and_database_against_real_redis(self) -> None:
        server = RedisServer(extra_args=("--requirepass", "s3cret"))
        server.start()
        client = create_client(RedisSettings.parse(f"127.0.0.1:{server.port},password=s3cret,defaultDatabase=2,abortConnect=False", timeout=2, connect_timeout=2))
        try:
            await client.set("k", b"v")
            assert await client.get("k") == b"v"
            assert (await client.info("keyspace")).get("db2", {}).get("keys") == 1
        finally:
            await client.aclose()
            server.stop()

    async def test_cluster_url_against_real_cluster(self, redis_cluster_url: str) -> None:
        client = create_client(RedisSettings.parse(redis_cluster_url, timeout=2, connect_timeout=2))
        try:
            for i in range(20):
                await client.set(f"spread:{i}", str(i))
            assert [int(await client.get(f"spread:{i}")) for i in range(20)] == list(range(20))
            assert len(client.get_primaries()) == 3
        finally:
            await client.aclose()


class TestTls:
    async def test_rediss_url_with_ca_file_verifies_and_works(self, tmp_path: Path, redis_url: str) -> None:
        from tests.cache.tls_proxy import TlsProxy, self_signed_certificate

        cert, key = self_signed_certificate(tmp_path)
        port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        proxy = await TlsProxy(port, cert, key).start()
        client = create_client(RedisSettings.parse(f"rediss://127.0.0.1:{proxy.port}/0?ssl_ca_certs={cert}", timeout=2, connect_timeout=2))
        try:
            assert await client.ping()
            assert proxy.handshakes >= 1
        finally:
            await client.aclose()
            await proxy.close()

    async def test_stackexchange_ssl_true_refuses_an_untrusted_certificate(self, tmp_path: Path, redis_url: str) -> None:
        from engine.cache.redis_store import RedisStore
        from tests.cache.tls_proxy import TlsProxy, self_signed_certificate

        cert, key = self_signed_certificate(tmp_path)
        port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        proxy = await TlsProxy(port, cert, key).start()
        store = RedisStore(RedisSettings.parse(f"127.0.0.1:{proxy.port},ssl=True,abortConnect=False", timeout=2, connect_timeout=2))
        trusting = create_client(RedisSettings.parse(f"rediss://127.0.0.1:{proxy.port}?ssl_cert_reqs=none", timeout=2, connect_timeout=2))
        try:
            assert await store.fetch("k") == (None, False)  # verification fails: a miss, not an exception
            assert await trusting.ping()  # ssl_cert_reqs=none encrypts without verifying
        finally:
            await store.close()
            await trusting.aclose()
            await proxy.close()
