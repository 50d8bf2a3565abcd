"""Each benchmark script runs end to end at a tiny size, so none of them rots.

Nothing here is timed or compared: a figure's line is looked for, not its value. The scripts
measure PostgreSQL under gunicorn, so they run in the PostgreSQL pass of `make test` (on the
same server, in the database bench_smoke) and skip in the SQLite pass.
"""

import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings

from storefront.tests.worker_tools import TEST_REDIS_URL, redis_or_skip

REPO = Path(__file__).resolve().parents[2]
SMALL_SERVER = ["--workers", "1", "--threads", "2", "--rounds", "1"]

SCRIPTS = {
    "stripe_requests": ([], "smoke stripe requests, next checkout, same discount and tax: 1"),
    "queries": (
        ["--small", "10,1,3", "--large", "12,2,4"],
        "smoke queries, catalogue / at 10 vs 12",
    ),
    "pages": (
        [*SMALL_SERVER, "--requests", "3", "--concurrency", "2", "--items", "10", "--lines", "1"],
        "smoke item: req/s",
    ),
    "buy": (
        [*SMALL_SERVER, "--requests", "3", "--trivial-requests", "3", "--warmup", "1"],
        "smoke /buy statements per",
    ),
    "webhooks": (
        [*SMALL_SERVER, "--events", "2", "--duplicates", "3", "--concurrency", "2"],
        "smoke duplicate: deliveries/s",
    ),
    "profile": (
        ["buy", "--requests", "2", "--top", "3"],
        "GET /buy/{id} from a new browser (a new one-line order, sandbox Stripe): 2 requests",
    ),
    "profile_webhooks": (
        ["--events", "1", "--duplicates", "2", "--top", "3"],
        "duplicate: 2 deliveries through storefront.wsgi's WSGI handler",
    ),
    "admin_order": (
        ["--lines", "2", "--requests", "1", "--status", "paid,open"],
        "smoke admin order change page (paid), 1 vs 2 lines: ms median",
    ),
    "bank": (
        [*SMALL_SERVER, "--operations", "3", "--concurrency", "2"],
        "smoke distinct operations: deliveries/s",
    ),
}


def postgres_server_url() -> str:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the benchmarks measure PostgreSQL: smoke-tested in the PostgreSQL pass")
    parts = dj_database_url.parse(
        f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/x"
    )
    return f"postgres://{parts['USER']}@{parts['HOST']}:{parts['PORT']}/"


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_at_a_tiny_size(script):
    options, expected = SCRIPTS[script]
    run_at_a_tiny_size(script, options, expected)


def test_the_webhooks_bench_runs_as_production_does_with_redis():
    """`--redis-url`: redeliveries counted in the shared cache, receipts queued (and then taken
    off the queue, which no worker reads)."""
    client = redis_or_skip()
    run_at_a_tiny_size(
        "webhooks",
        [*SCRIPTS["webhooks"][0], "--redis-url", TEST_REDIS_URL],
        "receipts queued for a worker not run here, not counted",
    )
    assert client.llen("celery") == 0


def run_at_a_tiny_size(script: str, options: list[str], expected: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            f"bench.{script}",
            "--app-dir",
            f"smoke={REPO}",
            "--no-record",
            *options,
        ],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "BENCH_POSTGRES_URL": postgres_server_url(),
            # The servers' fixed ports: the runner's own range where it names one.
            **({"BENCH_PORT": os.environ["BENCH_PORT"]} if "BENCH_PORT" in os.environ else {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert expected in result.stdout, result.stdout
