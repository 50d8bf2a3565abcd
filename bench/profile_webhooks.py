"""(7) cProfile of signed Stripe deliveries through Django's WSGI handler on PostgreSQL, with the
production-like settings the other scripts serve (DEBUG=0, the bench's middleware off): what a
distinct delivery (a receipt owed) and a duplicate spend their time on.

    .venv/bin/python -m bench.profile_webhooks [--app-dir [LABEL=]PATH ...] [--events 30]
        [--duplicates 200] [--top 25] [--no-record]

The events are made as `bench.webhooks` makes them (a /buy each, paid in the sandbox by a buyer
with an address). Each delivery is one call of `storefront.wsgi.application` with a WSGI
environ, as gunicorn makes one; the profile is printed and written to
`bench/profiles/webhook_<label>_<kind>.txt` (unless `--no-record`).
"""

import argparse
from pathlib import Path

from bench.target import add_arguments, targets, targets_drop

PROFILES = Path(__file__).resolve().parent / "profiles"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--duplicates", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile")
    args = parser.parse_args(argv)
    found = targets(args)
    try:
        for target in found:
            target.prepare(statics=False)
            answer = target.inner(
                "profile_webhooks", events=args.events, duplicates=args.duplicates, top=args.top
            )
            for kind, text in answer.items():
                print(f"== {target.label} {kind}\n{text}", flush=True)
                if not args.no_record:
                    (PROFILES / f"webhook_{target.label}_{kind}.txt").write_text(text)
    finally:
        targets_drop(found, args)


if __name__ == "__main__":
    main()
