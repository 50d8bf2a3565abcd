"""(4) `/buy/{id}`: the app's time and CPU outside the Stripe call, and the statements it sends
to the database.

    .venv/bin/python -m bench.buy [--app-dir [LABEL=]PATH ...] [--requests 200] [--rounds 3]
        [--trivial-requests 1000] [--concurrency 1] [--workers 2] [--threads 4] [--port 8250]
        [--redis-url URL] [--no-record]

gunicorn runs with SERVER_TIMING=1 (`Server-Timing: app;dur=..., provider;dur=...`, the provider
part timed around the Stripe client's calls) and BENCH_STATEMENTS=1 (bench.middleware counts
every statement, transaction control included, split into the shop's and those sent while the
Stripe call was under way: the sandbox keeps its state in the same database). Every request is a
new browser buying one item (a new one-line order and Checkout Session, one Stripe request); a
few first requests warm the account up (its tax rate is made then) and are not counted. Each
round first measures the trivial view (`/bench/ok`) on the same server, and the /buy figures
are given as multiples of its server CPU per request (F): the app's time outside the Stripe call
(wall time, inside the request: on a loaded machine much of it is waiting for a core or for
PostgreSQL), and the server's CPU per /buy outside the Stripe call (the figure F is measured
like: the server's CPU per request, less what the request's thread spent inside Stripe calls,
BENCH_PROVIDER_CPU=1). The kernel counts a process's CPU in 10 ms ticks, so the trivial phase is
long enough (`--trivial-requests`, 1000 by default: over a second of server CPU) for F to be
steady to a few per cent. `--redis-url` (or `$BENCH_REDIS_URL`) gives every checkout the shared
cache a deployed shop has: the taxes for new orders are then kept with the pages
(storefront.plumbing.page_cache) rather than read by every /buy.
"""

import argparse
import contextlib
import statistics
import time

from bench.load import Request, phase, spread, statuses_line
from bench.record import percentiles
from bench.server import servers_start, terminate_on_sigterm
from bench.target import (
    add_arguments,
    add_redis_argument,
    redis_apply,
    report_for,
    targets,
    targets_drop,
)

MAX_SECONDS = 1200
MEASURE_ENV = {"SERVER_TIMING": "1", "BENCH_STATEMENTS": "1", "BENCH_PROVIDER_CPU": "1"}


def timings(header: str) -> dict[str, float]:
    """`app;dur=12.34, provider;dur=5.67` → {"app": 12.34, "provider": 5.67}."""
    found = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            found[name] = float(duration)
    return found


def statements(header: str) -> dict[str, int]:
    return {k: int(v) for k, _, v in (p.partition("=") for p in header.split(";") if p)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--requests", type=int, default=200, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--trivial-requests", type=int, default=1000, help="per round, to measure F"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=5)
    add_redis_argument(parser)
    args = parser.parse_args(argv)
    terminate_on_sigterm()
    found = targets(args)
    redis = redis_apply(args, found)
    shops = {}
    for target in found:
        target.prepare()
        shops[target.label] = target.inner("seed", items=50, order_lines=1)
    report = report_for("/buy/{id}: app time outside the Stripe call", args, found, **MEASURE_ENV)
    report.setting(
        f"gunicorn {args.workers} workers × {args.threads} threads, SERVER_TIMING=1, "
        f"BENCH_STATEMENTS=1; {args.requests} requests × {args.rounds} rounds "
        f"({args.trivial_requests} of the trivial view before each) from "
        f"{args.concurrency} client thread(s), interleaved, after {args.warmup} warm-up requests; "
        f"{redis}"
    )
    deadline = time.monotonic() + MAX_SECONDS
    try:
        with contextlib.ExitStack() as stack:
            servers = servers_start(stack, found, args, **MEASURE_ENV)
            results: dict[str, list] = {t.label: [] for t in found}
            floors: dict[str, list] = {t.label: [] for t in found}
            for target in found:
                path = f"/buy/{shops[target.label]['item_id']}/"
                phase(
                    servers[target.label],
                    "warm-up",
                    lambda i, p=path: Request(p),
                    count=args.warmup,
                    concurrency=1,
                )
            for _ in range(args.rounds):
                for target in found:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"stopped after {MAX_SECONDS} s")
                    path = f"/buy/{shops[target.label]['item_id']}/"
                    floors[target.label].append(
                        phase(
                            servers[target.label],
                            "trivial",
                            lambda i: Request("/bench/ok"),
                            count=args.trivial_requests,
                            concurrency=args.concurrency,
                            time_limit=300,
                        )
                    )
                    results[target.label].append(
                        phase(
                            servers[target.label],
                            "buy",
                            lambda i, p=path: Request(p),
                            count=args.requests,
                            concurrency=args.concurrency,
                            time_limit=300,
                            keep_headers=(
                                "Server-Timing",
                                "X-Bench-Statements",
                                "X-Bench-Provider-CPU",
                            ),
                        )
                    )
            for target in found:
                _figures(report, target.label, results[target.label], floors[target.label])
        report.write()
    finally:
        targets_drop(found, args)


def _figures(report, label: str, phases: list, floors: list) -> None:
    outside, provider, counted = [], [], []
    per_round = []
    for one in phases:
        round_outside = []
        for headers in one.headers:
            timing = timings(headers["Server-Timing"])
            if "app" in timing:
                round_outside.append(timing["app"] - timing.get("provider", 0.0))
                provider.append(timing.get("provider", 0.0))
            if headers["X-Bench-Statements"]:
                counted.append(statements(headers["X-Bench-Statements"]))
        outside += round_outside
        per_round.append(statistics.median(round_outside) if round_outside else 0.0)
    p50, p90 = percentiles(outside, 50, 90)
    floor = statistics.median(one.server_ms_per_request for one in floors)
    floor_cpu = [one.server_ms_per_request for one in floors]
    report.figure(f"{label} trivial view server CPU ms/req (F) {spread(floor_cpu, 2)}")
    report.figure(
        f"{label} /buy app ms outside the Stripe call: median {p50:.1f}"
        + (f" = {p50 / floor:.1f} F" if floor else "")
        + f", p90 {p90:.1f} "
        f"(round medians {spread(per_round)}); Stripe call ms median "
        f"{percentiles(provider, 50)[0]:.1f} [{statuses_line(phases)}]"
    )
    cpu_outside = _cpu_outside(phases)
    if cpu_outside:
        middle = statistics.median(cpu_outside)
        report.figure(
            f"{label} /buy server CPU ms/req outside the Stripe call: {spread(cpu_outside, 2)}"
            + (f" = {middle / floor:.1f} F" if floor else "")
            + " (the server's CPU per request less its thread's CPU inside Stripe calls)"
        )
    if counted:
        typical = {k: statistics.median(c[k] for c in counted) for k in counted[0]}
        report.figure(
            f"{label} /buy statements per request (median): shop {typical['app']:.0f} queries "
            f"+ {typical['app_tx']:.0f} BEGIN/COMMIT/SAVEPOINT/RELEASE; during the Stripe call "
            f"(sandbox) {typical['provider']:.0f} + {typical['provider_tx']:.0f}"
        )
    report.figure(
        f"{label} /buy req/s {spread([p.rate for p in phases])}, p99 ms "
        f"{spread([p.p99_ms for p in phases])}, server CPU ms/req "
        f"{spread([p.server_ms_per_request for p in phases], 2)}"
    )


def _cpu_outside(phases: list) -> list[float]:
    """Per round: the server's CPU per request (all its processes, as F is measured) less the
    mean CPU a request's thread spent inside Stripe calls (the sandbox's work); [] where the
    app does not say (X-Bench-Provider-CPU)."""
    found = []
    for one in phases:
        spent = [float(h["X-Bench-Provider-CPU"]) for h in one.headers if h["X-Bench-Provider-CPU"]]
        if spent and len(spent) == len(one.headers):
            found.append(one.server_ms_per_request - statistics.mean(spent))
    return found


if __name__ == "__main__":
    main()
