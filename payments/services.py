"""Payment services: what the shop asks of the payment layer."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from djmoney.money import Money

from currencies.minor_units import CurrencyError, to_minor_units
from payments import gateway
from payments.accounts import account_for
from payments.errors import PaymentError
from payments.gateway import CheckoutSession


@dataclass(frozen=True)
class CheckoutLine:
    """One line the buyer pays for, priced from our database."""

    name: str
    unit_price: Money
    quantity: int = 1
    description: str = ""


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
) -> CheckoutSession:
    """Open a Stripe Checkout Session for `lines` on the account of `currency`.

    `reference` identifies what is bought (it becomes `client_reference_id`); `success_url` should
    carry Stripe's `{CHECKOUT_SESSION_ID}` placeholder. Raises PaymentError.
    """
    account = account_for(currency)
    params = {
        "mode": "payment",
        "line_items": checkout_line_items(currency=account.currency, lines=lines),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": reference,
        "metadata": dict(metadata),
    }
    # One key per checkout attempt: the library's retries of this call reuse it, so a network
    # hiccup can never open two sessions for one click.
    idempotency_key = f"checkout-{reference}-{uuid.uuid4().hex}"
    return gateway.checkout_session_create(account, params=params, idempotency_key=idempotency_key)


def checkout_status(*, currency: str, session_id: str) -> CheckoutSession:
    """Ask Stripe (never the query string) how a Checkout Session stands."""
    return gateway.checkout_session_retrieve(account_for(currency), session_id)
