"""Where an order's money stands, in the words a merchant reads: paid, partly refunded (how
much), refunded, and each dispute as it stands (an inquiry or a chargeback waiting for a
response, and by when; under review; under appeal; won, lost, closed). Read from the payment
layer's balances (one batch of queries for a page of orders), never stored twice."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.formats import date_format

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units
from payments.services import balances_for
from payments.values import Balance, DisputeSummary
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
    if balance.refund_excess:
        words += (
            f"; {_money(balance.refund_excess, currency)} reported refunded beyond what was "
            "paid (flagged, not counted)"
        )
    for phrase in dict.fromkeys(_dispute_words(d, currency) for d in balance.disputes):
        words += f"; {phrase}"
    return Settlement(state, words, balance)


def _respond(what: str, dispute: DisputeSummary) -> str:
    """`what` and the merchant's deadline where there is one ("disputed: respond by ...")."""
    if dispute.respond_by is None:
        return f"{what} (awaiting a response)"
    return f"{what}: respond by {date_format(dispute.respond_by, 'DATE_FORMAT')}"


def _dispute_words(dispute: DisputeSummary, currency: str) -> str:
    """One dispute of the order, as the merchant reads it."""
    amount = _money(dispute.amount, currency)
    status = dispute.status
    if status == "inquiry_needs_response":
        return _respond("inquiry from the buyer's bank", dispute)
    if status == "needs_response":
        return _respond("disputed", dispute)
    if status == "appeal_needs_response":
        return _respond("dispute under appeal", dispute)
    if status == "lost":
        return f"dispute lost{' on appeal' if dispute.appealed else ''} ({amount})"
    if status == "won":
        return f"dispute won{' on appeal' if dispute.appealed else ''}"
    return {
        "inquiry_under_review": "inquiry under review",
        "inquiry_closed": "inquiry closed",
        "under_review": "disputed (under review)",
        "appeal_under_review": "dispute under appeal (the card network decides)",
        "prevented": "dispute prevented",
    }.get(status, "dispute closed")


def settlements(orders: Iterable[Order]) -> dict[int, Settlement]:
    """The settlement of each of `orders`, by order id."""
    orders = list(orders)
    balances = balances_for([order.payment_reference for order in orders])
    return {order.pk: settlement(order, balances.get(order.payment_reference)) for order in orders}


def order_settlement(order: Order) -> Settlement:
    return settlements([order])[order.pk]
