"""Orders as CSV for a spreadsheet: one row per order line, streamed.

The figures are what the order was charged: `storefront.shop.pricing` in minor units, turned into
decimals with the currency's own number of places (`currencies.minor_units`): USD and EUR
`19.99`, JPY `1500`. The file is UTF-8 with a byte-order mark, which is what makes Excel read
it as UTF-8 ("€", accented item names); other spreadsheets ignore the mark.

Columns (the header never changes order; new columns would go at the end):

- `discount` and `tax` are this line's share, so each column sums to the order's discount and
  tax. `tax` counts every rate; an inclusive one (VAT) is already in the price.
- `line_total` = `unit_price` × `quantity` − `discount` + the line's exclusive tax: what the
  line adds to the order's total, so the lines of an order sum to `order_total`.
- `order_total` is the order's, repeated on each of its lines.
- `payment_id` is the PaymentIntent (or Checkout Session) of the payment that paid the order.
- `refunded` is what was given back on the order so far (repeated on each line); `state` is
  `open`, `cancelled`, `paid`, `partly_refunded` or `refunded` (`storefront.shop.settlement`).
- `email` is the buyer's address for receipts (given on the order page, or collected by the
  payment provider), or empty.

Text that a spreadsheet would run as a formula (a cell starting with `=`, `+`, `-`, `@`, a tab or
a carriage return: OWASP's "CSV injection" rule) is written with a leading `'`, which the
spreadsheet shows as text: an item named `=HYPERLINK(...)` stays a name.
"""

import csv
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db.models import Prefetch, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from currencies.minor_units import from_minor_units, to_minor_units
from payments.services import paying_payments
from storefront.models import Order, OrderLine
from storefront.shop.pricing import order_totals
from storefront.shop.settlement import Settlement, settlement, settlements

HEADER = [
    "order_id",
    "date",
    "status",
    "currency",
    "item",
    "quantity",
    "unit_price",
    "line_total",
    "discount",
    "tax",
    "order_total",
    "payment_id",
    "refunded",
    "state",
    "email",
]
BOM = "\ufeff"
# Orders read from the database at a time: memory stays flat however many are exported.
BATCH = 200


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """`value` as a cell a spreadsheet shows and never evaluates."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _decimal(minor: int, currency: str) -> str:
    return f"{from_minor_units(minor, currency):f}"


def payments_by_order(orders: Iterable[Order]) -> dict[int, object]:
    """The payment that paid each order, by order id (one query for all of them; the payment
    layer says which: `payments.services.paying_payments`)."""
    by_reference = {order.payment_reference: order.pk for order in orders}
    paying = paying_payments(list(by_reference))
    return {by_reference[reference]: payment for reference, payment in paying.items()}


def order_rows(order: Order, payment, found: Settlement | None = None) -> Iterator[list[str]]:
    """The CSV rows of one order (its lines and taxes prefetched); `payment` is the one that
    paid it (`payments_by_order`), or None."""
    found = found or settlement(order, None)
    currency = order.currency
    totals = order_totals(order)
    order_total = _decimal(totals.total, currency)
    payment_id = ""
    if payment is not None:
        payment_id = text_cell(payment.provider_id)
    date = timezone.localtime(order.created).strftime("%Y-%m-%d %H:%M:%S")
    for line, priced in zip(order.lines.all(), totals.lines, strict=True):
        yield [
            str(order.pk),
            date,
            order.status,
            currency,
            text_cell(line.item.name),
            str(line.quantity),
            _decimal(to_minor_units(line.unit_price.amount, currency), currency),
            _decimal(priced.total, currency),
            _decimal(priced.discount, currency),
            _decimal(priced.tax, currency),
            order_total,
            payment_id,
            _decimal(found.refunded, currency),
            found.state,
            text_cell(order.email),
        ]


def orders_for_export(orders: QuerySet) -> QuerySet:
    return (
        orders.select_related("discount")
        .prefetch_related(None)  # whatever the caller prefetched, this is what the rows need
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("item")), "taxes"
        )
        .order_by("pk")
    )


def csv_rows(orders: QuerySet) -> Iterator[list[str]]:
    """The header, then every line of `orders`, oldest order first."""
    yield HEADER
    iterator = orders_for_export(orders).iterator(chunk_size=BATCH)
    while batch := list(islice(iterator, BATCH)):
        payments = payments_by_order(batch)
        states = settlements(batch)
        for order in batch:
            yield from order_rows(order, payments.get(order.pk), states[order.pk])


class _Echo:
    """A file-like object whose `write` returns what it is given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def orders_csv_response(orders: QuerySet, *, filename: str | None = None) -> StreamingHttpResponse:
    """Stream `orders` as a CSV download (UTF-8 with BOM), built as it is sent."""
    writer = csv.writer(_Echo())

    def content() -> Iterator[str]:
        yield BOM
        for row in csv_rows(orders):
            yield writer.writerow(row)

    if filename is None:
        filename = f"orders-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(
        content(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
