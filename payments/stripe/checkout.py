"""Stripe Checkout: a hosted payment page for a whole payable, on its currency's account."""

import time
import uuid

from django.conf import settings

from currencies.minor_units import CurrencyError, to_minor_units
from payments.errors import PaymentError
from payments.records import payment_record
from payments.stripe import NAME, client
from payments.stripe.accounts import StripeAccount, is_stripe_id
from payments.stripe.checks import CHECKOUT_EXPIRES_RANGE
from payments.stripe.client import CheckoutSession
from payments.stripe.references import coupon_ensure, tax_rates_ensure
from payments.values import Payable, PaymentStart, ProviderState, ProviderStatus


def _line_items(currency: str, payable: Payable) -> list[dict]:
    """Stripe `line_items` (inline `price_data`, amounts in minor units)."""
    items = []
    for line in payable.lines:
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


# Stripe measures `expires_at` from when it makes the session, a moment (or a retry) after we
# compute it: kept this far inside Stripe's bounds, a lifetime at either bound is never refused.
EXPIRY_LEEWAY_SECONDS = 60


def checkout_expires_at() -> int:
    """When a session made now stops taking payment: CHECKOUT_EXPIRES_MINUTES from now (Unix
    time), within Stripe's 30 minutes to 24 hours."""
    now = int(time.time())
    low, high = (minutes * 60 for minutes in CHECKOUT_EXPIRES_RANGE)
    lifetime = settings.CHECKOUT_EXPIRES_MINUTES * 60
    return now + min(max(lifetime, low + EXPIRY_LEEWAY_SECONDS), high - EXPIRY_LEEWAY_SECONDS)


def checkout_start(
    account: StripeAccount, *, payable: Payable, return_url: str, cancel_url: str
) -> PaymentStart:
    """Open a Checkout Session for `payable` on `account` and record its Payment.

    The discount becomes a coupon and each tax a tax rate on every line, made once per account
    and reused. Stripe fills in `{CHECKOUT_SESSION_ID}` on the way back; `currency` says which
    account to ask. Raises PaymentError.
    """
    line_items = _line_items(account.currency, payable)
    discount = payable.discount
    if discount and discount.amount_off and str(discount.amount_off.currency) != account.currency:
        raise PaymentError(
            f"The discount {discount.name} is in {discount.amount_off.currency}, "
            f"not {account.currency}.",
            status=422,
        )
    tax_rate_ids = tax_rates_ensure(account, payable.taxes)
    if tax_rate_ids:
        for line_item in line_items:
            line_item["tax_rates"] = tax_rate_ids
    separator = "&" if "?" in return_url else "?"
    params = {
        "mode": "payment",
        "line_items": line_items,
        "success_url": f"{return_url}{separator}session_id={{CHECKOUT_SESSION_ID}}"
        f"&currency={account.slug}",
        "cancel_url": cancel_url,
        "client_reference_id": payable.reference,
        "metadata": dict(payable.metadata),
        # An abandoned checkout closes soon (`checkout.session.expired`), so its order can be
        # cancelled; the buyer asking again within it is sent back to it (payment_reusable).
        "expires_at": checkout_expires_at(),
    }
    if payable.email:
        # Checkout shows it, fixed, instead of asking; the receipt still goes where the shop
        # says (customer_details.email reads the same address back).
        params["customer_email"] = payable.email
    if discount is not None:
        params["discounts"] = [{"coupon": coupon_ensure(account, discount)[0]}]
    # One key per checkout attempt: the library's retries of this call reuse it, so a network
    # hiccup can never open two sessions for one click.
    idempotency_key = f"checkout-{payable.reference}-{uuid.uuid4().hex}"
    session = client.checkout_session_create(
        account, params=params, idempotency_key=idempotency_key
    )
    payment_record(
        rail=NAME,
        account=account.identity,
        livemode=account.livemode,
        reference=payable.reference,
        provider_ref=session.id,
        currency=session.currency or account.currency,
        amount=session.amount_total or 0,
        pay_url=session.url or "",
        expires_at=session.expires_at,
    )
    return PaymentStart(rail=NAME, provider_ref=session.id, redirect_url=session.url)


def session_state(
    account: StripeAccount,
    session: CheckoutSession,
    *,
    livemode: bool | None = None,
    failed: bool = False,
) -> ProviderState:
    """What a Checkout Session says of its payment, in the core's words.

    `livemode` is the mode the session was reported in (an event's), the account's by default.
    """
    if session.is_paid:
        status = ProviderStatus.SUCCEEDED
    elif failed:
        status = ProviderStatus.FAILED
    elif session.status == "expired":
        status = ProviderStatus.EXPIRED
    elif session.status == "complete":
        status = ProviderStatus.PROCESSING  # a delayed method (a bank debit) not yet confirmed
    else:
        status = ProviderStatus.PENDING
    return account.state(
        livemode=livemode,
        provider_ref=session.id,
        status=status,
        amount=session.amount_total or 0,
        currency=session.currency or account.currency,
        provider_payment_ref=session.payment_intent,
        payer_email=session.customer_email,
    )


def checkout_confirm(account: StripeAccount, session_id: str) -> ProviderState:
    """Ask Stripe (never the query string) how a Checkout Session stands."""
    if not is_stripe_id(session_id, "cs_"):
        raise PaymentError("This link does not point to a payment.", status=400)
    return session_state(account, client.checkout_session_retrieve(account, session_id))
