"""(8) Time of the admin's order change page at 1 line and at many, as a ratio in one run.

    .venv/bin/python -m bench.admin_order [--app-dir [LABEL=]PATH ...] [--lines 100]
        [--requests 20] [--status paid,open] [--no-record]

Per checkout and per order status (`--status`, comma-separated), two orders in that status, of
1 line and of `--lines` lines (USD, the demo order's discount and tax), each page fetched
`--requests` times, interleaved one by one after a few warm-up fetches, as a superuser through
Django's test client on PostgreSQL, in-process (no server, no network). Figures: the median and
p90 milliseconds per page at each size and the ratio of the medians (large ÷ small). The ratio is
the figure to compare; the milliseconds depend on the machine and its neighbours.
"""

import argparse
import statistics

from bench.record import percentiles
from bench.target import add_arguments, report_for, targets, targets_drop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--lines", type=int, default=100, help="lines of the large order")
    parser.add_argument("--requests", type=int, default=20, help="timed fetches per page")
    parser.add_argument("--status", default="paid,open", help="order statuses, comma-separated")
    args = parser.parse_args(argv)
    statuses = [status.strip() for status in args.status.split(",") if status.strip()]
    found = targets(args)
    for target in found:
        target.prepare()
    try:
        report = report_for("Admin order change page: 1 line vs many", args, found)
        report.setting(
            f"in-process (Django's test client), superuser, {args.requests} fetches per page, "
            f"interleaved, orders of 1 vs {args.lines} lines, statuses {', '.join(statuses)}"
        )
        for target in found:
            for status in statuses:
                timed = target.inner(
                    "admin_order", lines=args.lines, requests=args.requests, status=status
                )
                small, large = timed["ms"]["small"], timed["ms"]["large"]
                small_p50, large_p50 = statistics.median(small), statistics.median(large)
                report.figure(
                    f"{target.label} admin order change page ({status}), "
                    f"{timed['lines']['small']} vs {timed['lines']['large']} lines: ms median "
                    f"{small_p50:.1f} vs {large_p50:.1f}, p90 {percentiles(small, 90)[0]:.1f} vs "
                    f"{percentiles(large, 90)[0]:.1f}; ratio {large_p50 / small_p50:.2f} "
                    f"(HTTP {timed['statuses']['small']}/{timed['statuses']['large']})"
                )
        report.write()
    finally:
        targets_drop(found, args)


if __name__ == "__main__":
    main()
