"""(2) SQL queries per page at two sizes each, on PostgreSQL, counted in-process.

    .venv/bin/python -m bench.queries [--app-dir [LABEL=]PATH ...]
        [--small 10,1,20] [--large 1000,50,200] [--no-record]

Sizes are catalogue items, order lines and orders: the catalogue (`/`) at 10 and 1,000 items,
the order page (`/order/{id}/?key=`, a first visit) at 1 and 50 lines, the admin's order list at
20 and 200 orders, and its order change page at 1 and 50 lines. The item page is counted too.
Counted with Django's CaptureQueriesContext: queries, not BEGIN/COMMIT/SAVEPOINT.
"""

import argparse

from bench.target import add_arguments, report_for, targets, targets_drop

PAGES = {
    "catalogue": ("catalogue /", "items"),
    "item": ("item page", None),
    "order": ("order page (?key=, first visit)", "lines"),
    "admin_order_list": ("admin order list", "orders"),
    "admin_order_change": ("admin order change page", "lines"),
}


def sizes(text: str) -> dict:
    items, lines, orders = (int(part) for part in text.split(","))
    return {"items": items, "lines": lines, "orders": orders}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--small", type=sizes, default=sizes("10,1,20"), help="items,lines,orders")
    parser.add_argument(
        "--large", type=sizes, default=sizes("1000,50,200"), help="items,lines,orders"
    )
    args = parser.parse_args(argv)
    found = targets(args)
    for target in found:
        target.prepare()
    try:
        report = report_for("SQL queries per page", args, found)
        report.setting(
            f"sizes (items, order lines, orders): small {args.small}, large {args.large}"
        )
        for target in found:
            counted = target.inner("queries", small=args.small, large=args.large)
            small, large = counted["small"], counted["large"]
            for page, (words, size) in PAGES.items():
                at = f" at {small['sizes'][size]} vs {large['sizes'][size]} {size}" if size else ""
                report.figure(
                    f"{target.label} queries, {words}{at}: {small[page]['queries']} vs "
                    f"{large[page]['queries']} (HTTP {small[page]['status']}/"
                    f"{large[page]['status']})"
                )
        report.write()
    finally:
        targets_drop(found, args)


if __name__ == "__main__":
    main()
