"""How the payment layer tells the shop that something was paid, without knowing the shop.

`settings.PAYMENT_FULFILMENT` maps the kind of a reference to the dotted path of the function
that fulfils it: `{"order": "storefront.services.order_mark_paid"}` makes a payment for
`"order-5"` call `order_mark_paid(ident="5", amount=..., currency=..., payment=...)`. The core
calls it inside the transaction that records the payment as succeeded, exactly once per
payment, and writes down what it answered.

`settings.PAYMENT_REFUNDED` maps a kind, the same way, to the function told that money was
given back: `order_refunded(ident="5", refund=...)`, called inside the transaction that records
the refund as succeeded, exactly once per refund (the shop writes down the buyer's notice there,
so it can never be forgotten).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Outcome:
    fulfilled: bool
    note: str = ""  # for the merchant, when not fulfilled


Handler = Callable[..., Outcome]


def reference_for(kind: str, ident: object) -> str:
    """The reference of one thing to be paid: `reference_for("order", 5)` is `"order-5"`."""
    return f"{kind}-{ident}"


def _handler(kind: str, handlers: dict[str, str] | None = None) -> Handler | None:
    path = (settings.PAYMENT_FULFILMENT if handlers is None else handlers).get(kind)
    return import_string(path) if path else None


def fulfil(*, reference: str, amount: int, currency: str, payment) -> Outcome:
    kind, _, ident = reference.partition("-")
    handler = _handler(kind)
    if handler is None or not ident:
        return Outcome(False, f"Nothing in this shop is called {reference!r}.")
    return handler(ident=ident, amount=amount, currency=currency, payment=payment)


def refunded(*, refund) -> None:
    """Tell whoever sold what `refund`'s payment paid for that money was given back."""
    kind, _, ident = refund.payment.reference.partition("-")
    handler = _handler(kind, settings.PAYMENT_REFUNDED)
    if handler is not None and ident:
        handler(ident=ident, refund=refund)
