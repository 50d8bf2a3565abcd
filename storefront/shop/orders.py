"""Orders as a buyer changes them: made, items added, quantities, lines, the discount code,
the receipt's address, emptied; and the open orders nobody touched, cancelled.

Views validate input and call one of these; these hold the rules (one currency per order,
quantities within bounds, nothing changes once paid). Paying an order is
storefront.shop.order_payment; what a succeeded payment does to it,
storefront.shop.order_fulfilment.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from payments.services import payments_close, references_being_paid
from sitewide.transactions import atomic_retried
from storefront.models import MAX_QUANTITY, Discount, Item, Order, OrderLine, Tax
from storefront.plumbing.page_cache import kept_values_written, shop_value
from storefront.plumbing.row_locks import locked
from storefront.shop.pricing import order_totals


class OrderError(Exception):
    """An order cannot be changed or paid as asked; `message` is for the buyer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise OrderError("The quantity must be a whole number.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise OrderError(f"The quantity must be between 1 and {MAX_QUANTITY}.")


def _payments_close(order: Order) -> None:
    """The order is about to change: a payment pending for it stands for the old total, so
    it is closed (a bank transfer quoting its reference then only credits the payer). Called
    before the order is locked, the order a paying notification takes its locks in."""
    payments_close(references=[order.payment_reference], reason=f"order #{order.pk} changed")


def locked_open(order: Order) -> Order:
    """Re-read `order` under a row lock (its own row; its discount read along) and refuse if
    it can no longer change."""
    order = locked(Order.objects.filter(pk=order.pk), related=("discount",)).get()
    if not order.is_open:
        raise OrderError(
            f"Order #{order.pk} is {order.get_status_display().lower()}: it can no longer change."
        )
    return order


def _changing(order: Order) -> Order:
    """`order`, about to change: its pending payment closed (_payments_close), then the order
    re-read under its row lock, refused if it can no longer change (locked_open)."""
    _payments_close(order)
    return locked_open(order)


def taxes_for_new_orders(*, currency: str) -> list[Tax]:
    """The taxes the merchant applies to every new order in `currency`: kept with the pages
    that show them (a /buy then reads no tax; page_cache.shop_value), so an admin's change
    applies to new orders as it shows on the pages."""
    return shop_value(
        ("taxes-for-new-orders", currency),
        lambda: list(Tax.objects.filter(applies_to_new_orders=True, currency=currency)),
    )


def order_create(*, currency: str) -> Order:
    """Open an empty order in `currency`, with the taxes the merchant applies to new orders."""
    return order_new(currency=currency)[0]


def order_new(*, currency: str, line: OrderLine | None = None) -> tuple[Order, list[Tax]]:
    """A new order and its taxes: an INSERT, the taxes (kept with the pages) and one INSERT of
    the links, straight into the link table: a new order has none to compare with, as
    `taxes.set` would, nor any to keep from twice, as `taxes.add` prepares for (half the CPU
    of its INSERT here). One tax, the usual case, is linked by a plain INSERT of its row:
    `bulk_create` costs twice its CPU for one row (0.32 ms against 0.17 here).

    `line` (unsaved, of an item in `currency`) is then saved as its first line, and the order
    is priced as it is made: its total goes in with its INSERT (Order.priced_total), and
    neither its tax links nor its first line clear it (storefront 0009), so no UPDATE
    follows (buying one item now)."""
    taxes = taxes_for_new_orders(currency=currency)
    order = Order(currency=currency)
    if line is not None:
        order.priced_total = order_totals(order, lines=[line], taxes=taxes).total
    order.save(force_insert=True)
    link = Order.taxes.through
    if len(taxes) == 1:
        link.objects.create(order_id=order.pk, tax_id=taxes[0].pk)
    elif taxes:
        link.objects.bulk_create([link(order_id=order.pk, tax_id=tax.pk) for tax in taxes])
    if line is not None:
        line.order = order
        line.save(force_insert=True)
    return order, taxes


def item_still_sold(item: Item) -> Item:
    """`item` as its row is now; OrderError if it is gone."""
    fresh = Item.objects.filter(pk=item.pk).first()
    if fresh is None:
        raise OrderError(f"{item.name} is no longer sold.")
    return fresh


def order_add_item(*, order: Order | None, item: Item, quantity: int) -> Order:
    """Add `quantity` of `item` to `order` (a new order when None, or when it is paid).

    An order has one currency, because one Stripe payment has one: an item in another currency
    is refused while the order has lines, and nothing changes. Made again from fresh rows where
    the kept taxes for new orders name one deleted since (page_cache.kept_values_written).
    """
    return kept_values_written(
        lambda: _order_add_item(order=order, item=item, quantity=quantity),
        again=lambda: _order_add_item(order=order, item=item_still_sold(item), quantity=quantity),
    )


@atomic_retried
def _order_add_item(*, order: Order | None, item: Item, quantity: int) -> Order:
    _check_quantity(quantity)
    if order is not None:
        _payments_close(order)
        # The order locked if it is still open; else a new one, which no one else can see yet
        # (no lock, and no line to look for).
        order = locked(
            Order.objects.filter(pk=order.pk, status=Order.Status.OPEN), related=("discount",)
        ).first()
    if order is None:
        order = order_create(currency=item.currency)
        OrderLine.objects.create(order=order, item=item, quantity=quantity, unit_price=item.price)
        return order
    if order.currency != item.currency:
        if order.lines.exists():
            raise OrderError(
                f"{item.name} is priced in {item.currency}, but your order is in "
                f"{order.currency}. One payment takes one currency: pay for this order or "
                "empty it first."
            )
        order.currency = item.currency
        order.save(update_fields=["currency", "updated"])
        order.taxes.set(taxes_for_new_orders(currency=item.currency))
        if order.discount and order.discount.amount_off is not None:
            order.discount = None
            order.save(update_fields=["discount", "updated"])
    line = order.lines.filter(item=item).first()
    if line is None:
        OrderLine.objects.create(order=order, item=item, quantity=quantity, unit_price=item.price)
    else:
        if line.quantity + quantity > MAX_QUANTITY:
            raise OrderError(
                f"Your order already has {line.quantity} × {item.name}; "
                f"at most {MAX_QUANTITY} fit in one order."
            )
        line.quantity += quantity
        line.unit_price = item.price
        line.save(update_fields=["quantity", "unit_price"])
    return order


@atomic_retried
def order_set_quantity(*, order: Order, line_id: int, quantity: int) -> None:
    _check_quantity(quantity)
    order = _changing(order)
    line = order.lines.filter(pk=line_id).select_related("item").first()
    if line is None:
        raise OrderError("That line is not in this order.")
    line.quantity = quantity
    line.unit_price = line.item.price
    line.save(update_fields=["quantity", "unit_price"])


@atomic_retried
def order_remove_line(*, order: Order, line_id: int) -> None:
    order = _changing(order)
    deleted, _ = order.lines.filter(pk=line_id).delete()
    if not deleted:
        raise OrderError("That line is not in this order.")


@atomic_retried
def order_apply_discount_code(*, order: Order, code: str) -> Discount:
    order = _changing(order)
    discount = Discount.objects.filter(code__iexact=code.strip(), active=True).first()
    if discount is None:
        raise OrderError(f"The code “{code.strip()}” is not valid.")
    if discount.amount_off is not None and str(discount.amount_off.currency) != order.currency:
        raise OrderError(
            f"The code “{discount.code}” is for orders in {discount.amount_off.currency}; "
            f"this order is in {order.currency}."
        )
    order.discount = discount
    order.save(update_fields=["discount", "updated"])
    return discount


@atomic_retried
def order_remove_discount(*, order: Order) -> Discount:
    """Take the discount off an open order (to use another code, or none)."""
    order = _changing(order)
    if order.discount is None:
        raise OrderError("This order has no discount.")
    discount = order.discount
    order.discount = None
    order.save(update_fields=["discount", "updated"])
    return discount


@atomic_retried
def order_empty(*, order: Order) -> int:
    """Remove every line of an open order (say, to start again in another currency)."""
    order = _changing(order)
    deleted, _ = order.lines.all().delete()
    return deleted


@atomic_retried
def order_set_email(*, order: Order, email: str) -> Order:
    """Say where the receipt of an open order goes ("" for nowhere); the address is also
    given to the payment provider, which may prefill its page with it."""
    email = email.strip()
    if email:
        try:
            if len(email) > Order._meta.get_field("email").max_length:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError as exc:
            raise OrderError("Enter a valid e-mail address, or leave it empty.") from exc
    order = locked_open(order)
    order.email = email
    order.save(update_fields=["email", "updated"])
    return order


def orders_expire(*, untouched_for: timedelta) -> int:
    """Cancel the open orders nobody has touched for `untouched_for`, and return how many.

    Abandoned baskets and buy-now clicks must not pile up. An order with a payment still
    pending at a provider whose page is open (`expires_at` ahead) is kept, so a buyer who is
    paying right now is never cancelled under them; past a day, Stripe's sessions have expired.
    The payments still pending for the orders cancelled (a bank transfer's reference, say) are
    closed on every rail in the same transaction, before the orders are locked (the order a
    paying notification takes its locks in).
    """
    now = timezone.now()
    being_paid = references_being_paid()
    stale = Order.objects.filter(status=Order.Status.OPEN, updated__lt=now - untouched_for)
    expiring = {
        order.payment_reference: order.pk
        for order in stale.only("pk")
        if order.payment_reference not in being_paid
    }
    if not expiring:
        return 0
    return _orders_cancel(expiring, now=now)


@atomic_retried
def _orders_cancel(expiring: dict[str, int], *, now: datetime) -> int:
    """orders_expire's transaction: the orders `expiring` ({payment reference: pk}) cancelled
    where still open, their pending payments closed first."""
    payments_close(
        references=list(expiring),
        reason="the order was cancelled: nobody had touched it for a while",
    )
    return Order.objects.filter(pk__in=expiring.values(), status=Order.Status.OPEN).update(
        status=Order.Status.CANCELLED, updated=now
    )
