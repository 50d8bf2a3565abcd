"""(3) req/s and p50/p99 of `/`, `/item/{id}` and the order page against a trivial view
(`/bench/ok`, `HttpResponse("ok")`), served by gunicorn as the Procfile runs it, interleaved.

    .venv/bin/python -m bench.pages [--app-dir [LABEL=]PATH ...] [--requests 300] [--rounds 3]
        [--concurrency 8] [--workers 2] [--threads 4] [--items 50] [--lines 3]
        [--connection keepalive|fresh] [--port 8250] [--redis-url URL] [--no-record]

Each round measures, per checkout, the trivial view, `/`, an item, the order page (a first visit
with `?key=`, no cookie) and the trivial view again, one phase of `--requests` each; several
checkouts are interleaved within every round. Figures: min/median/max over the rounds of req/s,
p50, p99, the server's CPU per request, req/s as a ratio to the trivial view of the same round,
and the load generator's own CPU share per page. The generator shares the cores and spends most
while the trivial view is measured (the fastest phases send the most requests per second), so
the req/s ratios flatter the slower pages; the CPU-per-request figures are the ones to trust.
Also: the `django_session` rows the load added.

`--redis-url` (or `$BENCH_REDIS_URL`) gives every checkout the shared cache a deployed shop has
(REDIS_URL); the catalogue and item pages are kept only where there is one
(storefront.plumbing.page_cache), so without it they are rendered for every request, as on a site
without Redis.
"""

import argparse
import statistics
import time

import psycopg

from bench.load import Request, phase, spread, statuses_line
from bench.server import servers_start, terminate_on_sigterm
from bench.target import (
    add_arguments,
    add_redis_argument,
    redis_apply,
    report_for,
    targets,
    targets_drop,
)

MAX_SECONDS = 1800


def session_rows(target) -> int:
    with psycopg.connect(target.database_url) as db:
        return db.execute("SELECT count(*) FROM django_session").fetchone()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--requests", type=int, default=300, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--items", type=int, default=50, help="catalogue size")
    parser.add_argument("--lines", type=int, default=3, help="lines on the order page")
    parser.add_argument("--connection", choices=["keepalive", "fresh"], default="keepalive")
    parser.add_argument("--phase-seconds", type=float, default=60, help="time limit per phase")
    add_redis_argument(parser)
    args = parser.parse_args(argv)
    terminate_on_sigterm()
    found = targets(args)
    redis = redis_apply(args, found)
    shops = {}
    for target in found:
        target.prepare()
        shops[target.label] = target.inner("seed", items=args.items, order_lines=args.lines)
    report = report_for("Pages against the trivial view", args, found)
    report.setting(
        f"gunicorn {args.workers} workers × {args.threads} threads per checkout; "
        f"{args.requests} requests per phase from {args.concurrency} client threads "
        f"({args.connection} HTTP connections), {args.rounds} rounds, interleaved; "
        f"{args.items} catalogue items, {args.lines} order lines; {redis}"
    )
    keepalive = args.connection == "keepalive"
    deadline = time.monotonic() + MAX_SECONDS
    try:
        servers = {}
        with _servers(found, args, servers):
            sessions_before = {t.label: session_rows(t) for t in found}
            results: dict[tuple[str, str], list] = {}
            for _ in range(args.rounds):
                for target in found:
                    shop = shops[target.label]
                    pages = {
                        "trivial": "/bench/ok",
                        "/": "/",
                        "item": f"/item/{shop['item_id']}/",
                        "order": f"/order/{shop['order_id']}/?key={shop['order_key']}",
                        "trivial again": "/bench/ok",
                    }
                    for name, path in pages.items():
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"stopped after {MAX_SECONDS} s")
                        results.setdefault((target.label, name), []).append(
                            phase(
                                servers[target.label],
                                name,
                                lambda i, path=path: Request(path),
                                count=args.requests,
                                concurrency=args.concurrency,
                                keepalive=keepalive,
                                time_limit=args.phase_seconds,
                            )
                        )
            for target in found:
                _figures(report, target.label, results)
                report.figure(
                    f"{target.label} django_session rows added by the load: "
                    f"{session_rows(target) - sessions_before[target.label]}"
                )
        every = [one for phases in results.values() for one in phases]
        report.note(
            "the load generator shares the 2 cores: it used "
            f"{spread([one.client_share * 100 for one in every], 0)} % of one core per phase "
            "(min/median/max; per page above). It takes the most during the trivial view's "
            "phases, so it holds the floor's req/s down more than the pages': the req/s ratios "
            "flatter the pages. Server CPU per request is the figure it disturbs least"
        )
        report.write()
    finally:
        targets_drop(found, args)


def _servers(found, args, servers):
    """Start one gunicorn per checkout (all stopped at the end, whatever happens)."""
    import contextlib

    stack = contextlib.ExitStack()
    servers.update(servers_start(stack, found, args))
    return stack


def _figures(report, label: str, results: dict) -> None:
    trivial = [
        (a.rate + b.rate) / 2
        for a, b in zip(results[(label, "trivial")], results[(label, "trivial again")], strict=True)
    ]
    for name in ("trivial", "/", "item", "order"):
        phases = results[(label, name)]
        if name == "trivial":
            phases = phases + results[(label, "trivial again")]
        ratios = [one.rate / floor for one, floor in zip(phases, trivial, strict=False) if floor]
        report.figure(
            f"{label} {name}: req/s {spread([p.rate for p in phases])}, "
            f"p50 ms {spread([p.p50_ms for p in phases])}, "
            f"p99 ms {spread([p.p99_ms for p in phases])}, "
            f"server CPU ms/req {spread([p.server_ms_per_request for p in phases], 2)}"
            + (f", ratio to trivial {spread(ratios, 2)}" if name != "trivial" else "")
            + f", generator % of a core {spread([p.client_share * 100 for p in phases], 0)}"
            + f" [{statuses_line(phases)}]"
        )
    items = results[(label, "item")]
    item_ratio = statistics.median(p.rate / t for p, t in zip(items, trivial, strict=True) if t)
    report.figure(
        f"{label} trivial req/s per round (mean of its two phases): "
        f"{', '.join(f'{rate:.0f}' for rate in trivial)}; "
        f"median ratio /item ÷ trivial: {item_ratio:.2f}"
    )


if __name__ == "__main__":
    main()
