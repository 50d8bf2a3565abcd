"""Shop services: what a buyer and the merchant can do with items and orders.

Views validate input and call one of these; these hold the rules (one currency per order,
quantities within bounds, nothing changes once paid) and talk to the payment layer.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import JSONField, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from payments.services import (
    Outcome,
    payment_start,
    payments_close,
    rails_prepare,
    references_being_paid,
)
from payments.values import (
    DiscountTerms,
    Method,
    Payable,
    PayableLine,
    PaymentStart,
    TaxTerms,
)
from storefront.models import (
    MAX_QUANTITY,
    PAYMENT_KIND,
    Discount,
    Item,
    Order,
    OrderLine,
    OrderMail,
    Tax,
)
from storefront.plumbing.row_locks import locked
from storefront.shop.mail import mail_due
from storefront.shop.pricing import order_totals

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


def _payments_close(order: Order) -> None:
    """The order is about to change: a payment pending for it stands for the old total, so
    it is closed (a bank transfer quoting its reference then only credits the payer). Called
    before the order is locked, the order a paying notification takes its locks in."""
    payments_close(references=[order.payment_reference], reason=f"order #{order.pk} changed")


def _locked_open(order: Order) -> Order:
    """Re-read `order` under a row lock (its own row; its discount read along) and refuse if
    it can no longer change."""
    order = locked(Order.objects.filter(pk=order.pk), related=("discount",)).get()
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
    return _order_new(currency=currency)[0]


def _order_new(*, currency: str) -> tuple[Order, list[Tax]]:
    """A new order and its taxes: an INSERT, a SELECT and one INSERT of the links (a new
    order has none to compare with, as `taxes.set` would)."""
    order = Order.objects.create(currency=currency)
    taxes = list(taxes_for_new_orders(currency=currency))
    order.taxes.add(*taxes)
    return order, taxes


@transaction.atomic
def order_add_item(*, order: Order | None, item: Item, quantity: int) -> Order:
    """Add `quantity` of `item` to `order` (a new order when None, or when it is paid).

    An order has one currency, because one Stripe payment has one: an item in another currency
    is refused while the order has lines, and nothing changes.
    """
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


@transaction.atomic
def order_set_quantity(*, order: Order, line_id: int, quantity: int) -> None:
    _check_quantity(quantity)
    _payments_close(order)
    order = _locked_open(order)
    line = order.lines.filter(pk=line_id).select_related("item").first()
    if line is None:
        raise OrderError("That line is not in this order.")
    line.quantity = quantity
    line.unit_price = line.item.price
    line.save(update_fields=["quantity", "unit_price"])


@transaction.atomic
def order_remove_line(*, order: Order, line_id: int) -> None:
    _payments_close(order)
    order = _locked_open(order)
    deleted, _ = order.lines.filter(pk=line_id).delete()
    if not deleted:
        raise OrderError("That line is not in this order.")


@transaction.atomic
def order_apply_discount_code(*, order: Order, code: str) -> Discount:
    _payments_close(order)
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


@transaction.atomic
def order_remove_discount(*, order: Order) -> Discount:
    """Take the discount off an open order (to use another code, or none)."""
    _payments_close(order)
    order = _locked_open(order)
    if order.discount is None:
        raise OrderError("This order has no discount.")
    discount = order.discount
    order.discount = None
    order.save(update_fields=["discount", "updated"])
    return discount


@transaction.atomic
def order_empty(*, order: Order) -> int:
    """Remove every line of an open order (say, to start again in another currency)."""
    _payments_close(order)
    order = _locked_open(order)
    deleted, _ = order.lines.all().delete()
    return deleted


@transaction.atomic
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
    order = _locked_open(order)
    order.email = email
    order.save(update_fields=["email", "updated"])
    return order


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
        withdrawn = order.discount if order.discount and not order.discount.active else None
        if withdrawn is not None:
            order.discount = None
            order.save(update_fields=["discount", "updated"])
        else:
            taxes = list(order.taxes.all())
            order_priced(order, total=order_totals(order, lines=lines, taxes=taxes).total)
    if withdrawn is not None:
        raise OrderError(
            f"The discount “{withdrawn.name}” no longer applies, so it was taken off your "
            "order. Please check the new total and pay again."
        )
    return order, lines, taxes


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


@transaction.atomic
def _buy_now_order(*, item: Item) -> tuple[Order, list[Tax], OrderLine]:
    """A new one-line order of `item`, with its taxes and its line: priced as it is made
    (order_priced), so neither read again nor re-priced before it is paid."""
    order, taxes = _order_new(currency=item.currency)
    line = OrderLine.objects.create(order=order, item=item, quantity=1, unit_price=item.price)
    order_priced(order, total=order_totals(order, lines=[line], taxes=taxes).total)
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
    with transaction.atomic():
        payments_close(
            references=list(expiring),
            reason="the order was cancelled: nobody had touched it for a while",
        )
        return Order.objects.filter(pk__in=expiring.values(), status=Order.Status.OPEN).update(
            status=Order.Status.CANCELLED, updated=now
        )


def order_payment_facts(ident) -> Subquery:
    """What paying order `ident` (an expression of its primary key) needs to know of it, as a
    JSON object read in the same query as its payment (payments.fulfilment.with_facts): its
    status, currency, e-mail address and priced total."""
    order = Order.objects.filter(pk=ident).values(
        facts=JSONObject(
            status="status", currency="currency", email="email", priced_total="priced_total"
        )
    )
    return Subquery(order[:1], output_field=JSONField())


def _paid_as_priced(*, order_id: int, amount: int, currency: str, payment, facts) -> bool:
    """Mark the order paid without pricing it again, where it is open and was priced at what
    was paid, which is what the payment was started for: one conditional UPDATE, written as
    the order was read with its payment (`facts`). A change to the order since (which clears
    its priced total, taking its row lock) makes it change nothing: False, and the caller
    prices the order afresh."""
    if not facts or payment.amount_expected != amount:
        return False
    if (facts["status"], facts["currency"], facts["priced_total"]) != (
        Order.Status.OPEN,
        currency,
        amount,
    ):
        return False
    email = facts["email"] or payment.payer_email
    now = timezone.now()
    moved = Order.objects.filter(
        pk=order_id,
        status=Order.Status.OPEN,
        currency=currency,
        priced_total=amount,
        email=facts["email"],
    ).update(status=Order.Status.PAID, paid_at=now, updated=now, email=email)
    if not moved:
        return False
    mail_due(order_id=order_id, to=email, kind=OrderMail.Kind.RECEIPT)
    return True


def order_mark_paid(
    *, ident: str, amount: int, currency: str, payment, facts: dict | None = None
) -> Outcome:
    """Fulfil `order-<ident>` for a payment of `amount` minor units: mark it paid, or say why not.

    Called by the payment layer exactly once per succeeded payment, inside its transaction,
    with the order's `facts` read with the payment (order_payment_facts). What was paid must
    be what the order costs now, in its currency: where it was priced at that amount for this
    payment and has not changed since, one conditional UPDATE marks it paid; otherwise the
    order is locked and priced afresh.
    """
    if not ident.isdecimal():
        return Outcome.refused(f"There is no order {ident}.")
    if _paid_as_priced(
        order_id=int(ident), amount=amount, currency=currency, payment=payment, facts=facts
    ):
        return Outcome.done()
    order = locked(Order.objects.filter(pk=int(ident)), related=("discount",)).first()
    if order is None:
        return Outcome.refused(f"There is no order {ident}.")
    if order.status == Order.Status.PAID:
        return Outcome.refused(f"Order #{order.pk} was already paid: refund this payment.")
    if not order.is_open:
        return Outcome.refused(f"Order #{order.pk} is {order.status}: refund this payment.")
    expected = order_totals(order).total
    if (amount, currency) != (expected, order.currency):
        return Outcome.refused(
            f"Paid {amount} {currency} for order #{order.pk}, which costs {expected} "
            f"{order.currency}: check and refund or adjust."
        )
    also = []
    if payment.payer_email and not order.email:
        order.email = payment.payer_email
        also.append("email")
    order.mark_paid(also=also)
    mail_due(order_id=order.pk, to=order.email, kind=OrderMail.Kind.RECEIPT)
    return Outcome.done()


def order_refunded(*, ident: str, refund) -> None:
    """Money was given back on `order-<ident>`: its buyer is owed a notice (once per refund).

    Called by the payment layer exactly once per succeeded refund, inside its transaction.
    """
    order = Order.objects.filter(pk=int(ident)).first() if ident.isdecimal() else None
    if order is not None:
        mail_due(
            order_id=order.pk,
            to=order.email,
            kind=OrderMail.Kind.REFUND,
            key=refund.request_key or refund.provider_ref,
        )
