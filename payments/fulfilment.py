"""How the payment layer tells the shop that something was paid, without knowing the shop.

`settings.PAYMENT_FULFILMENT` maps the kind of a reference to the dotted path of the function
that fulfils it: `{"order": "storefront.shop.order_fulfilment.order_mark_paid"}` makes a payment for
`"order-5"` call `order_mark_paid(ident="5", amount=..., currency=..., payment=...)`. The core
calls it inside the transaction that records the payment as succeeded, exactly once per
payment, and writes down what it answered.

`settings.PAYMENT_FULFILMENT_FACTS` may map a kind, the same way, to a function of an expression
(the reference's id part, as a number) that returns an expression of what its handler needs to
know of the thing that id names, as a JSON object, or None where there is no such thing:
`order_payment_facts(ident)`. The core reads it in the same query as the payment it fulfils
(`with_facts`) and hands it to the handler (`facts=`), which then need not read the thing again
before changing it.

`settings.PAYMENT_REFUNDED` maps a kind, the same way, to the function told that money was
given back: `order_refunded(ident="5", refund=...)`, called inside the transaction that records
the refund as succeeded, exactly once per refund (the shop writes down the buyer's notice there,
so it can never be forgotten).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BigIntegerField, Case, JSONField, OuterRef, QuerySet, When
from django.db.models.functions import Cast, Substr
from django.utils.module_loading import import_string

#: The name `with_facts` gives the facts it reads with a payment.
FACTS = "fulfilment_facts"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a fulfilment handler answers: `Outcome.done()`, or `Outcome.refused(note)` saying,
    for the merchant, why what was paid for was not fulfilled (the core writes it on the
    payment)."""

    fulfilled: bool
    note: str = ""  # for the merchant, when not fulfilled

    @classmethod
    def done(cls) -> "Outcome":
        return cls(fulfilled=True)

    @classmethod
    def refused(cls, note: str) -> "Outcome":
        return cls(fulfilled=False, note=note)


Handler = Callable[..., Outcome]


def reference_for(kind: str, ident: object) -> str:
    """The reference of one thing to be paid: `reference_for("order", 5)` is `"order-5"`."""
    return f"{kind}-{ident}"


def _handler(kind: str, handlers: dict[str, str] | None = None) -> Handler | None:
    path = (settings.PAYMENT_FULFILMENT if handlers is None else handlers).get(kind)
    return import_string(path) if path else None


def _facts_functions() -> dict[str, Callable]:
    return {
        kind: import_string(path)
        for kind, path in getattr(settings, "PAYMENT_FULFILMENT_FACTS", {}).items()
    }


def with_facts(payments: QuerySet) -> QuerySet:
    """`payments`, each read with what its kind's fulfilment needs to know of what it pays for
    (`payment.fulfilment_facts`: a dict, or None), in the same query: a subquery per kind, by
    the primary key a reference like `order-5` names."""
    whens = []
    for kind, facts in _facts_functions().items():
        ident = Cast(Substr(OuterRef("reference"), len(kind) + 2), BigIntegerField())
        whens.append(
            When(reference__regex=rf"^{re.escape(kind)}-[0-9]{{1,18}}$", then=facts(ident))
        )
    if not whens:
        return payments
    return payments.annotate(**{FACTS: Case(*whens, default=None, output_field=JSONField())})


def fulfil(*, reference: str, amount: int, currency: str, payment) -> Outcome:
    kind, _, ident = reference.partition("-")
    handler = _handler(kind)
    if handler is None or not ident:
        return Outcome.refused(f"Nothing in this shop is called {reference!r}.")
    extra = {}
    if kind in getattr(settings, "PAYMENT_FULFILMENT_FACTS", {}) and hasattr(payment, FACTS):
        extra["facts"] = getattr(payment, FACTS)
    return handler(ident=ident, amount=amount, currency=currency, payment=payment, **extra)


def refunded(*, refund) -> None:
    """Tell whoever sold what `refund`'s payment paid for that money was given back."""
    kind, _, ident = refund.payment.reference.partition("-")
    handler = _handler(kind, settings.PAYMENT_REFUNDED)
    if handler is not None and ident:
        handler(ident=ident, refund=refund)
