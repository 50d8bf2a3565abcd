"""Paying an order as a buyer does, in the sandbox's Checkout, for the tests of what comes after
a payment (refunds, disputes, reconcile, receipts): open the session, pay it at "Stripe", and
come back to the shop's return page, or stop anywhere along the way."""

from payments.services import payment_confirm
from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.values import Method
from storefront.shop.order_payment import order_payment_start

CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")
# The test client's made-up host: the sandbox records the session's events but sends none.
RETURN_URL = "http://testserver/payment/stripe/return/"
CANCEL_URL = "http://testserver/cancel/"


def checkout_opened(order) -> str:
    """Start paying `order` through Stripe Checkout; return the open session's id."""
    start = order_payment_start(
        order=order,
        rail="stripe",
        method=Method.REDIRECT,
        return_url=RETURN_URL,
        cancel_url=CANCEL_URL,
    )
    return start.provider_ref


def checkout_paid(order, *, card: Card = CARD, email: str = "buyer@example.com") -> str:
    """Open a session for `order` and pay it with `card` on the sandbox's page (typing `email`);
    the shop has heard nothing yet. Returns the session's id."""
    session_id = checkout_opened(order)
    checkout_session_pay(session_id=session_id, card=card, email=email)
    return session_id


def order_paid(order, *, card: Card = CARD, email: str = "buyer@example.com"):
    """Pay `order` in Checkout and come back as the buyer does (the return page confirms it
    with Stripe); return its Payment. The order is refreshed."""
    session_id = checkout_paid(order, card=card, email=email)
    query = {"session_id": session_id, "currency": order.currency.lower()}
    _, payment = payment_confirm(rail="stripe", query=query)
    order.refresh_from_db()
    return payment
