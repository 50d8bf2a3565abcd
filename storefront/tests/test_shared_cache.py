"""The cache every process shares (Redis, with REDIS_URL): the /buy limit holds for all the
shop's processes together, and when the cache does not answer the shop keeps selling and
/healthz says the cache is degraded."""

import http.client
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from itertools import cycle

import pytest

from payments.tests.concurrency import POSTGRES_ONLY
from storefront.plumbing import health, throttle
from storefront.tests.factories import make_item
from storefront.tests.worker_tools import (
    app_env,
    free_port,
    procfile,
    procfile_process,
    redis_or_skip,
    wait_until,
)

LIMIT = 10
CALLS = 60
INSTANCES = 2


@pytest.fixture
def unreachable_cache(settings, monkeypatch):
    """A Redis cache at a port where nothing listens. The throttle's memory of the outage is
    this test's own (it would let the next tests' calls through uncounted for 5 seconds)."""
    monkeypatch.setattr(throttle, "cache_outage", throttle.CacheOutage())
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    monkeypatch.setattr(health, "_cache_logged_at", -health.CACHE_LOG_EVERY_SECONDS)
    return settings


@pytest.mark.django_db
def test_healthz_says_the_cache_is_degraded_and_the_shop_keeps_selling(
    client, unreachable_cache, caplog
):
    item = make_item(price="19.99", currency="USD")

    with caplog.at_level(logging.WARNING, logger="storefront.plumbing.health"):
        first = client.get("/healthz")
        second = client.get("/healthz")
    bought = client.get(f"/buy/{item.pk}")

    assert first.status_code == second.status_code == 200
    assert first.json() == {"status": "degraded", "database": "ok", "cache": "degraded"}
    # Probed every few seconds: said once a minute, not on every probe.
    warnings = [r for r in caplog.records if r.name == "storefront.plumbing.health"]
    assert len(warnings) == 1 and "ConnectionError" in warnings[0].getMessage()
    assert bought.status_code == 200 and bought.json()["url"]


# --- Two app processes on one Redis ----------------------------------------------------------


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def buy_from_both(tmp_path, **env_changes) -> list[int]:
    """CALLS calls of /buy/{id} from one address, alternating between two instances of the
    Procfile's web command (two gunicorn workers each), 6 at a time; their statuses."""
    item = make_item(price="19.99", currency="USD")
    ports = [free_port() for _ in range(INSTANCES)]
    with ExitStack() as stack:
        for port in ports:
            env = app_env(
                tmp_path,
                PORT=str(port),
                WEB_CONCURRENCY="2",
                GUNICORN_THREADS="2",
                SHOP_START_LIMIT=str(LIMIT),
                SHOP_START_WINDOW_SECONDS="600",
                STRIPE_SANDBOX_WEBHOOKS="off",
                **env_changes,
            )
            command = procfile()["web"].replace("0.0.0.0:$PORT", "127.0.0.1:$PORT")
            web = stack.enter_context(procfile_process("web", env, tmp_path, command=command))
            wait_until(lambda p=port: _serving(p), timeout=30, what=f"gunicorn:\n{web.output()}")
        targets = cycle(ports)
        calls = [next(targets) for _ in range(CALLS)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            return list(pool.map(lambda port: get(port, f"/buy/{item.pk}"), calls))


def _serving(port: int) -> bool:
    try:
        return get(port, "/healthz") == 200
    except OSError:
        return False


@POSTGRES_ONLY[0]
@POSTGRES_ONLY[1]
def test_two_app_processes_sharing_redis_let_exactly_the_limit_through(tmp_path):
    redis_or_skip()

    statuses = buy_from_both(tmp_path)

    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == CALLS - LIMIT


@POSTGRES_ONLY[0]
@POSTGRES_ONLY[1]
def test_without_redis_each_process_counts_on_its_own(tmp_path):
    """What the shared cache is for: counted per process, the same calls get past the limit
    once per process that answers them."""
    statuses = buy_from_both(tmp_path, REDIS_URL="")

    assert statuses.count(200) >= INSTANCES * LIMIT
