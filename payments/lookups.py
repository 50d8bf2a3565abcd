"""Finding the payment a provider's word is about, only where the same rail and account (in
the same mode) started it: the rule every notification, return page and refund obeys."""

from django.db.models import Q

from payments import fulfilment
from payments.errors import PaymentError
from payments.models import Payment
from payments.values import DisputeState, ProviderState, RefundState


class UnknownPayment(PaymentError):
    """A state for a payment that this rail and account did not start (or in the other mode)."""

    def __init__(self) -> None:
        super().__init__("We could not find this payment.", status=404)


def payment_by_provider_id(*, rail: str, account: str, livemode: bool, provider_id: str) -> Payment:
    """The payment `provider_id` names (its own id or its money movement's), if the same rail
    and account started it in the same mode: what a refund or a dispute is about. Raises
    UnknownPayment otherwise."""
    payment = (
        Payment.objects.filter(rail=rail)
        .filter(Q(provider_ref=provider_id) | Q(provider_payment_ref=provider_id))
        .first()
    )
    if payment is None or (payment.account, payment.livemode) != (account, livemode):
        raise UnknownPayment()
    return payment


def started_payment(state: ProviderState, *, with_facts: bool = False) -> Payment:
    """The payment `state` is about, if the same rail and account started it in the same mode;
    `with_facts`: read with what its fulfilment needs to know (payments.fulfilment.with_facts).
    """
    payments = Payment.objects.filter(rail=state.rail, provider_ref=state.provider_ref)
    if with_facts:
        payments = fulfilment.with_facts(payments)
    payment = payments.first()
    if payment is None or (payment.account, payment.livemode) != (state.account, state.livemode):
        raise UnknownPayment()
    return payment


def payment_named_by(state: RefundState | DisputeState) -> Payment:
    """The payment a refund's or a dispute's `state` is about (see payment_by_provider_id)."""
    return payment_by_provider_id(
        rail=state.rail,
        account=state.account,
        livemode=state.livemode,
        provider_id=state.payment_provider_id,
    )
