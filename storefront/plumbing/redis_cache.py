"""Django's Redis cache backend, with one redis client per connection pool instead of one per
call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around its pool for every
cache call, and building one (its table of response callbacks) costs about 0.1 ms of CPU: more
than the GET it then sends. A redis-py client is safe to share between threads; Django already
keeps the pools (and, as every cache, one backend instance per thread), so the client made for
a pool the first time is kept beside it.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
