"""What happens on the sandbox's hosted checkout page: a buyer pays (or fails to) with a card."""

import re
import time
from dataclasses import dataclass

from django.db import transaction

from payments.stripe.sandbox.api import coupon_redeem, expire_if_due, new_id, payment_intent_object
from payments.stripe.sandbox.events import checkout_session_event
from payments.stripe.sandbox.models import SandboxObject

# Stripe's test cards that the sandbox knows, and what each does.
CARD_SUCCEEDS = "4242424242424242"
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}


class CardError(Exception):
    """The card did not pay; `message` is what Stripe's page would tell the buyer."""

    def __init__(self, message: str, *, decline_code: str | None = None):
        super().__init__(message)
        self.message = message
        self.decline_code = decline_code


@dataclass(frozen=True)
class Card:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    @classmethod
    def from_form(cls, number: str, expiry: str, cvc: str) -> "Card":
        digits = re.sub(r"[\s-]", "", number or "")
        if not digits.isdecimal() or not 12 <= len(digits) <= 19 or not _luhn_ok(digits):
            raise CardError("Your card number is invalid.")
        match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry or "")
        if not match or not 1 <= int(match.group(1)) <= 12:
            raise CardError("Your card's expiration date is incomplete.")
        month, year = int(match.group(1)), int(match.group(2))
        year = year + 2000 if year < 100 else year
        today = time.gmtime()
        if (year, month) < (today.tm_year, today.tm_mon):
            raise CardError("Your card's expiration date is in the past.")
        if not re.fullmatch(r"\d{3,4}", cvc or ""):
            raise CardError("Your card's security code is incomplete.")
        return cls(number=digits, exp_month=month, exp_year=year, cvc=cvc)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def session_for_page(session_id: str) -> SandboxObject | None:
    obj = SandboxObject.objects.filter(id=session_id, object="checkout.session").first()
    if obj is not None:
        expire_if_due(obj)
    return obj


def checkout_session_pay(*, session_id: str, card: Card, email: str) -> SandboxObject:
    """Pay an open session with a test card: it turns `complete`/`paid` and gets a PaymentIntent.

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
        if card.number != CARD_SUCCEEDS:
            raise CardError(
                "Your card was declined. Your request was in test mode, but used a non test "
                "card. Use a test card such as 4242 4242 4242 4242."
            )
        now = int(time.time())
        intent_id = new_id("pi_")
        intent_data = session.private.get("payment_intent_data", {})
        SandboxObject.objects.create(
            id=intent_id,
            account=session.account,
            object="payment_intent",
            data=_succeeded_payment_intent(intent_id, data, intent_data, now),
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
        # Recorded with the payment, sent once it commits (never for a rolled-back payment).
        checkout_session_event(session, "checkout.session.completed")
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
        latest_charge=new_id("ch_"),
        metadata=intent_data.get("metadata", {}),
        payment_method=new_id("pm_"),
        status="succeeded",
    )


def return_url(session: SandboxObject, *, success: bool) -> str | None:
    """Where Stripe sends the buyer next, with `{CHECKOUT_SESSION_ID}` filled in."""
    url = session.data["success_url" if success else "cancel_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session.id) if url else None
