"""The sandbox's hosted checkout page: what happens on it, as on Stripe's own page.

A Checkout Session's `url` points here (`/sandbox/checkout/<id>/`, on the shop's own origin;
the page is `views.checkout_page`). The page shows the session's lines, its coupon and each tax
rate with the session's own figures (`page_summary`, which adds up to `amount_total` exactly),
and takes a test card (`cards`).

Paying (`checkout_session_pay`) works like Stripe's: under the session's row lock, so two
submissions of the page pay once; an overdue session expires first (and stays expired even
though the payment is then refused); a declined or unknown card raises `CardError` and leaves
the session open. A paid session turns `complete`/`paid`, gets a succeeded PaymentIntent
(`payment_intents.payment_intent_object`, with the session's `payment_intent_data`), counts its
coupon's redemption (`coupons.coupon_redeem`), and records one `checkout.session.completed`
event (`events`), sent once the payment commits. The buyer then goes to the session's
`success_url` (or back to its `cancel_url`) with `{CHECKOUT_SESSION_ID}` filled in
(`return_url`).
"""

import time

from django.db import transaction

from payments.stripe.sandbox.cards import (
    CARD_DISPUTED,
    DECLINES,
    LIVE_CARD_MESSAGE,
    PAYING_CARDS,
    Card,
    CardError,
)
from payments.stripe.sandbox.charges import charge_create
from payments.stripe.sandbox.checkout_sessions import expire_if_due, sessions_expire_due
from payments.stripe.sandbox.coupons import coupon_redeem
from payments.stripe.sandbox.disputes import dispute_open
from payments.stripe.sandbox.events import (
    checkout_payment_intent_event,
    checkout_session_event,
    session_endpoint,
)
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import new_id
from payments.stripe.sandbox.payment_intents import payment_intent_object


def session_for_page(session_id: str) -> SandboxObject | None:
    obj = SandboxObject.objects.filter(id=session_id, object="checkout.session").first()
    if obj is not None:
        # Opening a page is the sandbox's moment to catch up with Stripe's clock, for every
        # session of the account (their expired events go out now, as Stripe's would have).
        sessions_expire_due(obj.account)
        expire_if_due(obj)
    return obj


def checkout_session_pay(*, session_id: str, card: Card, email: str) -> SandboxObject:
    """Pay an open session with a test card: it turns `complete`/`paid` and gets a PaymentIntent.

    The buyer's `email` becomes `customer_details.email`, unless the session was made with a
    `customer_email`, which Stripe's page shows fixed and uses instead.

    Runs under a row lock, so two submissions of the page pay once, and record one
    `checkout.session.completed` event (delivered after the commit, see `events`). Raises
    CardError for a declined or unknown card and leaves the session open, as Stripe does.
    """
    with transaction.atomic():
        session = SandboxObject.objects.select_for_update().get(
            id=session_id, object="checkout.session"
        )
        # Expiring an overdue session (and its event) must stick even though paying fails:
        # it commits on its own, before the refusal below.
        expire_if_due(session)
    with transaction.atomic():
        session = SandboxObject.objects.select_for_update().get(
            id=session_id, object="checkout.session"
        )
        data = session.data
        if data["status"] == "complete":
            return session
        if data["status"] != "open":
            raise CardError("This checkout session has expired. Go back to the shop to try again.")
        if card.number in DECLINES:
            _, decline_code, message = DECLINES[card.number]
            raise CardError(message, decline_code=decline_code)
        if card.number not in PAYING_CARDS:
            raise CardError(LIVE_CARD_MESSAGE)
        # A session made with `customer_email` shows it fixed on the page: that is the address.
        email = data.get("customer_email") or email
        now = int(time.time())
        intent_id = new_id("pi_")
        intent_data = session.private.get("payment_intent_data", {})
        intent_object = _succeeded_payment_intent(intent_id, data, intent_data, now)
        # The money movement: a Charge, where refunds and disputes happen, whose later events
        # go where this session's went.
        charge_create(
            account=session.account,
            intent=intent_object,
            card=card,
            email=email or None,
            secret=session.private.get("webhook_secret"),
            endpoint=session_endpoint(session),
        )
        intent = SandboxObject.objects.create(
            id=intent_id, account=session.account, object="payment_intent", data=intent_object
        )
        data.update(
            status="complete",
            payment_status="paid",
            payment_intent=intent_id,
            url=None,
            customer_details={
                "address": None,
                "business_name": None,
                "email": email or None,
                "individual_name": None,
                "name": None,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        session.save(update_fields=["data"])
        coupon = session.private.get("coupon")
        if coupon:
            # Stripe counts a coupon's redemption when the session using it is paid.
            coupon_redeem(account=session.account, coupon_id=coupon["id"])
        # Recorded with the payment, sent once it commits (never for a rolled-back payment), in
        # Stripe's order: the PaymentIntent's event, then the session's.
        checkout_payment_intent_event(session, intent, "payment_intent.succeeded")
        checkout_session_event(session, "checkout.session.completed")
        if card.number == CARD_DISPUTED:
            # The buyer's bank disputes it at once: its events follow the payment's.
            dispute_open(intent_id)
        return session


def page_summary(session: SandboxObject) -> dict:
    """What the hosted page shows under the lines: the coupon, each tax rate, the tax in all.

    The figures are the session's own (`total_details`, each line's `taxes`), so the page adds
    up to `amount_total` exactly.
    """
    private = session.private
    rates = private.get("tax_rates", {})
    tax_rows: dict[str, dict] = {}
    for line in private["line_items"]:
        for tax in line.get("taxes", []):
            rate = tax["rate"]
            row = tax_rows.setdefault(
                rate["id"],
                {
                    "display_name": rate["display_name"],
                    "percentage": rates.get(rate["id"], {}).get("percentage")
                    or str(rate["percentage"]),
                    "inclusive": rate["inclusive"],
                    "amount": 0,
                },
            )
            row["amount"] += tax["amount"]
    coupon = private.get("coupon")
    totals = session.data["total_details"]
    return {
        "coupon": (
            {**coupon, "label": coupon["name"] or coupon["id"]} if coupon is not None else None
        ),
        "amount_discount": totals["amount_discount"],
        "tax_rows": list(tax_rows.values()),
        "amount_tax": totals["amount_tax"],
        "amount_tax_included": sum(row["amount"] for row in tax_rows.values() if row["inclusive"]),
    }


def _succeeded_payment_intent(intent_id: str, session: dict, intent_data: dict, now: int) -> dict:
    return payment_intent_object(
        intent_id=intent_id,
        amount=session["amount_total"],
        currency=session["currency"],
        created=now,
        amount_received=session["amount_total"],
        description=intent_data.get("description"),
        metadata=intent_data.get("metadata", {}),
        payment_method=new_id("pm_"),
        status="succeeded",
    )


def return_url(session: SandboxObject, *, success: bool) -> str | None:
    """Where Stripe sends the buyer next, with `{CHECKOUT_SESSION_ID}` filled in."""
    url = session.data["success_url" if success else "cancel_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session.id) if url else None
