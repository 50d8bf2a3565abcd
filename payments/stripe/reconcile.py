"""What `payments_reconcile` asks of Stripe, per account: the events it may not have delivered,
and how a payment still pending stands.

Stripe keeps an account's events for 30 days and lists them (List Events). An event the shop
never received (its endpoint was down, misconfigured, or the webhook secret was rotated
wrongly) is still there, with `delivery_success=false` until an attempt succeeds. Those are
read first; then every event of the window, for one that was delivered but whose processing
failed here (the core's record tells: it is processed again) or that arrived under another
account's endpoint. Each is read exactly as a webhook's body is (`events.event_read`) and handed
to the core, which records it once per account and event id.
"""

import json
import logging
from collections.abc import Iterator
from datetime import datetime

from payments.errors import NotificationRejected, PaymentError
from payments.stripe import client
from payments.stripe.accounts import StripeAccount, account_with_identity
from payments.stripe.checkout import checkout_confirm
from payments.stripe.events import event_read
from payments.stripe.intents import payment_intent_confirm
from payments.values import Notification, ProviderState

logger = logging.getLogger(__name__)

# As many events per request as Stripe gives: a window of days is a few requests.
PAGE_SIZE = 100


def _window(account: StripeAccount, params: dict) -> list[dict]:
    """The events `params` lists, oldest first: a payment's story is told in its order (a
    declined attempt before the success), as the webhooks would have told it."""
    return list(reversed(list(client.events_list(account, params={**params, "limit": PAGE_SIZE}))))


def missed_notifications(
    account: StripeAccount, *, since: datetime
) -> Iterator[tuple[Notification, str]]:
    """`account`'s events since `since` as notifications, each once: undelivered ones first.

    The payload is the event as JSON, what the webhook would have carried. Raises PaymentError
    when Stripe cannot be asked (before anything is yielded: both lists are read first).
    """
    created = {"gte": int(since.timestamp())}
    undelivered = _window(account, {"created": created, "delivery_success": False})
    everything = _window(account, {"created": created})
    seen: set[str] = set()
    for event in [*undelivered, *everything]:
        if event.get("id") in seen:
            continue
        seen.add(event.get("id"))
        try:
            notification = event_read(account, event)
        except NotificationRejected as exc:
            # Stripe's own list never holds such a thing; if it did, a webhook would have been
            # refused just the same.
            logger.error("stripe event %s on %s: %s", event.get("id"), account.label, exc)
            continue
        yield notification, json.dumps(event, indent=2)


def payment_state(payment) -> ProviderState:
    """Ask the account that took `payment` how its Checkout Session or PaymentIntent stands."""
    account = account_with_identity(payment.account)
    if account is None:
        raise PaymentError("This payment's Stripe account is no longer configured.", status=404)
    if payment.provider_ref.startswith("cs_"):
        return checkout_confirm(account, payment.provider_ref)
    return payment_intent_confirm(account, payment.provider_ref)
