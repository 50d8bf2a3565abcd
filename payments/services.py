"""Payment services: what the shop asks of the payment layer."""

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from djmoney.money import Money

from currencies.minor_units import CurrencyError, to_minor_units
from payments import fulfilment
from payments.stripe import client as gateway
from payments.stripe.accounts import StripeAccount, account_for
from payments.errors import PaymentError
from payments.stripe.client import CheckoutSession, PaymentIntent
from payments.models import Payment, StripeObjectRef, WebhookEvent
from payments.signals import payment_failed, payment_succeeded

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckoutLine:
    """One line the buyer pays for, priced from our database."""

    name: str
    unit_price: Money
    quantity: int = 1
    description: str = ""


def _decimal_param(value: Decimal) -> str:
    """`Decimal("10.00")` → `"10"`: what Stripe's decimal parameters expect."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class CouponSpec:
    """A discount as Stripe needs it. `key` names our row (`"discount:5"`)."""

    key: str
    name: str
    percent_off: Decimal | None = None
    amount_off: Money | None = None
    duration: str = "once"
    duration_in_months: int | None = None

    def params(self) -> dict:
        params: dict = {"name": self.name, "duration": self.duration}
        if self.duration_in_months is not None:
            params["duration_in_months"] = self.duration_in_months
        if self.percent_off is not None:
            params["percent_off"] = _decimal_param(self.percent_off)
        else:
            currency = str(self.amount_off.currency)
            params["amount_off"] = to_minor_units(self.amount_off.amount, currency)
            params["currency"] = currency.lower()
        return params


@dataclass(frozen=True)
class TaxRateSpec:
    """A tax as Stripe needs it. `key` names our row (`"tax:3"`)."""

    key: str
    display_name: str
    percentage: Decimal
    inclusive: bool
    jurisdiction: str = ""
    description: str = ""

    def params(self) -> dict:
        params: dict = {
            "display_name": self.display_name,
            "percentage": _decimal_param(self.percentage),
            "inclusive": self.inclusive,
        }
        # Stripe reads an empty string as "unset" and refuses it on create: leave blanks out.
        if self.jurisdiction:
            params["jurisdiction"] = self.jurisdiction
        if self.description:
            params["description"] = self.description
        return params


def stripe_object_ensure(
    account: StripeAccount, *, kind: str, key: str, params: dict
) -> tuple[str, bool]:
    """Return (Stripe id, whether it was created now) of the object made from `params` for our
    row `key` on `account`.

    Created on first use and remembered (StripeObjectRef), so steady-state checkouts make no
    extra Stripe call. Two first uses at once send the same idempotency key, so Stripe makes one
    object, and the unique constraint keeps one row.
    """
    fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    lookup = {
        "account": account.publishable_key,
        "kind": kind,
        "local_key": key,
        "fingerprint": fingerprint,
    }
    ref = StripeObjectRef.objects.filter(**lookup).first()
    if ref is not None:
        return ref.stripe_id, False
    stripe_id = gateway.stripe_object_create(
        account, kind=kind, params=params, idempotency_key=f"{kind}-{key}-{fingerprint[:32]}"
    )
    with transaction.atomic():
        ref, _ = StripeObjectRef.objects.get_or_create(**lookup, defaults={"stripe_id": stripe_id})
    return ref.stripe_id, True


def checkout_line_items(*, currency: str, lines: Sequence[CheckoutLine]) -> list[dict]:
    """Build Stripe `line_items` (inline `price_data`, amounts in minor units)."""
    items = []
    for line in lines:
        if str(line.unit_price.currency) != currency:
            raise ValueError(f"{line.name} is priced in {line.unit_price.currency}, not {currency}")
        try:
            unit_amount = to_minor_units(line.unit_price.amount, currency)
        except CurrencyError as exc:
            raise PaymentError(f"{line.name} cannot be charged: {exc}", status=422) from exc
        product_data = {"name": line.name}
        if line.description:
            # Stripe refuses an empty string here (it reads it as "unset"), so leave it out.
            product_data["description"] = line.description
        items.append(
            {
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": unit_amount,
                    "product_data": product_data,
                },
                "quantity": line.quantity,
            }
        )
    return items


def checkout_start(
    *,
    currency: str,
    lines: Sequence[CheckoutLine],
    reference: str,
    metadata: Mapping[str, str],
    success_url: str,
    cancel_url: str,
    discount: CouponSpec | None = None,
    taxes: Sequence[TaxRateSpec] = (),
) -> CheckoutSession:
    """Open a Stripe Checkout Session for `lines` on the account of `currency`.

    `reference` identifies what is bought (it becomes `client_reference_id`); `success_url` should
    carry Stripe's `{CHECKOUT_SESSION_ID}` placeholder. The discount becomes a coupon and each
    tax a tax rate on every line, made once per account and reused. Raises PaymentError.
    """
    account = account_for(currency)
    line_items = checkout_line_items(currency=account.currency, lines=lines)
    if (
        discount is not None
        and discount.amount_off is not None
        and str(discount.amount_off.currency) != account.currency
    ):
        raise PaymentError(
            f"The discount {discount.name} is in {discount.amount_off.currency}, "
            f"not {account.currency}.",
            status=422,
        )
    tax_rate_ids = [
        stripe_object_ensure(account, kind="tax_rate", key=tax.key, params=tax.params())[0]
        for tax in taxes
    ]
    if tax_rate_ids:
        for line_item in line_items:
            line_item["tax_rates"] = tax_rate_ids
    params = {
        "mode": "payment",
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": reference,
        "metadata": dict(metadata),
    }
    if discount is not None:
        coupon_id, _ = stripe_object_ensure(
            account, kind="coupon", key=discount.key, params=discount.params()
        )
        params["discounts"] = [{"coupon": coupon_id}]
    # One key per checkout attempt: the library's retries of this call reuse it, so a network
    # hiccup can never open two sessions for one click.
    idempotency_key = f"checkout-{reference}-{uuid.uuid4().hex}"
    session = gateway.checkout_session_create(
        account, params=params, idempotency_key=idempotency_key
    )
    Payment.objects.create(
        account=account.currency,
        livemode=account.livemode,
        reference=reference,
        checkout_session_id=session.id,
        amount=session.amount_total or 0,
        currency=session.currency or account.currency,
    )
    return session


def checkout_confirm(*, currency: str, session_id: str) -> tuple[CheckoutSession, Payment]:
    """Ask Stripe (never the query string) how a Checkout Session stands, and fulfil it if paid.

    What the success page calls: the same fulfilment as the webhook's, so whichever comes
    first does it and the other finds it done.
    """
    account = account_for(currency)
    session = gateway.checkout_session_retrieve(account, session_id)
    return session, checkout_fulfil(account=account, session=session)


def _payment_for_session(account: StripeAccount, session: CheckoutSession) -> Payment:
    payment, _ = Payment.objects.get_or_create(
        checkout_session_id=session.id,
        defaults={
            "account": account.currency,
            "livemode": account.livemode,
            "reference": session.client_reference_id or "",
            "amount": session.amount_total or 0,
            "currency": session.currency or account.currency,
        },
    )
    return payment


def _payment_for_intent(account: StripeAccount, intent: PaymentIntent) -> Payment:
    payment, _ = Payment.objects.get_or_create(
        payment_intent_id=intent.id,
        defaults={
            "account": account.currency,
            "livemode": account.livemode,
            "reference": intent.metadata.get("reference", ""),
            "amount": intent.amount,
            "currency": intent.currency,
        },
    )
    return payment


def _succeed(payment: Payment, *, amount: int, currency: str, **ids: str | None) -> Payment:
    """Move `payment` to succeeded and fulfil what it paid for, exactly once.

    The move is one conditional UPDATE: under any number of concurrent callers (webhook
    deliveries, success pages) exactly one sees it happen, and only that one fulfils, inside
    the caller's transaction, and announces it after commit. Must run inside a transaction.
    """
    now = timezone.now()
    moved = (
        Payment.objects.filter(pk=payment.pk)
        .exclude(status=Payment.Status.SUCCEEDED)
        .update(
            status=Payment.Status.SUCCEEDED,
            succeeded_at=now,
            amount=amount,
            currency=currency,
            updated=now,
            **{name: value for name, value in ids.items() if value},
        )
    )
    payment.refresh_from_db()
    if not moved:
        return payment
    outcome = fulfilment.fulfil(
        reference=payment.reference, amount=amount, currency=currency, payment=payment
    )
    if outcome.fulfilled:
        payment.fulfilled_at = now
    else:
        payment.flag = outcome.note
        logger.error("payment %s not fulfilled: %s", payment.pk, outcome.note)
    payment.save(update_fields=["fulfilled_at", "flag", "updated"])
    transaction.on_commit(
        lambda: payment_succeeded.send(sender=Payment, payment=payment), robust=True
    )
    return payment


def _close(payment: Payment, status: str, *, note: str = "") -> Payment:
    """A payment failed or expired: note it, unless it already succeeded (never un-pay)."""
    moved = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        status=status, updated=timezone.now()
    )
    payment.refresh_from_db()
    if moved:
        transaction.on_commit(
            lambda: payment_failed.send(sender=Payment, payment=payment, reason=note),
            robust=True,
        )
    return payment


def checkout_fulfil(*, account: StripeAccount, session: CheckoutSession) -> Payment:
    """Record what Stripe says of a Checkout Session and, if it is paid, fulfil it once.

    Called from the webhook and from the success page, any number of times, concurrently.
    """
    with transaction.atomic():
        payment = _payment_for_session(account, session)
        if not session.is_paid:
            return payment
        return _succeed(
            payment,
            amount=session.amount_total,
            currency=session.currency,
            payment_intent_id=session.payment_intent,
        )


def checkout_close(*, account: StripeAccount, session: CheckoutSession, status: str) -> Payment:
    """A session's payment failed or the session expired: note it, unless it was already paid."""
    with transaction.atomic():
        return _close(_payment_for_session(account, session), status)


# --- PaymentIntents: the Payment Element on our own page ------------------------------------

# Our PaymentIntents say so in their metadata. Checkout makes PaymentIntents of its own, whose
# events we leave to the checkout.session.* events, so one payment is never counted twice.
PAYMENT_ELEMENT_FLOW = "payment_element"


def payment_intent_start(
    *, currency: str, amount: int, reference: str, metadata: Mapping[str, str], description: str
) -> PaymentIntent:
    """Return a PaymentIntent for `amount` minor units of `reference` on `currency`'s account.

    The open PaymentIntent of the same reference and amount is reused (reloading the pay page
    does not create another); a changed amount gets a new one. Raises PaymentError.
    """
    account = account_for(currency)
    reusable = (
        Payment.objects.filter(
            reference=reference,
            account=account.currency,
            amount=amount,
            currency=account.currency,
            status=Payment.Status.PENDING,
            checkout_session_id__isnull=True,
            payment_intent_id__isnull=False,
        )
        .order_by("-created")
        .first()
    )
    if reusable is not None:
        intent = gateway.payment_intent_retrieve(account, reusable.payment_intent_id)
        if intent.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
            return intent
    params = {
        "amount": amount,
        "currency": account.currency.lower(),
        "automatic_payment_methods": {"enabled": True},
        "description": description,
        "metadata": {**metadata, "reference": reference, "flow": PAYMENT_ELEMENT_FLOW},
    }
    intent = gateway.payment_intent_create(
        account, params=params, idempotency_key=f"intent-{reference}-{uuid.uuid4().hex}"
    )
    Payment.objects.create(
        account=account.currency,
        livemode=account.livemode,
        reference=reference,
        payment_intent_id=intent.id,
        amount=intent.amount,
        currency=intent.currency,
    )
    return intent


def payment_intent_fulfil(*, account: StripeAccount, intent: PaymentIntent) -> Payment:
    """Record what Stripe says of one of our PaymentIntents and, if it succeeded, fulfil once."""
    with transaction.atomic():
        payment = _payment_for_intent(account, intent)
        if intent.is_paid:
            return _succeed(payment, amount=intent.amount, currency=intent.currency)
        return payment


def payment_intent_confirm(*, currency: str, intent_id: str) -> tuple[PaymentIntent, Payment]:
    """Ask Stripe (never the query string) how a PaymentIntent stands; fulfil it if paid."""
    account = account_for(currency)
    intent = gateway.payment_intent_retrieve(account, intent_id)
    if intent.metadata.get("flow") != PAYMENT_ELEMENT_FLOW:
        raise PaymentError("We could not find this payment.", status=404)
    return intent, payment_intent_fulfil(account=account, intent=intent)


def _handle_event(account: StripeAccount, event: dict) -> bool:
    """Act on one verified event; return whether it was one we handle."""
    event_type = event.get("type", "")
    if event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        intent = PaymentIntent.from_stripe(event["data"]["object"])
        if intent.metadata.get("flow") != PAYMENT_ELEMENT_FLOW:
            return False  # Checkout's own; its checkout.session.* events count
        if event_type == "payment_intent.succeeded":
            payment_intent_fulfil(account=account, intent=intent)
        else:
            with transaction.atomic():
                payment = _payment_for_intent(account, intent)
                # A declined attempt leaves the PaymentIntent open for another card: the
                # payment stays pending, and the decline is announced.
                transaction.on_commit(
                    lambda: payment_failed.send(
                        sender=Payment, payment=payment, reason=intent.last_error or ""
                    ),
                    robust=True,
                )
        return True
    if not event_type.startswith("checkout.session."):
        return False
    session = CheckoutSession.from_stripe(event["data"]["object"])
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        checkout_fulfil(account=account, session=session)
    elif event_type == "checkout.session.async_payment_failed":
        checkout_close(account=account, session=session, status=Payment.Status.FAILED)
    elif event_type == "checkout.session.expired":
        checkout_close(account=account, session=session, status=Payment.Status.EXPIRED)
    else:
        return False
    return True


def webhook_receive(
    *, account: StripeAccount, event: dict, payload: str
) -> tuple[WebhookEvent, bool]:
    """Record a verified event and act on it, once per event id and account.

    The event row and everything the event changes commit together. A second delivery of the
    same event (even one arriving while the first is still being processed: the database makes
    it wait) finds the row and is counted as a duplicate. If processing raises, nothing of it is
    kept, the failure is recorded, and the exception propagates (the view answers 500 so
    Stripe retries, and the retry is processed afresh). Returns (record, was it a duplicate).
    """
    fields = {
        "account": account.currency,
        "event_id": event["id"],
        "type": str(event.get("type", ""))[:100],
        "signature_valid": True,
    }
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = WebhookEvent.objects.create(
                        **fields, status=WebhookEvent.Status.PROCESSED, payload=payload
                    )
            except IntegrityError:
                record = None
            else:
                handled = _handle_event(account, event)
                record.status = (
                    WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED
                )
                record.processed_at = timezone.now()
                record.save(update_fields=["status", "processed_at"])
    except Exception as exc:
        WebhookEvent.objects.create(
            **fields, status=WebhookEvent.Status.FAILED, payload=payload, error=repr(exc)[:2000]
        )
        raise
    if record is None:
        record = WebhookEvent.objects.exclude(status=WebhookEvent.Status.FAILED).get(
            account=account.currency, event_id=event["id"], signature_valid=True
        )
        WebhookEvent.objects.filter(pk=record.pk).update(duplicates=F("duplicates") + 1)
        record.duplicates += 1
        return record, True
    return record, False
