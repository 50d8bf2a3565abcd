"""Paying an order: the order as the payment layer's plain value (`Payable`, priced from our
database at the catalogue's current prices), starting its payment on a rail, buying one item now
(a one-line order of its own), and the rails' preparation of our discounts and taxes.
"""

from collections.abc import Mapping, Sequence

from payments.services import payment_start, rails_prepare
from payments.values import DiscountTerms, Method, Payable, PayableLine, PaymentStart, TaxTerms
from sitewide.transactions import atomic_retried
from storefront.models import PAYMENT_KIND, Discount, Item, Order, OrderLine, Tax
from storefront.plumbing.page_cache import kept_values_written
from storefront.shop.orders import OrderError, item_still_sold, locked_open, order_new
from storefront.shop.pricing import order_totals


def discount_terms(discount: Discount) -> DiscountTerms:
    """Our Discount as the payment layer's plain value."""
    return DiscountTerms(
        key=f"discount:{discount.pk}",
        name=discount.name,
        percent_off=discount.percent_off,
        amount_off=discount.amount_off,
        duration=discount.duration,
        duration_in_months=discount.duration_in_months,
    )


def tax_terms(tax: Tax) -> TaxTerms:
    """Our Tax as the payment layer's plain value."""
    return TaxTerms(
        key=f"tax:{tax.pk}",
        display_name=tax.display_name,
        percentage=tax.percentage,
        inclusive=tax.inclusive,
        jurisdiction=tax.jurisdiction,
        description=tax.description,
    )


def payment_rails_prepare() -> list[str]:
    """Have every rail make now what checkouts will need (Stripe: every active Discount as a
    coupon and every Tax as a tax rate, on every account); return what was done."""
    return rails_prepare(
        discounts=[discount_terms(d) for d in Discount.objects.filter(active=True)],
        taxes=[tax_terms(t) for t in Tax.objects.all()],
    )


def order_priced(order: Order, *, total: int) -> None:
    """Remember that `order` costs `total` minor units, as priced just now for a payment: in
    the transaction that priced it, after its last change (the database clears it again at the
    next one: Order.priced_total). Fulfilment then compares the payment with it."""
    Order.objects.filter(pk=order.pk).update(priced_total=total)
    order.priced_total = total


def _reprice(order: Order) -> tuple[Order, list[OrderLine], list[Tax]]:
    """Copy the catalogue's current prices into the open order's lines, under a lock, drop
    a discount the merchant has since withdrawn (telling the buyer, who sees the new total
    before paying it), and remember the total (order_priced). Returns the order, its lines,
    each with its item, and its taxes."""
    order, lines, taxes, withdrawn = _repriced(order)
    if withdrawn is not None:
        raise OrderError(
            f"The discount “{withdrawn.name}” no longer applies, so it was taken off your "
            "order. Please check the new total and pay again."
        )
    return order, lines, taxes


@atomic_retried
def _repriced(order: Order) -> tuple[Order, list[OrderLine], list[Tax], Discount | None]:
    """_reprice's transaction: what it returns, and the discount it dropped, if any (the
    change committed before the buyer is told)."""
    order = locked_open(order)
    lines = list(order.lines.select_related("item"))
    if not lines:
        raise OrderError("Your order is empty.")
    for line in lines:
        if line.item.currency != order.currency:
            raise OrderError(f"{line.item.name} is no longer sold in {order.currency}.")
        if line.unit_price != line.item.price:
            line.unit_price = line.item.price
            line.save(update_fields=["unit_price"])
    taxes: list[Tax] = []
    withdrawn = order.discount if order.discount and not order.discount.active else None
    if withdrawn is not None:
        order.discount = None
        order.save(update_fields=["discount", "updated"])
    else:
        taxes = list(order.taxes.all())
        order_priced(order, total=order_totals(order, lines=lines, taxes=taxes).total)
    return order, lines, taxes, withdrawn


def order_payable(
    order: Order,
    *,
    options: Mapping[str, str] | None = None,
    lines: Sequence[OrderLine] | None = None,
    taxes: Sequence[Tax] | None = None,
) -> Payable:
    """The order as the payment layer's plain value, priced from our database; `options` are
    the buyer's choices among the rail's own options, passed through unread. `lines` (each
    with its item) and `taxes`, where the caller holds them already, are not read again."""
    lines = list(order.lines.select_related("item")) if lines is None else lines
    taxes = list(order.taxes.all()) if taxes is None else taxes
    return Payable(
        reference=order.payment_reference,
        currency=order.currency,
        total=order_totals(order, lines=lines, taxes=taxes).total,
        description=f"Order #{order.pk}",
        lines=tuple(
            PayableLine(
                name=line.item.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                description=line.item.description,
            )
            for line in lines
        ),
        discount=discount_terms(order.discount) if order.discount else None,
        taxes=tuple(tax_terms(tax) for tax in taxes),
        metadata={"kind": PAYMENT_KIND, "order_id": str(order.pk)},
        options=dict(options or {}),
        email=order.email,
    )


def order_payment_start(
    *,
    order: Order,
    rail: str,
    method: Method,
    return_url: str,
    cancel_url: str,
    options: Mapping[str, str] | None = None,
) -> PaymentStart:
    """Start paying the whole order on `rail`, at the catalogue's current prices.

    Raises OrderError (the order cannot be paid) or PaymentError (the provider could not be
    asked).
    """
    order, lines, taxes = _reprice(order)
    return payment_start(
        rail=rail,
        method=method,
        payable=order_payable(order, options=options, lines=lines, taxes=taxes),
        return_url=return_url,
        cancel_url=cancel_url,
    )


def _buy_now_order(*, item: Item) -> tuple[Order, list[Tax], OrderLine]:
    """A new one-line order of `item`, with its taxes and its line: priced as it is made
    (orders.order_new), so neither read again nor re-priced before it is paid. `item` and the
    taxes may be what the pages keep: made again from fresh rows where one was deleted since
    (page_cache.kept_values_written), refused (OrderError) where the item is gone."""
    return kept_values_written(
        lambda: _buy_now_order_made(item=item),
        again=lambda: _buy_now_order_made(item=item_still_sold(item)),
    )


@atomic_retried
def _buy_now_order_made(*, item: Item) -> tuple[Order, list[Tax], OrderLine]:
    line = OrderLine(item=item, quantity=1, unit_price=item.price)
    order, taxes = order_new(currency=item.currency, line=line)
    return order, taxes, line


def item_payment_start(
    *,
    item: Item,
    rail: str,
    method: Method,
    return_url: str,
    cancel_url: str,
    options: Mapping[str, str] | None = None,
    earlier: Order | None = None,
) -> tuple[Order, PaymentStart]:
    """Buy one `item` now: a one-line order of its own, paid on `rail`.

    `earlier` is the order this browser made the last time it bought this item now: while it
    is still open and still just this one item, it is paid again (and the provider's page
    already open for it is reused) rather than a new order made at every click. Should the
    start fail, an order made for it is removed again: nothing half-made stays.
    """
    order = earlier if earlier is not None and _is_buy_now_of(earlier, item) else None
    made = order is None
    if made:
        order, taxes, line = _buy_now_order(item=item)
    try:
        if made:
            start = payment_start(
                rail=rail,
                method=method,
                payable=order_payable(order, options=options, lines=[line], taxes=taxes),
                return_url=return_url,
                cancel_url=cancel_url,
                new=True,  # the order was made just now: nothing to reuse
            )
        else:
            start = order_payment_start(
                order=order,
                rail=rail,
                method=method,
                return_url=return_url,
                cancel_url=cancel_url,
                options=options,
            )
    except Exception:
        # A refusal, and just as much a rail's own bug (issue 20: a PaymentError misused as a
        # TypeError): the order made for this click never outlives it.
        if made:
            order.delete()
        raise
    return order, start


def item_payment_prepare(
    *,
    item: Item,
    rail: str,
    method: Method,
    return_url: str,
    cancel_url: str,
    earlier: Order | None = None,
) -> Order:
    """Make one `item` ready to be paid now on a page of our own: the order whose pay page the
    buyer goes to.

    `earlier` (this browser's last order to buy this item now), while still open and still
    just this item, is that order: its pay page reuses the payment already started, and the
    provider is not asked here. Otherwise a new one-line order, with its payment started on
    `rail` now (item_payment_start), so that a provider's refusal leaves no order behind.
    Raises OrderError or PaymentError.
    """
    if earlier is not None and _is_buy_now_of(earlier, item):
        return earlier
    order, _ = item_payment_start(
        item=item, rail=rail, method=method, return_url=return_url, cancel_url=cancel_url
    )
    return order


def _is_buy_now_of(order: Order, item: Item) -> bool:
    """Whether `order` is still an open order of exactly one `item`."""
    lines = list(order.lines.values_list("item_id", "quantity")[:2])
    return order.is_open and order.currency == item.currency and lines == [(item.pk, 1)]
