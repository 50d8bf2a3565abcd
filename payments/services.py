"""The door from the shop into payments: everything the shop may ask, whatever the rail.

The shop describes what is to be paid with plain values (`payments.values.Payable`), asks which
rails can pay it, starts a payment on one, and confirms it when the buyer comes back. It never
sees a provider's type or id format; errors reach it as `payments.errors.PaymentError`.

The door is this module with the plain values it takes and gives (`payments.values`) and its
errors (`payments.errors`); it also hands the shop what it implements for fulfilment
(`Outcome`, `reference_for`: `payments.fulfilment`). The shop imports nothing else of payments
(`make lint`'s import contracts).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from payments.errors import PaymentError
from payments.fulfilment import Outcome as Outcome
from payments.fulfilment import reference_for as reference_for
from payments.models import Dispute, Payment, Refund
from payments.rails import all_rails, rail_named
from payments.reconcile import AccountReport
from payments.reconcile import payments_reconcile as _reconcile
from payments.records import payment_apply, payment_reusable
from payments.records import payments_close as _close_pending
from payments.refunds import disputed_words, nothing_left_words, refund_request, refund_room
from payments.values import (
    DISPUTE_NEEDS_RESPONSE,
    DISPUTE_OPEN,
    Balance,
    DiscountTerms,
    DisputeSummary,
    Link,
    Method,
    NotRefundable,
    Payable,
    PaymentStart,
    PayOption,
    ProviderObject,
    ProviderState,
    Refundable,
    RefundOptions,
    TaxTerms,
)


def pay_options(
    *, currency: str, urls: Mapping[Method, str], amount: int | None = None
) -> list[PayOption]:
    """The buttons of every rail that can pay in `currency`, in the order of PAYMENT_RAILS.

    `urls` are the shop's URLs that start a payment by each method; `amount` (minor units) is
    what the page sells costs, for rails whose offer depends on it.
    """
    options = []
    for rail in all_rails().values():
        option = rail.pay_option(currency=currency, amount=amount, urls=urls)
        if option is not None:
            options.append(option)
    return options


def default_rail(*, currency: str, method: Method) -> str:
    """The rail a page's plain Buy button uses: the first that pays by `method` in `currency`.

    When none can right now, the first that pays by `method` at all, so that starting a
    payment says in the rail's own words why it cannot (e.g. no account configured).
    """
    able = [rail for rail in all_rails().values() if method in rail.methods]
    for rail in able:
        if rail.accepts(currency=currency):
            return rail.name
    if not able:
        raise PaymentError("This way of paying is not available in this shop.", status=404)
    return able[0].name


def rails_accepting(*, currency: str, method: Method) -> list[str]:
    """The rails (their verbose names) that take `currency` by `method` right now."""
    return [
        rail.verbose_name
        for rail in all_rails().values()
        if method in rail.methods and rail.accepts(currency=currency)
    ]


def rail_methods(rail: str) -> tuple[Method, ...]:
    """The ways `rail` takes payments (e.g. whether "try again" can reopen a form on our page)."""
    return rail_named(rail).methods


def payment_start(
    *,
    rail: str,
    method: Method,
    payable: Payable,
    return_url: str,
    cancel_url: str,
    new: bool = False,
) -> PaymentStart:
    """Start paying `payable` on `rail`; the rail records the Payment. Raises PaymentError.

    A provider page already open for the same payable and amount (the buyer clicked again, or
    came back from it) is handed out again: no second payment, no provider call. `new=True`
    says the payable was made by this very request (an order just created), so no payment can
    exist for it yet and that lookup is skipped.
    """
    found = rail_named(rail)
    if method not in found.methods:
        raise PaymentError(f"{found.verbose_name} cannot take this kind of payment.", status=404)
    if method == Method.REDIRECT and not payable.options and not new:
        reusable = payment_reusable(
            rail=found.name,
            reference=payable.reference,
            currency=payable.currency,
            amount=payable.total,
        )
        if reusable is not None:
            return PaymentStart(
                rail=found.name, provider_ref=reusable.provider_ref, redirect_url=reusable.pay_url
            )
    return found.start(payable=payable, method=method, return_url=return_url, cancel_url=cancel_url)


def payment_confirm(*, rail: str, query: Mapping[str, str]) -> tuple[ProviderState, Payment]:
    """The buyer is back from `rail`: ask the provider (never the query) how the payment named
    in `query` stands, and move it as the provider says (fulfilling it once, exactly as a
    notification would: whichever comes first does it). Raises PaymentError.
    """
    state = rail_named(rail).confirm(query=query)
    return state, payment_apply(state)


def payments_close(*, references: Sequence[str], reason: str) -> int:
    """Close every payment still pending for `references` (`"order-5"`), on every rail: the
    order changed, so each stands for an amount no longer due, or it was cancelled. Call it in
    the transaction that changes or cancels the orders, before locking them (see
    payments.records.payments_close). Closing is local: no provider is called (a Stripe
    Checkout Session left open expires there on its own; should its buyer pay it anyway, the
    payment is recorded and fulfilment flags it). Returns how many were closed.
    """
    return len(_close_pending(references=references, reason=reason))


def rails_prepare(*, discounts: Sequence[DiscountTerms], taxes: Sequence[TaxTerms]) -> list[str]:
    """Have every rail make ahead what its payments will need; a line per object."""
    report = []
    for rail in all_rails().values():
        report += rail.prepare(discounts=discounts, taxes=taxes)
    return report


def payment_instructions(*, reference: str, currency: str) -> list[tuple[str, str]]:
    """What an unpaid invoice of `reference` in `currency` tells the buyer to pay it with."""
    return [
        line
        for rail in all_rails().values()
        for line in rail.invoice_instructions(reference=reference, currency=currency)
    ]


def provider_objects(key: str) -> list[ProviderObject]:
    """What every rail made at its provider for our row `key`."""
    return [obj for rail in all_rails().values() for obj in rail.provider_objects(key)]


def references_being_paid() -> set[str]:
    """The references with a payment pending on a provider's page that still takes payment (a
    buyer may be paying them right now)."""
    return set(
        Payment.objects.filter(
            status=Payment.Status.PENDING, expires_at__gt=timezone.now()
        ).values_list("reference", flat=True)
    )


def payments_for(reference: str):
    """The payments started for `reference` (`"order-5"`), newest first."""
    return Payment.objects.filter(reference=reference)


def payment_statuses() -> list[tuple[str, str]]:
    """The statuses a payment can have, as (value, label) choices."""
    return list(Payment.Status.choices)


# Payments in the order that puts the one that paid a reference last: one that fulfilled what
# it paid for after one that did not (say, a second payment, noted for the merchant to refund).
_PAYING_LAST = (F("fulfilled_at").asc(nulls_first=True), "pk")


def paying_payments(references: Sequence[str]) -> dict[str, Payment]:
    """The succeeded payment that paid each of `references`, by reference (one query for all
    of them): one that fulfilled what it paid for wins over one that was not (say, a second
    payment, noted for the merchant to refund)."""
    found: dict[str, Payment] = {}
    payments = Payment.objects.filter(
        reference__in=list(references), status=Payment.Status.SUCCEEDED
    ).order_by(*_PAYING_LAST)
    for payment in payments:
        found[payment.reference] = payment
    return found


def paying_payment_refunded(reference: str) -> tuple[Payment | None, bool]:
    """The payment that paid `reference` (as `paying_payments` picks it, or None), and whether
    any of its payments has a succeeded refund, in one query: what an invoice needs to know
    before it lists refunds (`refunds_for`), which there rarely are."""
    refunded = Refund.objects.filter(payment=OuterRef("pk"), status=Refund.Status.SUCCEEDED)
    paying, any_refunded = None, False
    payments = (
        Payment.objects.filter(reference=reference)
        .annotate(refunded=Exists(refunded))
        .order_by(*_PAYING_LAST)
    )
    for payment in payments:
        any_refunded = any_refunded or payment.refunded
        if payment.status == Payment.Status.SUCCEEDED:
            paying = payment
    return paying, any_refunded


def payment_links(payment: Payment) -> list[Link]:
    """Where the merchant can look at `payment` at its provider (none for a rail this site no
    longer runs)."""
    try:
        return rail_named(payment.rail).admin_links(payment)
    except PaymentError:
        return []


def refund_options(reference: str) -> RefundOptions:
    """What `reference`'s succeeded payments offer to refund from our admin: each that its
    rail refunds (`Rail.refund_supported`) and that has money left, with what remains; and,
    for each other one, why not (its rail refunds nothing from here, or refunds and disputes
    took all it received)."""
    refundables, unavailable = [], []
    for payment in Payment.objects.filter(reference=reference, status=Payment.Status.SUCCEEDED):
        rail = all_rails().get(payment.rail)
        if rail is None:
            unavailable.append(
                NotRefundable(
                    payment.pk,
                    f"{payment.rail}: {payment.provider_id}",
                    f"this shop no longer runs the {payment.rail} rail, so its payments "
                    "cannot be refunded from here",
                )
            )
            continue
        label = f"{rail.verbose_name}, {rail.account_label(payment.account)}: {payment.provider_id}"
        if not rail.refund_supported(payment):
            unavailable.append(
                NotRefundable(
                    payment.pk,
                    label,
                    f"{rail.verbose_name} payments cannot be refunded from here: give the "
                    "money back outside the shop",
                )
            )
            continue
        room = refund_room(payment)
        if room.remaining <= 0:
            unavailable.append(
                NotRefundable(
                    payment.pk,
                    label,
                    f"nothing is left to refund: {nothing_left_words(room, payment.currency)}",
                )
            )
            continue
        refundables.append(
            Refundable(
                payment.pk,
                label,
                payment.currency,
                room.remaining,
                partial=rail.partial_refund_supported(payment),
                note=disputed_words(room, payment.currency),
            )
        )
    return RefundOptions(tuple(refundables), tuple(unavailable))


def refundable_payments(reference: str) -> list[Refundable]:
    """The succeeded payments of `reference` that can be refunded from here, with what
    remains (`refund_options`' first half)."""
    return list(refund_options(reference).refundable)


def refund_start(
    *, reference: str, payment_id: int, amount: int, reason: str, note: str, requested_by
) -> Refund:
    """Give back `amount` minor units of one of `reference`'s payments, through the rail and
    account that took it. Raises PaymentError (the message says why, for the merchant)."""
    payment = Payment.objects.filter(pk=payment_id, reference=reference).first()
    if payment is None:
        raise PaymentError("That payment does not belong to this order.", status=404)
    return refund_request(
        payment=payment, amount=amount, reason=reason, note=note, requested_by=requested_by
    )


def refund_reasons() -> list[tuple[str, str]]:
    """The reasons a merchant can give for a refund, as (value, label) choices."""
    return list(Refund.Reason.choices)


def refunds_for(reference: str):
    """The refunds of `reference`'s payments, newest first (each with its payment)."""
    return Refund.objects.filter(payment__reference=reference).select_related("payment")


def refund_of(reference: str, refund_id: int) -> Refund | None:
    """One succeeded refund of `reference`'s payments (for its credit note), or None."""
    return (
        Refund.objects.filter(
            pk=refund_id, payment__reference=reference, status=Refund.Status.SUCCEEDED
        )
        .select_related("payment")
        .first()
    )


def refund_named(reference: str, key: str) -> Refund | None:
    """The refund of `reference`'s payments that `key` names (our request key, or the
    provider's id for one made at the provider), with its payment; None if none."""
    return (
        Refund.objects.filter(
            Q(request_key=key) | Q(provider_ref=key), payment__reference=reference
        )
        .select_related("payment")
        .first()
    )


def disputes_for(reference: str):
    """The disputes opened against `reference`'s payments, newest first."""
    return Dispute.objects.filter(payment__reference=reference).select_related("payment")


def _per_payment(model, condition: Q, value) -> Subquery:
    """One number per payment from `model`'s rows about it (a correlated subquery)."""
    rows = model.objects.filter(condition, payment=OuterRef("pk")).values("payment")
    return Subquery(rows.annotate(value=value).values("value")[:1])


def balances_for(references: Sequence[str]) -> dict[str, Balance]:
    """Where the money of each of `references` stands (one query, however many).

    What a payment's refunds count is never more than it received (the rest is
    `refund_excess`, flagged on the refund for the merchant). Each of its disputes is joined
    in (a payment's row repeats per dispute, newest first).
    """
    rows = (
        Payment.objects.filter(reference__in=references, status=Payment.Status.SUCCEEDED)
        .annotate(
            refunded=_per_payment(Refund, Q(status=Refund.Status.SUCCEEDED), Sum("amount")),
        )
        .order_by("pk", "-disputes__created", "-disputes__pk")
        .values_list(
            "pk",
            "reference",
            "currency",
            "amount_received",
            "refunded",
            "disputes__status",
            "disputes__amount",
            "disputes__evidence_due_by",
            "disputes__appealed",
        )
    )
    totals: dict[str, dict] = {}
    seen: set[int] = set()
    for pk, reference, currency, received, refunded, status, amount, due, appealed in rows:
        found = totals.setdefault(
            reference,
            {"currency": currency, "received": 0, "refunded": 0, "excess": 0, "disputes": []},
        )
        if pk not in seen:
            seen.add(pk)
            received, refunded = received or 0, refunded or 0
            found["received"] += received
            found["refunded"] += min(refunded, received)
            found["excess"] += max(0, refunded - received)
        if status is not None:
            respond_by = due if status in DISPUTE_NEEDS_RESPONSE else None
            found["disputes"].append(DisputeSummary(status, amount, respond_by, bool(appealed)))
    return {
        reference: Balance(
            currency=found["currency"],
            received=found["received"],
            refunded=found["refunded"],
            disputes_open=sum(1 for d in found["disputes"] if d.status in DISPUTE_OPEN),
            disputed_lost=sum(d.amount for d in found["disputes"] if d.status == "lost"),
            refund_excess=found["excess"],
            disputes=tuple(found["disputes"]),
        )
        for reference, found in totals.items()
    }


def payments_reconcile(
    *, since: datetime, account_filter: str | None = None
) -> list[AccountReport]:
    """Ask every rail's provider, account by account, what notifications since `since` may
    have missed, and apply it once (`payments.reconcile`); a report per account.

    `account_filter` keeps the accounts it names: a rail ("stripe"), an account's identity, or
    a short name its rail knows it by (a currency code, "EUR").
    """
    return _reconcile(since=since, account_filter=account_filter)
