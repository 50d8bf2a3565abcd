"""What the payment layer calls back once per payment (named in settings.PAYMENT_FULFILMENT and
its companions): the facts it reads of an order with the payment, marking the order paid (or
saying why not), and a refund's notice owed to the buyer.
"""

from django.db.models import JSONField, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from payments.services import Outcome
from storefront.models import Order, OrderMail
from storefront.plumbing.row_locks import locked
from storefront.shop.mail import mail_due
from storefront.shop.pricing import order_totals


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
