"""Where an order's money stands, in the words a merchant reads: paid, partly refunded (how
much), refunded, a dispute open or lost. Read from the payment layer's balances (one batch of
queries for a page of orders), never stored twice."""

from collections.abc import Iterable
from dataclasses import dataclass

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units
from payments.services import balances_for
from payments.values import Balance
from storefront.models import Order


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor_units(minor, currency), currency)


@dataclass(frozen=True)
class Settlement:
    """An order's state in one word (`state`, for filters and CSV) and in words (`words`)."""

    state: str  # open, cancelled, paid, partly_refunded, refunded
    words: str
    balance: Balance

    @property
    def refunded(self) -> int:
        return self.balance.refunded


def settlement(order: Order, balance: Balance | None) -> Settlement:
    """`order`'s state given its `balance` (None: no payment succeeded)."""
    balance = balance or Balance(currency=order.currency)
    currency = balance.currency or order.currency
    if order.status != Order.Status.PAID:
        state, words = order.status, order.get_status_display()
    elif balance.received and balance.refunded >= balance.received:
        state, words = "refunded", f"Refunded ({_money(balance.refunded, currency)})"
    elif balance.refunded:
        state = "partly_refunded"
        words = (
            f"Partly refunded ({_money(balance.refunded, currency)} of "
            f"{_money(balance.received, currency)})"
        )
    else:
        state, words = "paid", "Paid"
    if balance.disputed_lost:
        words += f"; dispute lost ({_money(balance.disputed_lost, currency)})"
    elif balance.disputes_open:
        words += "; disputed (awaiting a response)"
    return Settlement(state, words, balance)


def settlements(orders: Iterable[Order]) -> dict[int, Settlement]:
    """The settlement of each of `orders`, by order id."""
    orders = list(orders)
    balances = balances_for([order.payment_reference for order in orders])
    return {order.pk: settlement(order, balances.get(order.payment_reference)) for order in orders}


def order_settlement(order: Order) -> Settlement:
    return settlements([order])[order.pk]
