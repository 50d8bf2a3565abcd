"""Shop services: what a buyer and the merchant can do with items and orders.

Views validate input and call one of these; these hold the rules (one currency per order,
quantities within bounds, nothing changes once paid) and talk to the payment layer.
"""

import logging

from django.db import transaction
from django.utils import timezone

from payments.stripe.accounts import configured_accounts
from payments.fulfilment import Outcome
from payments.stripe.client import CheckoutSession, PaymentIntent
from payments.services import (
    CheckoutLine,
    CouponSpec,
    TaxRateSpec,
    checkout_start,
    payment_intent_start,
    stripe_object_ensure,
)
from storefront.models import MAX_QUANTITY, Discount, Item, Order, OrderItem, Tax
from storefront.pricing import order_totals

logger = logging.getLogger(__name__)


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


def _locked_open(order: Order) -> Order:
    """Re-read `order` under a row lock and refuse if it can no longer change."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not order.is_open:
        raise OrderError(
            f"Order #{order.pk} is {order.get_status_display().lower()}: it can no longer change."
        )
    return order


def taxes_for_new_orders(*, currency: str):
    """The taxes the merchant applies to every new order in `currency`."""
    return Tax.objects.filter(applies_to_new_orders=True, currency=currency)


def order_create(*, currency: str) -> Order:
    """Open an empty order in `currency`, with the taxes the merchant applies to new orders."""
    order = Order.objects.create(currency=currency)
    order.taxes.set(taxes_for_new_orders(currency=currency))
    return order


@transaction.atomic
def order_add_item(*, order: Order | None, item: Item, quantity: int) -> Order:
    """Add `quantity` of `item` to `order` (a new order when None, or when it is paid).

    An order has one currency, because one Stripe payment has one: an item in another currency
    is refused while the order has lines, and nothing changes.
    """
    _check_quantity(quantity)
    if order is None or not Order.objects.filter(pk=order.pk, status=Order.Status.OPEN).exists():
        order = order_create(currency=item.currency)
    order = _locked_open(order)
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
        OrderItem.objects.create(order=order, item=item, quantity=quantity, unit_price=item.price)
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


@transaction.atomic
def order_set_quantity(*, order: Order, line_id: int, quantity: int) -> None:
    _check_quantity(quantity)
    order = _locked_open(order)
    line = order.lines.filter(pk=line_id).select_related("item").first()
    if line is None:
        raise OrderError("That line is not in this order.")
    line.quantity = quantity
    line.unit_price = line.item.price
    line.save(update_fields=["quantity", "unit_price"])


@transaction.atomic
def order_remove_line(*, order: Order, line_id: int) -> None:
    order = _locked_open(order)
    deleted, _ = order.lines.filter(pk=line_id).delete()
    if not deleted:
        raise OrderError("That line is not in this order.")


@transaction.atomic
def order_apply_discount_code(*, order: Order, code: str) -> Discount:
    order = _locked_open(order)
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


def coupon_spec(discount: Discount) -> CouponSpec:
    """Our Discount as the payment layer's coupon."""
    return CouponSpec(
        key=f"discount:{discount.pk}",
        name=discount.name,
        percent_off=discount.percent_off,
        amount_off=discount.amount_off,
        duration=discount.duration,
        duration_in_months=discount.duration_in_months,
    )


def tax_rate_spec(tax: Tax) -> TaxRateSpec:
    """Our Tax as the payment layer's tax rate."""
    return TaxRateSpec(
        key=f"tax:{tax.pk}",
        display_name=tax.display_name,
        percentage=tax.percentage,
        inclusive=tax.inclusive,
        jurisdiction=tax.jurisdiction,
        description=tax.description,
    )


def stripe_sync() -> list[str]:
    """Push every active Discount and every Tax to every account now; return what was done.

    Amount-off discounts go only to the account of their own currency.
    """
    report = []
    for account in configured_accounts():
        where = f"{account.currency}{' (sandbox)' if account.sandbox else ''}"
        specs = [("coupon", coupon_spec(d)) for d in Discount.objects.filter(active=True)]
        specs += [("tax_rate", tax_rate_spec(t)) for t in Tax.objects.all()]
        for kind, spec in specs:
            amount_off = getattr(spec, "amount_off", None)
            if amount_off is not None and str(amount_off.currency) != account.currency:
                continue
            stripe_id, created = stripe_object_ensure(
                account, kind=kind, key=spec.key, params=spec.params()
            )
            verb = "created" if created else "already there"
            report.append(f"{where}: {spec.key} -> {kind} {stripe_id} ({verb})")
    return report


def _reprice(order: Order) -> Order:
    """Copy the catalogue's current prices into the open order's lines, under a lock."""
    with transaction.atomic():
        order = _locked_open(order)
        lines = list(order.lines.select_related("item"))
        if not lines:
            raise OrderError("Your order is empty.")
        for line in lines:
            if line.item.currency != order.currency:
                raise OrderError(f"{line.item.name} is no longer sold in {order.currency}.")
            if line.unit_price != line.item.price:
                line.unit_price = line.item.price
                line.save(update_fields=["unit_price"])
    return order


def order_checkout_start(*, order: Order, success_url: str, cancel_url: str) -> CheckoutSession:
    """Open one Checkout Session for the whole order on the account of its currency.

    Raises OrderError (the order cannot be paid) or PaymentError (Stripe could not be asked).
    """
    order = _reprice(order)
    lines = [
        CheckoutLine(
            name=line.item.name,
            unit_price=line.unit_price,
            quantity=line.quantity,
            description=line.item.description,
        )
        for line in order.lines.select_related("item")
    ]
    return checkout_start(
        currency=order.currency,
        lines=lines,
        reference=f"order-{order.pk}",
        metadata={"kind": "order", "order_id": str(order.pk)},
        success_url=success_url,
        cancel_url=cancel_url,
        discount=coupon_spec(order.discount) if order.discount else None,
        taxes=[tax_rate_spec(tax) for tax in order.taxes.all()],
    )


def order_payment_intent_start(*, order: Order) -> PaymentIntent:
    """A PaymentIntent for the order's total (after discount and taxes), for the Payment Element.

    Our pricing decides the amount (a PaymentIntent knows nothing of coupons or tax rates), the
    same figures the order page shows. Raises OrderError or PaymentError.
    """
    order = _reprice(order)
    return payment_intent_start(
        currency=order.currency,
        amount=order_totals(order).total,
        reference=f"order-{order.pk}",
        metadata={"kind": "order", "order_id": str(order.pk)},
        description=f"Order #{order.pk}",
    )


def item_checkout_start(*, item: Item, success_url: str, cancel_url: str) -> CheckoutSession:
    """Buy one `item` now: a one-line order of its own, paid on its currency's account."""
    order = order_add_item(order=None, item=item, quantity=1)
    return order_checkout_start(order=order, success_url=success_url, cancel_url=cancel_url)


def order_mark_paid(*, ident: str, amount: int, currency: str, payment) -> Outcome:
    """Fulfil `order-<ident>` for a payment of `amount` minor units: mark it paid, or say why not.

    Called by the payment layer exactly once per succeeded payment, inside its transaction.
    The order is locked; what was paid must be what it costs now, in its currency.
    """
    order = (
        Order.objects.select_for_update().filter(pk=int(ident)).first()
        if ident.isdecimal()
        else None
    )
    if order is None:
        return Outcome(False, f"There is no order {ident}.")
    if order.status == Order.Status.PAID:
        return Outcome(False, f"Order #{order.pk} was already paid: refund this payment.")
    if not order.is_open:
        return Outcome(False, f"Order #{order.pk} is {order.status}: refund this payment.")
    expected = order_totals(order).total
    if (amount, currency) != (expected, order.currency):
        return Outcome(
            False,
            f"Paid {amount} {currency} for order #{order.pk}, which costs {expected} "
            f"{order.currency}: check and refund or adjust.",
        )
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["status", "paid_at", "updated"])
    return Outcome(True)
