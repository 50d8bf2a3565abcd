"""(5) Signed `checkout.session.completed` deliveries per second to
`/payments/webhooks/stripe/usd/`: distinct events (each pays its own pending order) and
duplicates of one event; (6) with `--bank`, the bank's `POST /api/webhook/bank/` with distinct
operations.

    .venv/bin/python -m bench.webhooks [--app-dir [LABEL=]PATH ...] [--events 200]
        [--duplicates 400] [--rounds 3] [--concurrency 8] [--workers 2] [--threads 4]
        [--port 8250] [--redis-url URL] [--no-record]
    .venv/bin/python -m bench.webhooks --bank [--operations 400] ...

Stripe: the pending payments are made beforehand inside the app (a /buy each from a new
browser, then paid in the sandbox by a buyer giving an e-mail address, with its events
recorded, not sent), so each distinct delivery owes a receipt: with no broker configured the
shop sends it in the request after commit (console mail backend), and its PDF and mail cost are
in the server CPU figures; each delivery is signed
afresh as Stripe signs (`Stripe-Signature: t=...,v1=...` with the account's webhook secret).
Every round also measures the trivial view (`/bench/ok`) on the same server first: each
delivery's server CPU is also given as a multiple of it (F), and its req/s as a ratio to it.
Bank: operations from 20 organisations (valid INNs), signed `X-Bank-Signature` with the sandbox
bank's secret. Rounds interleave the checkouts; each round uses events of its own.

`--redis-url URL` (or `$BENCH_REDIS_URL`) runs the shop as production does, with Redis as its
shared cache and Celery broker: a redelivery is counted in the cache, and a paying delivery
queues its receipt for a worker, which the bench does not run. The figures are then the
paying part alone, what the web process spends; the receipts' cost is not in them (the head
says so). The receipts left queued are taken off the broker's queue after the run.
"""

import argparse
import contextlib
import json
import statistics
import time
import uuid

import redis

from bench.load import Request, phase, spread, statuses_line, stripe_signature
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
MEASURE_ENV = {"BENCH_STATEMENTS": "1"}
BANK_SECRET = "bank_sandbox_secret"  # noqa: S105 (payments.bank_transfer.config.SANDBOX_SECRET)
STRIPE_PATH = "/payments/webhooks/stripe/usd/"
BANK_PATH = "/api/webhook/bank/"


def inn(n: int) -> str:
    """A valid 10-digit organisation INN (its check digit computed)."""
    digits = [int(c) for c in f"77{n:07d}"]
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def stripe_delivery(event: dict) -> Request:
    body = event["body"].encode()
    return Request(
        STRIPE_PATH,
        "POST",
        body,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_signature(body, event["secret"]),
        },
    )


def bank_delivery(index: int) -> Request:
    body = json.dumps(
        {
            "operation_id": str(uuid.uuid4()),
            "amount": 1000 + index,
            "payer_inn": inn(1 + index % 20),
            "document_number": f"PAY-{index}",
            "document_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "currency": "RUB",
        }
    ).encode()
    headers = {"Content-Type": "application/json", "X-Bank-Signature": ""}
    headers["X-Bank-Signature"] = stripe_signature(body, BANK_SECRET)
    return Request(BANK_PATH, "POST", body, headers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--bank", action="store_true", help="the bank's webhook instead")
    parser.add_argument("--events", type=int, default=200, help="distinct events per round")
    parser.add_argument("--duplicates", type=int, default=400, help="per round")
    parser.add_argument("--operations", type=int, default=400, help="bank operations per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    add_redis_argument(parser)
    args = parser.parse_args(argv)
    terminate_on_sigterm()
    found = targets(args)
    redis_words = redis_apply(args, found)
    if args.redis_url:
        redis_words += " (cache and broker: receipts queued for a worker not run here, not counted)"
    events = {}
    for target in found:
        target.prepare()
        if not args.bank:
            made = target.inner("webhook_events", count=args.rounds * args.events + 1)
            events[target.label] = made["events"]
    title = "Bank webhook operations/s" if args.bank else "Stripe webhook deliveries/s"
    report = report_for(title, args, found, **MEASURE_ENV)
    per_round = (
        f"{args.operations} distinct operations"
        if args.bank
        else f"{args.events} distinct events and {args.duplicates} duplicates"
    )
    report.setting(
        f"gunicorn {args.workers} workers × {args.threads} threads, BENCH_STATEMENTS=1; "
        f"per round {per_round}, {args.concurrency} client threads (keep-alive), "
        f"{args.rounds} rounds, interleaved; {redis_words}"
    )
    deadline = time.monotonic() + MAX_SECONDS
    try:
        with contextlib.ExitStack() as stack:
            servers = servers_start(stack, found, args, **MEASURE_ENV)
            results: dict[tuple[str, str], list] = {}
            if not args.bank:
                for target in found:  # the event every duplicate repeats, delivered once first
                    once = events[target.label][-1]
                    phase(
                        servers[target.label],
                        "first",
                        lambda i, e=once: stripe_delivery(e),
                        count=1,
                        concurrency=1,
                    )
            for number in range(args.rounds):
                for target in found:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"stopped after {MAX_SECONDS} s")
                    server = servers[target.label]
                    common = {
                        "concurrency": args.concurrency,
                        "time_limit": 300,
                        "keep_headers": ("X-Bench-Statements",),
                    }
                    # The floor every delivery is a multiple of (F): the trivial view, in
                    # the same round on the same server.
                    trivial = (lambda i: Request("/bench/ok"), args.duplicates)
                    if args.bank:
                        kinds = {
                            "trivial": trivial,
                            "distinct operations": (bank_delivery, args.operations),
                        }
                    else:
                        mine = events[target.label][number * args.events :][: args.events]
                        dup = events[target.label][-1]
                        kinds = {
                            "trivial": trivial,
                            "distinct": (lambda i, m=mine: stripe_delivery(m[i]), args.events),
                            "duplicate": (lambda i, d=dup: stripe_delivery(d), args.duplicates),
                        }
                    for kind, (request_for, count) in kinds.items():
                        results.setdefault((target.label, kind), []).append(
                            phase(server, kind, request_for, count=count, **common)
                        )
            for (label, kind), phases in results.items():
                floors = [one.server_ms_per_request for one in results[(label, "trivial")]]
                in_f = [
                    one.server_ms_per_request / floor
                    for one, floor in zip(phases, floors, strict=True)
                    if floor
                ]
                trivial_rates = [one.rate for one in results[(label, "trivial")]]
                rates = [
                    one.rate / floor
                    for one, floor in zip(phases, trivial_rates, strict=True)
                    if floor
                ]
                counted = [
                    sum(int(v) for _, _, v in (p.partition("=") for p in h.split(";") if p))
                    for one in phases
                    for h in (x["X-Bench-Statements"] for x in one.headers)
                    if h
                ]
                report.figure(
                    f"{label} {kind}: deliveries/s {spread([p.rate for p in phases])}, "
                    f"p50 ms {spread([p.p50_ms for p in phases])}, "
                    f"p99 ms {spread([p.p99_ms for p in phases])}, "
                    f"server CPU ms/delivery {spread([p.server_ms_per_request for p in phases], 2)}"
                    + (f" = {spread(in_f, 2)} F" if kind != "trivial" else " (F)")
                    + f", req/s ÷ trivial {spread(rates, 2)}"
                    f", statements per delivery (median, BEGIN/COMMIT/SAVEPOINT included) "
                    f"{statistics.median(counted) if counted else 'n/a'} [{statuses_line(phases)}]"
                )
        report.write()
    finally:
        targets_drop(found, args)
        if args.redis_url:
            _queued_receipts_drop(args.redis_url)


def _queued_receipts_drop(redis_url: str) -> None:
    """Take the receipts the run queued off Celery's default queue (a list of that name in the
    broker's database): no worker will take them."""
    redis.Redis.from_url(redis_url).delete("celery")


if __name__ == "__main__":
    main()
