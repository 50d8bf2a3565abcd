"""Orders paid at Stripe (the sandbox) whose webhooks never arrived: what reconcile recovers."""

from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.tests.webhook_tools import CARD
from payments.values import Method
from storefront.models import Order
from storefront.services import order_payment_start
from storefront.tests.factories import make_item, make_order


def order_started(currency: str, price: str = "19.99") -> tuple[Order, str]:
    """A one-line order in `currency` whose Checkout Session is open; (order, session id)."""
    order = make_order((make_item(price=price, currency=currency), 1))
    start = order_payment_start(
        order=order,
        rail="stripe",
        method=Method.REDIRECT,
        return_url="http://testserver/payment/stripe/return/",
        cancel_url="http://testserver/cancel/",
    )
    return order, start.provider_ref


def order_paid_at_stripe(currency: str, price: str = "19.99") -> tuple[Order, str]:
    """An order the buyer paid on Checkout, with no webhook delivered and no return page seen:
    Stripe has the money and its events (undelivered: the session's URLs are the test
    client's), the shop still thinks the order open. Returns (order, session id)."""
    order, session_id = order_started(currency, price)
    checkout_session_pay(session_id=session_id, card=CARD, email="buyer@example.com")
    return order, session_id
