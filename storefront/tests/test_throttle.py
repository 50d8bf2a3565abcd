"""The per-client limits (storefront.plumbing.throttle): a window that slides, so no span of a
window's length lets more than the limit through; counts in the shared cache; a cache that is down
lets the shop keep selling, and says so in the log once a minute."""

import logging
import math
import os
import threading
import uuid
from contextlib import contextmanager

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.test.utils import override_settings

from storefront.models import Order
from storefront.plumbing import shared_cache, throttle
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

WINDOW = 60


class Clock:
    """The throttle's clock, moved by hand."""

    def __init__(self, monkeypatch, start: float) -> None:
        self.now = start
        monkeypatch.setattr(throttle, "_now", lambda: self.now)


def spans_over(admitted: list[float], limit: int, window: float) -> list[float]:
    """The times from which a window-length span holds more than `limit` admitted calls."""
    return [
        start
        for start in admitted
        if sum(1 for t in admitted if start <= t < start + window) > limit
    ]


def test_a_window_boundary_never_lets_more_than_the_limit_through(client, settings, monkeypatch):
    settings.SHOP_START_LIMIT = 5
    settings.SHOP_START_WINDOW_SECONDS = WINDOW
    item = make_item()
    # Just before the turn of a minute (and of one of the throttle's slots).
    clock = Clock(monkeypatch, 1_000_000 * WINDOW - 0.1)
    admitted, answers = [], []

    def call():
        response = client.get(f"/buy/{item.pk}")
        answers.append(response)
        if response.status_code == 200:
            admitted.append(clock.now)

    for _ in range(5):  # the whole limit, at the end of one fixed window
        call()
    clock.now += 0.2
    for _ in range(5):  # and again right after the boundary: a fixed window lets these through
        call()
    while clock.now < 1_000_000 * WINDOW + 3 * WINDOW:  # then one call a second
        clock.now += 1
        call()

    assert {response.status_code for response in answers} == {200, 429}
    assert len(admitted) >= 10  # the limit again once the first five have slid out, and more
    assert spans_over(admitted, 5, WINDOW) == []


def test_two_processes_a_slot_apart_never_let_more_than_the_limit_through(settings, monkeypatch):
    """Two gunicorn workers whose calls straddle a slot's edge: one already in the next slot
    reads the counts, and the other, still in the slot before, counts itself before the first
    has counted. Together they must not let more than the limit through."""
    settings.SHOP_START_LIMIT = 3
    settings.SHOP_START_WINDOW_SECONDS = WINDOW
    request = RequestFactory().get("/buy/1")
    slot_seconds = WINDOW / throttle.SLOTS
    edge = 1_000_000 * WINDOW
    clock = Clock(monkeypatch, edge - 0.01)
    for _ in range(2):  # two of three let through, just before the edge
        assert throttle.wait_needed(request, scope="payment-start") == 0

    cache = throttle.cache
    real_get_many = cache.get_many
    behind, other_ran = [], []

    def get_many_then_the_other_process(keys):
        found = real_get_many(keys)
        if not other_ran:  # the other worker, its clock still before the edge, runs here
            other_ran.append(True)
            clock.now = edge - 0.01
            behind.append(throttle.wait_needed(request, scope="payment-start"))
            clock.now = edge + slot_seconds / 2
        return found

    monkeypatch.setattr(cache, "get_many", get_many_then_the_other_process)
    clock.now = edge + slot_seconds / 2
    ahead = throttle.wait_needed(request, scope="payment-start")

    assert [ahead, *behind].count(0) == 1


def test_a_client_told_to_wait_is_let_in_after_that_wait(client, settings, monkeypatch):
    settings.SHOP_START_LIMIT = 2
    item = make_item()
    clock = Clock(monkeypatch, 1_000_000.0)
    client.get(f"/buy/{item.pk}")
    clock.now += 20
    client.get(f"/buy/{item.pk}")
    clock.now += 10

    refused = client.get(f"/buy/{item.pk}")
    wait = int(refused["Retry-After"])
    clock.now += wait - 1
    still_refused = client.get(f"/buy/{item.pk}")
    clock.now += 1
    admitted = client.get(f"/buy/{item.pk}")

    assert refused.status_code == 429
    # The first call (slot 200_000) stops counting at the start of slot 200_013.
    assert wait == math.ceil(200_013 * 5 - (1_000_030.0))
    assert still_refused.status_code == 429
    assert admitted.status_code == 200


def test_refused_calls_are_not_counted(client, settings, monkeypatch):
    settings.SHOP_START_LIMIT = 1
    item = make_item()
    clock = Clock(monkeypatch, 1_000_000.0)
    client.get(f"/buy/{item.pk}")
    for _ in range(30):  # hammering while held does not hold the client any longer
        clock.now += 2
        assert client.get(f"/buy/{item.pk}").status_code == 429

    clock.now = 1_000_000.0 + WINDOW + 5

    assert client.get(f"/buy/{item.pk}").status_code == 200


class DeadCache:
    """Caches configured at a Redis no one answers on (a connection refused at once)."""

    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


class Monotonic:
    """The throttle's monotonic clock (when to ask a failed cache again, to log again)."""

    def __init__(self, monkeypatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(shared_cache, "_monotonic", lambda: self.now)
        monkeypatch.setattr(throttle, "cache_outage", throttle.CacheOutage())


def test_with_the_cache_down_the_shop_keeps_selling_and_logs_it_once(settings, monkeypatch, caplog):
    settings.SHOP_START_LIMIT = 1
    clock = Monotonic(monkeypatch)
    items = [make_item() for _ in range(4)]

    with override_settings(CACHES=DeadCache.CACHES), caplog.at_level(logging.WARNING):
        answers = []
        for item in items:
            answers.append(Client().get(f"/buy/{item.pk}"))
            clock.now += 10  # past the retry pause: each call asks the cache, and fails

    assert [response.status_code for response in answers] == [200] * 4
    assert Order.objects.count() == 4
    lines = [record for record in caplog.records if record.name == "storefront.plumbing.throttle"]
    assert len(lines) == 1
    assert "cache cannot be reached" in lines[0].getMessage()
    assert "ConnectionError" in lines[0].getMessage()


def test_the_cache_down_warning_comes_again_after_a_minute(settings, monkeypatch, caplog):
    clock = Monotonic(monkeypatch)
    item = make_item()

    with override_settings(CACHES=DeadCache.CACHES), caplog.at_level(logging.WARNING):
        for step in (0, 30, 31):  # at 0, 30 and 61 seconds
            clock.now += step
            assert Client().get(f"/buy/{item.pk}").status_code == 200

    assert len([r for r in caplog.records if r.name == "storefront.plumbing.throttle"]) == 2


class FailingCache:
    """A cache whose every call fails, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            self.calls += 1
            raise ConnectionError("cache down")

        return fail


def test_a_failed_cache_is_asked_again_only_after_a_pause(client, monkeypatch):
    clock = Monotonic(monkeypatch)
    failing = FailingCache()
    monkeypatch.setattr(throttle, "cache", failing)
    item = make_item()

    for _ in range(5):
        assert client.get(f"/buy/{item.pk}").status_code == 200
    asked_while_down = failing.calls
    clock.now += shared_cache.CACHE_RETRY_SECONDS
    client.get(f"/buy/{item.pk}")

    assert asked_while_down == 1
    assert failing.calls == 2


def test_return_pages_have_a_limit_of_their_own(client, settings):
    settings.SHOP_RETURN_LIMIT = 3
    settings.SHOP_START_LIMIT = 1
    item = make_item()
    assert client.get(f"/buy/{item.pk}").status_code == 200  # the start limit is now reached

    answers = [client.get("/payment/stripe/return/?session_id=cs_test_x&currency=usd")]
    answers += [client.get("/success/?session_id=cs_test_x&currency=usd") for _ in range(3)]

    assert [response.status_code for response in answers] == [404, 404, 404, 429]
    assert "Too many payment pages" in answers[-1].content.decode()
    assert int(answers[-1]["Retry-After"]) > 0


def add(client, item):
    return client.post("/order/add/", {"item": item.pk, "quantity": 1})


def test_fresh_sessions_from_one_address_make_at_most_the_limit_of_orders(settings):
    limit = settings.SHOP_ORDER_LIMIT
    assert 0 < limit < 40  # the default, sized for shoppers behind one address
    item = make_item()
    sessions_before = Session.objects.count()

    answers = [add(Client(), item) for _ in range(40)]

    assert [response.status_code for response in answers] == [302] * limit + [429] * (40 - limit)
    assert "Too many new orders" in answers[-1].content.decode()
    assert Order.objects.count() == limit
    assert Session.objects.count() - sessions_before == limit
    # Another address is not held by this one.
    assert add(Client(REMOTE_ADDR="203.0.113.9"), item).status_code == 302


def test_filling_one_order_is_not_limited(client, settings):
    settings.SHOP_ORDER_LIMIT = 1
    items = [make_item() for _ in range(25)]

    answers = [add(client, item) for item in items]

    assert {response.status_code for response in answers} == {302}
    assert Order.objects.get().lines.count() == 25


# --- On Redis, as in production ----------------------------------------------------------------


@pytest.fixture
def redis_cache(settings):
    """The shop's RedisCache (storefront.plumbing.redis_cache) on the machine's Redis, under a key
    prefix of this test's own (no other key is touched); skipped, saying so, where no Redis answers
    (never under CI)."""
    location = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    config = {
        "default": {
            "BACKEND": "storefront.plumbing.redis_cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=config):
        try:
            caches["default"].get("ping")
        except Exception as exc:
            if os.environ.get("CI"):
                raise
            pytest.skip(f"no Redis answers at {location} ({type(exc).__name__})")
        try:
            yield
        finally:
            client = caches["default"]._cache.get_client(write=True)
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)


def test_on_redis_concurrent_calls_let_exactly_the_limit_through(redis_cache, settings):
    settings.SHOP_START_LIMIT = 30
    request = RequestFactory().get("/buy/1")
    results, barrier = [], threading.Barrier(12)

    def calls():
        barrier.wait()
        for _ in range(50):
            results.append(throttle.wait_needed(request, scope="payment-start"))

    threads = [threading.Thread(target=calls) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(0) == 30
    assert len(results) == 600


@contextmanager
def commands_sent(client):
    """The names of the Redis commands `client` sends inside the block, in order."""
    sent = []
    real_execute = client.execute_command

    def execute_command(*args, **kwargs):
        sent.append(args[0])
        return real_execute(*args, **kwargs)

    client.execute_command = execute_command
    try:
        yield sent
    finally:
        del client.execute_command


def test_the_shop_redis_cache_counts_in_one_round_trip_and_never_makes_a_missing_key(
    redis_cache,
):
    """incr is one script: a count keeps its expiry, and a missing (or expired) key is a
    ValueError, as Django's, with nothing made: no count left without an expiry."""
    cache = caches["default"]
    backend = cache._cache
    client = backend.get_client(write=True)
    cache.set("count", 0, timeout=60)
    cache.incr("count")  # the script loaded once (SCRIPT LOAD, should Redis not know it yet)
    with commands_sent(client) as sent:
        assert cache.incr("count") == 2
        assert cache.decr("count") == 1
    assert sent == ["EVALSHA", "EVALSHA"]  # one round trip each
    assert 0 < client.ttl(cache.make_and_validate_key("count")) <= 60

    with pytest.raises(ValueError):
        cache.incr("never-set")
    assert client.exists(cache.make_and_validate_key("never-set")) == 0


def test_on_redis_a_call_is_counted_and_judged_in_one_round_trip(redis_cache, settings):
    """The throttle's count and its read of the other slots are one script on the shop's Redis
    cache: one round trip a call, the count made with its expiry, the others read after it."""
    settings.SHOP_START_LIMIT = 3
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    request = RequestFactory().get("/buy/1")
    assert throttle.wait_needed(request, scope="payment-start") == 0  # the script loaded once
    with commands_sent(client) as sent:
        waits = [throttle.wait_needed(request, scope="payment-start") for _ in range(3)]

    assert waits[:2] == [0, 0] and waits[2] > 0  # the limit, 3, then refused
    # One round trip each; the refused one also takes its count back (a DECR script).
    assert sent == ["EVALSHA", "EVALSHA", "EVALSHA", "EVALSHA"]
    keys = list(client.scan_iter(match=cache.make_and_validate_key("throttle:*")))
    assert keys and all(
        0 < client.ttl(key) <= settings.SHOP_START_WINDOW_SECONDS + 2 for key in keys
    )
    assert sum(int(client.get(key)) for key in keys) == 3  # the refused call not counted


def test_the_shop_redis_cache_keeps_one_client_per_pool(redis_cache):
    """Django's builds a redis client for every call; the shop's keeps the first (the counts
    above go through it, from many threads at once)."""
    backend = caches["default"]._cache

    caches["default"].set("kept", "yes")

    assert caches["default"].get("kept") == "yes"
    assert backend.get_client() is backend.get_client(write=True)
