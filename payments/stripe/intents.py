"""PaymentIntents: the Payment Element on our own page, for a payable's total."""

import uuid

from payments.errors import PaymentError
from payments.models import Payment
from payments.records import payment_record
from payments.stripe import NAME, client
from payments.stripe.accounts import StripeAccount, is_stripe_id
from payments.stripe.client import PaymentIntent
from payments.values import Payable, PaymentStart, ProviderState, ProviderStatus

# Our PaymentIntents say so in their metadata. Checkout makes PaymentIntents of its own, whose
# events we leave to the checkout.session.* events, so one payment is never counted twice.
PAYMENT_ELEMENT_FLOW = "payment_element"
# A PaymentIntent in one of these states can still be paid: reloading the pay page reuses it.
OPEN_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action")


def is_ours(intent: PaymentIntent) -> bool:
    return intent.metadata.get("flow") == PAYMENT_ELEMENT_FLOW


def _reusable(account: StripeAccount, payable: Payable) -> PaymentIntent | None:
    """The open PaymentIntent of the same payable and amount on `account`, if there is one."""
    pending = (
        Payment.objects.filter(
            rail=NAME,
            account=account.identity,
            reference=payable.reference,
            amount_expected=payable.total,
            currency=account.currency,
            status=Payment.Status.PENDING,
            provider_ref__startswith="pi_",
        )
        .order_by("-created")
        .first()
    )
    if pending is None:
        return None
    intent = client.payment_intent_retrieve(account, pending.provider_ref)
    return intent if intent.status in OPEN_STATUSES else None


def payment_intent_start(
    account: StripeAccount, *, payable: Payable, return_url: str, form_template: str
) -> PaymentStart:
    """A PaymentIntent for `payable.total` on `account`, and the card form that confirms it.

    The open PaymentIntent of the same payable and amount is reused (reloading the pay page
    does not create another); a changed amount gets a new one. Raises PaymentError.
    """
    intent = _reusable(account, payable)
    if intent is None:
        params = {
            "amount": payable.total,
            "currency": account.currency.lower(),
            "automatic_payment_methods": {"enabled": True},
            "description": payable.description,
            **({"receipt_email": payable.email} if payable.email else {}),
            "metadata": {
                **payable.metadata,
                "reference": payable.reference,
                "flow": PAYMENT_ELEMENT_FLOW,
            },
        }
        intent = client.payment_intent_create(
            account,
            params=params,
            idempotency_key=f"intent-{payable.reference}-{uuid.uuid4().hex}",
        )
        payment_record(
            rail=NAME,
            account=account.identity,
            livemode=account.livemode,
            reference=payable.reference,
            provider_ref=intent.id,
            currency=intent.currency,
            amount=intent.amount,
        )
    separator = "&" if "?" in return_url else "?"
    return PaymentStart(
        rail=NAME,
        provider_ref=intent.id,
        template=form_template,
        context={
            "client_secret": intent.client_secret,
            "publishable_key": account.publishable_key,
            "stripe_js_url": client.stripe_js_url(account),
            "return_url": f"{return_url}{separator}currency={account.slug}",
        },
    )


def intent_state(
    account: StripeAccount, intent: PaymentIntent, *, livemode: bool | None = None
) -> ProviderState:
    """What one of our PaymentIntents says of its payment, in the core's words."""
    if intent.status == "succeeded":
        status = ProviderStatus.SUCCEEDED
    elif intent.status == "processing":
        status = ProviderStatus.PROCESSING
    elif intent.status == "canceled":
        status = ProviderStatus.FAILED
    elif intent.last_error:
        status = ProviderStatus.DECLINED
    else:
        status = ProviderStatus.PENDING
    return account.state(
        livemode=livemode,
        provider_ref=intent.id,
        status=status,
        amount=intent.amount,
        currency=intent.currency,
        message=intent.last_error or "",
        payer_email=intent.payer_email,
    )


def payment_intent_confirm(account: StripeAccount, intent_id: str) -> ProviderState:
    """Ask Stripe (never the query string) how one of our PaymentIntents stands."""
    if not is_stripe_id(intent_id, "pi_"):
        raise PaymentError("This link does not point to a payment.", status=400)
    intent = client.payment_intent_retrieve(account, intent_id)
    if not is_ours(intent):
        raise PaymentError("We could not find this payment.", status=404)
    return intent_state(account, intent)
