"""The throwaway redis-server of the test suite (the same one `policygate test` starts for `redis: true`)."""

from engine.testing.redis_server import RedisServer, external_redis_url, find_redis_server, free_port

__all__ = ["RedisServer", "external_redis_url", "find_redis_server", "free_port"]
