"""Orders paid at Stripe (the sandbox) whose webhooks never arrived: what reconcile recovers."""

from payments.stripe.tests.checkout_tools import checkout_opened, checkout_paid
from storefront.models import Order
from storefront.tests.factories import make_item, make_order


def order_started(currency: str, price: str = "19.99") -> tuple[Order, str]:
    """A one-line order in `currency` whose Checkout Session is open; (order, session id)."""
    order = make_order((make_item(price=price, currency=currency), 1))
    return order, checkout_opened(order)


def order_paid_at_stripe(currency: str, price: str = "19.99") -> tuple[Order, str]:
    """An order the buyer paid on Checkout, with no webhook delivered and no return page seen:
    Stripe has the money and its events (undelivered: the session's URLs are the test
    client's), the shop still thinks the order open. Returns (order, session id)."""
    order = make_order((make_item(price=price, currency=currency), 1))
    return order, checkout_paid(order)
