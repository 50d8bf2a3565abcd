"""How the payment layer tells the shop that something was paid, without knowing the shop.

An app registers a handler for the references it makes (`"order-5"` → kind `"order"`). The
payment layer calls it inside the transaction that records the payment as succeeded, exactly
once per payment, and writes down what the handler answered.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    fulfilled: bool
    note: str = ""  # for the merchant, when not fulfilled


Handler = Callable[..., Outcome]
_handlers: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """`handler(ident=..., amount=..., currency=..., payment=...)` fulfils what `kind-ident` is."""
    _handlers[kind] = handler


def fulfil(*, reference: str, amount: int, currency: str, payment) -> Outcome:
    kind, _, ident = reference.partition("-")
    handler = _handlers.get(kind)
    if handler is None or not ident:
        return Outcome(False, f"Nothing in this shop is called {reference!r}.")
    return handler(ident=ident, amount=amount, currency=currency, payment=payment)
