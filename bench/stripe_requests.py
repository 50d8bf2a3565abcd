"""(1) Stripe requests per checkout, counted as the sandbox's request records around each /buy.

    .venv/bin/python -m bench.stripe_requests [--app-dir [LABEL=]PATH ...] [--no-record]

Cold: the first checkout on an account, with a discount code and a tax (its coupon and tax rate
are made then). Warm: the next order with the same ones. Also a one-item /buy, and the same
browser asking for the same order again (its open session is reused: no request).
"""

import argparse

from bench.target import add_arguments, report_for, targets, targets_drop

CASES = {
    "cold_order": "first checkout on the account (order, WELCOME10, sales tax)",
    "warm_order": "next checkout, same discount and tax",
    "warm_item": "/buy/{item}, warm",
    "again_same_browser": "same browser, same order again",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    found = targets(args)
    for target in found:
        target.prepare()
    try:
        report = report_for("Stripe requests per checkout", args, found)
        report.setting("in-process (Django's test client), sandbox for USD, production settings")
        for target in found:
            counted = target.inner("stripe_requests")
            for case, words in CASES.items():
                result = counted[case]
                report.figure(
                    f"{target.label} stripe requests, {words}: {result['requests']}"
                    f" (HTTP {result['status']})"
                )
        report.write()
    finally:
        targets_drop(found, args)


if __name__ == "__main__":
    main()
