"""Stripe's test cards that the sandbox knows, and what each does; reading a card from a form.

- 4242 4242 4242 4242 (`CARD_SUCCEEDS`) pays.
- 4000 0000 0000 0002 declines (`card_declined`/`generic_decline`) and 4000 0000 0000 9995 for
  insufficient funds (`DECLINES`: code, decline code, the message the buyer sees).
- 4000 0025 0000 3155 and 4000 0027 6000 3184 (`CARDS_ASKING_AUTHENTICATION`) ask for a 3-D
  Secure confirmation step first, on the hosted Checkout page (`hosted_checkout`) and in the
  Payment Element (`payment_confirmation`) alike; the buyer completes it (the card pays) or fails
  it (the attempt fails with `payment_intent_authentication_failure`). As Stripe's testing docs
  say, the first asks "unless set up" (a saved card paying off-session later needs none; the
  sandbox models no saved cards, so every payment with it asks), the second always asks.
- 4000 0000 0000 5126 and 4000 0000 0000 7726 pay, and then their refunds settle later
  (`REFUND_BEHAVIOURS`): as Stripe's testing docs say, a refund of the first "begins as
  `succeeded`" and later turns `failed` (`failure_reason` `expired_or_canceled_card`, with a
  `refund.failed` event); one of the second begins `pending` and later turns `succeeded`. Every
  other paying card's refunds succeed at once.
- 4000 0000 0000 0259 (`CARD_DISPUTED`) pays, and then, as Stripe's testing docs say, the
  payment is disputed as fraudulent (`dispute_bank.dispute_open`, right after its own events).
- Any other valid number is a "live" card in test mode, declined with `LIVE_CARD_MESSAGE`.

`Card.from_form` reads what the buyer typed (spaces and dashes allowed; a number that passes
the Luhn check; an expiry not in the past, as `MM / YY`, `MM/YY`, `MMYY` or with a four-digit
year; a 3- or 4-digit CVC) and raises `CardError` with the message Stripe's page would show.
"""

import re
import time
from dataclasses import dataclass

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
# 3-D Secure: "requires authentication unless set up", and "always requires authentication".
CARD_AUTHENTICATION_UNLESS_SET_UP = "4000002500003155"
CARD_NEEDS_AUTHENTICATION = "4000002760003184"
CARDS_ASKING_AUTHENTICATION = frozenset(
    {CARD_AUTHENTICATION_UNLESS_SET_UP, CARD_NEEDS_AUTHENTICATION}
)
AUTHENTICATION_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)
# Cards that pay, and how their refunds go: (status a refund begins in, status it settles in
# later, the failure_reason if it fails). Refunds of any other paying card succeed at once.
CARD_REFUND_FAILS = "4000000000005126"
CARD_REFUND_PENDING = "4000000000007726"
REFUND_BEHAVIOURS = {
    CARD_REFUND_FAILS: ("succeeded", "failed", "expired_or_canceled_card"),
    CARD_REFUND_PENDING: ("pending", "succeeded", None),
}
# Pays, then the buyer's bank disputes the payment as fraudulent (a chargeback).
CARD_DISPUTED = "4000000000000259"
PAYING_CARDS = frozenset({CARD_SUCCEEDS, CARD_DISPUTED, *REFUND_BEHAVIOURS})
LIVE_CARD_MESSAGE = (
    "Your card was declined. Your request was in test mode, but used a non test "
    "card. Use a test card such as 4242 4242 4242 4242."
)


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
        # "12 / 34" as Stripe's field shows it, "12/34", "1234" as typed, or a 4-digit year.
        match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry or "")
        match = match or re.fullmatch(r"\s*(\d{2})(\d{2}|\d{4})\s*", expiry or "")
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
