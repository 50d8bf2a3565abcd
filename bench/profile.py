"""(7) cProfile of one path through Django's WSGI handler on PostgreSQL, with the
production-like settings the other scripts serve (DEBUG=0, the bench's middleware off): what
it spends its time on.

    .venv/bin/python -m bench.profile buy [--requests 40] [--app-dir [LABEL=]PATH ...]
        [--top 25] [--redis-url URL] [--no-record]
    .venv/bin/python -m bench.profile webhooks [--events 30] [--duplicates 200] ...

- `buy`: `GET /buy/{id}` from a new browser each time (a new one-line order and Checkout
  Session in the sandbox), after a few warm-up calls; then the SQL statements one more call
  sends, in order (those of the sandbox, Stripe's stand-in, marked). Written to
  `bench/profiles/buy_<label>.txt`.
- `webhooks`: signed Stripe deliveries, made as `bench.webhooks` makes them (a /buy each, paid
  in the sandbox by a buyer with an address): distinct ones (a receipt owed), then duplicates
  of the last. Written to `bench/profiles/webhook_<label>_<distinct|duplicate>.txt`.

`buy --redis-url URL` (or `$BENCH_REDIS_URL`) gives every checkout the shared cache a deployed
shop has (REDIS_URL): the item and taxes kept with the pages and the throttle's counts then
take part, as in production; the head line says which. The webhooks are profiled without it,
as bench.webhooks measures them: with it, their receipts would wait for a Celery worker.

Each request is one call of `storefront.wsgi.application` with a WSGI environ, as gunicorn
makes one. The profiles are printed, and written unless `--no-record`.
"""

import argparse
from pathlib import Path

from bench.target import add_arguments, add_redis_argument, redis_apply, targets, targets_drop

PROFILES = Path(__file__).resolve().parent / "profiles"


def _buy(target, args) -> dict[str, str]:
    answer = target.inner("profile_buy", requests=args.requests, top=args.top)
    return {f"buy_{target.label}": answer["buy"]}


def _webhooks(target, args) -> dict[str, str]:
    answer = target.inner(
        "profile_webhooks", events=args.events, duplicates=args.duplicates, top=args.top
    )
    return {f"webhook_{target.label}_{kind}": text for kind, text in answer.items()}


PATHS = {"buy": _buy, "webhooks": _webhooks}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", choices=PATHS, help="what to profile")
    add_arguments(parser)
    parser.add_argument("--requests", type=int, default=40, help="buy: calls profiled")
    parser.add_argument("--events", type=int, default=30, help="webhooks: distinct deliveries")
    parser.add_argument("--duplicates", type=int, default=200, help="webhooks: duplicates")
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile")
    add_redis_argument(parser)
    args = parser.parse_args(argv)
    found = targets(args)
    if args.path == "buy":
        redis_apply(args, found)
    try:
        for target in found:
            target.prepare(statics=False)
            for name, text in PATHS[args.path](target, args).items():
                print(f"== {name}\n{text}", flush=True)
                if not args.no_record:
                    (PROFILES / f"{name}.txt").write_text(text)
    finally:
        targets_drop(found, args)


if __name__ == "__main__":
    main()
