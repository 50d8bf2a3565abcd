"""The sandbox's hosted checkout page: what happens on it, as on Stripe's own page.

A Checkout Session's `url` points here (`/sandbox/checkout/<id>/`, on the shop's own origin;
the page is `views.checkout_page`). The page shows the session's lines, its coupon and each tax
rate with the session's own figures (`page_summary`, which adds up to `amount_total` exactly),
and takes a test card (`cards`). A 3-D Secure test card first goes to a confirmation step
(`/sandbox/checkout/<id>/authenticate/`, `views.checkout_authenticate`), as on Stripe's page: the
buyer completes it (paid, as with any paying card) or fails it (the attempt fails, the session
stays open, and the page says why: `checkout_session_authenticate`).

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
from django.urls import reverse

from payments.stripe.sandbox.cards import (
    AUTHENTICATION_FAILED_MESSAGE,
    CARD_DISPUTED,
    CARDS_ASKING_AUTHENTICATION,
    DECLINES,
    LIVE_CARD_MESSAGE,
    PAYING_CARDS,
    Card,
    CardError,
)
from payments.stripe.sandbox.charges import charge_create
from payments.stripe.sandbox.checkout_sessions import expire_if_due, sessions_expire_due
from payments.stripe.sandbox.coupons import coupon_redeem
from payments.stripe.sandbox.dispute_bank import dispute_open
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

    A 3-D Secure card (`cards.CARDS_ASKING_AUTHENTICATION`) pays nothing yet: the session stays
    open with its PaymentIntent in `requires_action` (`authentication_pending` tells), and the
    buyer goes to the confirmation step (`checkout_session_authenticate`).

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
        # A session made with `customer_email` shows it fixed on the page: that is the address.
        email = data.get("customer_email") or email
        if card.number in CARDS_ASKING_AUTHENTICATION:
            _authentication_ask(session, card, email)
            return session
        if card.number not in PAYING_CARDS:
            raise CardError(LIVE_CARD_MESSAGE)
        # After a failed 3-D Secure step, the next card pays the same PaymentIntent.
        _session_paid(session, card, email, intent=_session_intent(session))
        return session


def authentication_pending(session: SandboxObject) -> dict | None:
    """The session's PaymentIntent while it waits for the buyer's 3-D Secure step, else None."""
    intent = _session_intent(session)
    if session.data["status"] != "open" or intent is None:
        return None
    return intent.data if intent.data["status"] == "requires_action" else None


def authentication_failure(session: SandboxObject) -> str | None:
    """What the page says after the buyer failed the 3-D Secure step (until a card pays)."""
    intent = _session_intent(session)
    if session.data["status"] != "open" or intent is None:
        return None
    error = intent.data.get("last_payment_error") or {}
    return error.get("message") if intent.data["status"] == "requires_payment_method" else None


def checkout_session_authenticate(*, session_id: str, complete: bool) -> SandboxObject:
    """The buyer completed (the card pays, as `checkout_session_pay` would) or failed the 3-D
    Secure step of a session's payment.

    Failing it is what Stripe does: the PaymentIntent goes back to `requires_payment_method`
    with a `payment_intent_authentication_failure` error and a `payment_intent.payment_failed`
    event, and the session stays open for another attempt (which uses the same PaymentIntent).
    A session not waiting for the step (paid meanwhile, expired, answered twice) is left as it
    is. Runs under the session's row lock.
    """
    with transaction.atomic():
        session = SandboxObject.objects.select_for_update().get(
            id=session_id, object="checkout.session"
        )
        if authentication_pending(session) is None:
            return session
        intent = _session_intent(session)
        attempt = session.private.pop("authentication")
        if complete:
            card = Card(cvc="", **attempt["card"])
            _session_paid(session, card, attempt["email"], intent=intent)
            return session
        intent.data.update(
            status="requires_payment_method",
            next_action=None,
            last_payment_error={
                "type": "card_error",
                "code": "payment_intent_authentication_failure",
                "decline_code": None,
                "message": AUTHENTICATION_FAILED_MESSAGE,
                "payment_method": {"id": intent.data["payment_method"], "object": "payment_method"},
            },
        )
        intent.save(update_fields=["data"])
        session.save(update_fields=["private"])
        checkout_payment_intent_event(session, intent, "payment_intent.payment_failed")
        return session


def _session_intent(session: SandboxObject) -> SandboxObject | None:
    """The PaymentIntent an attempt to pay the session made (one per session, as at Stripe)."""
    intent_id = session.private.get("payment_intent")
    if not intent_id:
        return None
    return SandboxObject.objects.filter(id=intent_id, object="payment_intent").first()


def _authentication_ask(session: SandboxObject, card: Card, email: str) -> None:
    """Start an attempt with a 3-D Secure card: the PaymentIntent waits for the buyer's step."""
    url = reverse("sandbox:checkout_authenticate", args=[session.id])
    next_action = {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": url,
            "return_url": reverse("sandbox:checkout", args=[session.id]),
        },
    }
    fields = {
        "status": "requires_action",
        "next_action": next_action,
        "payment_method": new_id("pm_"),
        "last_payment_error": None,
    }
    intent = _session_intent(session)
    if intent is None:
        intent_id = new_id("pi_")
        intent = SandboxObject.objects.create(
            id=intent_id,
            account=session.account,
            object="payment_intent",
            data=_session_intent_object(intent_id, session, int(time.time()), **fields),
        )
        session.private["payment_intent"] = intent_id
    else:
        intent.data.update(fields)
        intent.save(update_fields=["data"])
    # What the Charge will show of the card once the step is completed (never the CVC).
    session.private["authentication"] = {
        "card": {"number": card.number, "exp_month": card.exp_month, "exp_year": card.exp_year},
        "email": email,
    }
    session.save(update_fields=["private"])


def _session_paid(
    session: SandboxObject, card: Card, email: str, *, intent: SandboxObject | None = None
) -> None:
    """The card paid: the PaymentIntent (the attempt's, or a new one) succeeds with a Charge,
    the session turns `complete`/`paid`, and the events are recorded. Under the session's lock."""
    data = session.data
    now = int(time.time())
    succeeded = {
        "status": "succeeded",
        "amount_received": data["amount_total"],
        "next_action": None,
        "last_payment_error": None,
    }
    if intent is None:
        intent_id = new_id("pi_")
        intent_object = _session_intent_object(
            intent_id, session, now, payment_method=new_id("pm_"), **succeeded
        )
    else:
        intent_id = intent.id
        intent_object = {**intent.data, **succeeded}
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
    if intent is None:
        intent = SandboxObject.objects.create(
            id=intent_id, account=session.account, object="payment_intent", data=intent_object
        )
        session.private["payment_intent"] = intent_id
    else:
        intent.data = intent_object
        intent.save(update_fields=["data"])
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
    session.save(update_fields=["data", "private"])
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


def _session_intent_object(intent_id: str, session: SandboxObject, now: int, **fields) -> dict:
    """The PaymentIntent of a session's payment, with the session's `payment_intent_data`."""
    data = session.data
    intent_data = session.private.get("payment_intent_data", {})
    return payment_intent_object(
        intent_id=intent_id,
        amount=data["amount_total"],
        currency=data["currency"],
        created=now,
        description=intent_data.get("description"),
        metadata=intent_data.get("metadata", {}),
        **fields,
    )


def return_url(session: SandboxObject, *, success: bool) -> str | None:
    """Where Stripe sends the buyer next, with `{CHECKOUT_SESSION_ID}` filled in."""
    url = session.data["success_url" if success else "cancel_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session.id) if url else None
