"""The bank's callback: a JSON POST to our `responseUrl` with `storeId, orderId, paymentState,
message, signature`, signed with the store's password.

Read from the raw body whatever its Content-Type says (the old app answered 500 to anything but
exactly `application/json`). The event id is a digest of what the callback says (order, state,
message): the bank resends the same callback until it is acknowledged, and each resend is then
a duplicate the core acknowledges and ignores, while a different state of the same order is a
new event.

What was read is kept for the rail's signals (`signals.py`, django-ok-payparts's `log` and
`request`): an authentic callback's in its Notification's `detail`; a refused one's in
`callback_reading` until the core's rejection is announced (`receivers.py`), since the core's
`notification_rejected` carries the record but not the request.
"""

import hashlib
import json
import unicodedata
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.http import HttpRequest

from payments.errors import NotificationRejected, PaymentError
from payments.models import Payment
from payments.payparts import NAME, config
from payments.payparts.signals import CallbackLog
from payments.payparts.signatures import callback_signature, signature_matches
from payments.values import Notification, ProviderState, ProviderStatus

STATUSES = {
    "SUCCESS": ProviderStatus.SUCCEEDED,
    "FAIL": ProviderStatus.FAILED,
    "CANCELED": ProviderStatus.FAILED,
    "REJECTED": ProviderStatus.FAILED,
    "LOCKED": ProviderStatus.PROCESSING,
}
NAMES = ("storeId", "orderId", "paymentState", "message", "signature")


@dataclass(frozen=True)
class CallbackReceived:
    """An authentic callback, as the rail's `notification_act` announces it."""

    log: CallbackLog
    request: HttpRequest


@dataclass
class CallbackReading:
    """The callback being read in this request: its request, and the fields read so far."""

    request: HttpRequest
    fields: dict[str, str] = field(default_factory=dict)

    def log(self, *, event_id: str = "", rejected=None) -> CallbackLog:
        return CallbackLog(
            event_id=event_id,
            state=self.fields.get("paymentState", ""),
            store_id=self.fields.get("storeId", ""),
            order_id=self.fields.get("orderId", ""),
            message=self.fields.get("message", ""),
            signature=self.fields.get("signature", ""),
            rejected=rejected,
        )


#: Set by `callback_read` while it reads and left set when it refuses the callback; taken (and
#: cleared) by the receiver that announces the refusal.
callback_reading: ContextVar[CallbackReading | None] = ContextVar(
    "payparts_callback_reading", default=None
)

FAILURE_WORDS = {
    "FAIL": "The instalment payment failed.",
    "CANCELED": "The instalment payment was cancelled.",
    "REJECTED": "PrivatBank rejected the instalment plan.",
}


def provider_state(
    store: config.Store, *, order_id: str, payment_state: str, message: str
) -> ProviderState:
    """What the bank says of `order_id`, in the core's words. The amount is the one the bank
    signed at creation (the payment's expected amount): the bank does not repeat it."""
    payment = Payment.objects.filter(rail=NAME, provider_ref=order_id).first()
    status = STATUSES.get(payment_state, ProviderStatus.PENDING)
    if status == ProviderStatus.FAILED:
        message = message or FAILURE_WORDS[payment_state]
    return ProviderState(
        rail=NAME,
        account=store.store_id,
        livemode=store.livemode,
        provider_ref=order_id,
        status=status,
        amount=payment.amount_expected if payment else 0,
        currency=payment.currency if payment else config.CURRENCY,
        message=message,
    )


# What a callback's fields may hold: the bank's own bounds (a store id of 20 characters, an
# order id of 64), and room to spare for its states and messages. A field beyond them, or one
# holding a control character (NUL, which PostgreSQL cannot store) or a lone surrogate (which
# is not text at all), cannot be read: the callback is a recorded rejection, never a 500.
FIELD_MAX_CHARS = {
    "storeId": 20,
    "orderId": 64,
    "paymentState": 32,
    "message": 1000,
    "signature": 64,
}
# A callback is five short fields; anything much longer is not one (nor worth parsing).
BODY_MAX_BYTES = 16_384
# Line breaks are text a bank may put in a message; no other control character is.
MESSAGE_CONTROLS = {"\t", "\n", "\r"}


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are each given once: a body that names a field twice is read
    one way by one parser and another way by the next, so it is not read at all."""
    found = dict(pairs)
    if len(found) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        names = sorted(key for key, count in counts.items() if count > 1)
        raise ValueError(f"duplicate keys: {', '.join(names)[:200]}")
    return found


def field_readable(name: str, value: str) -> bool:
    """Whether `value` is text the field `name` may hold (length, no control characters or
    surrogates)."""
    if len(value) > FIELD_MAX_CHARS[name] or (name == "orderId" and not value):
        return False
    allowed = MESSAGE_CONTROLS if name == "message" else set()
    return not any(
        unicodedata.category(char) in ("Cc", "Cs") and char not in allowed for char in value
    )


def _fields(body: bytes, store_id: str, *, seen: dict[str, str]) -> dict[str, str]:
    """The callback's five fields, each readable text. Raises NotificationRejected. Fields that are
    readable text are put in `seen` as soon as they are found (for the refusal's signal)."""
    if len(body) > BODY_MAX_BYTES:
        raise NotificationRejected(
            f"The body is longer than {BODY_MAX_BYTES} bytes: not a callback.", account=store_id
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotificationRejected("The body is not UTF-8 text.", account=store_id) from exc
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:
        raise NotificationRejected(f"The body is not JSON ({exc}).", account=store_id) from exc
    if not isinstance(data, dict):
        raise NotificationRejected("The body is not a JSON object.", account=store_id)
    data.setdefault("message", "")
    if data["message"] is None:
        data["message"] = ""
    names = NAMES
    seen.update(
        (name, data[name])
        for name in names
        if isinstance(data.get(name), str) and field_readable(name, data[name])
    )
    missing = [name for name in names if not isinstance(data.get(name), str)]
    if missing:
        raise NotificationRejected(f"Missing or not text: {', '.join(missing)}.", account=store_id)
    unreadable = [name for name in names if not field_readable(name, data[name])]
    if unreadable:
        bounds = ", ".join(f"{name} (at most {FIELD_MAX_CHARS[name]})" for name in unreadable)
        raise NotificationRejected(
            f"Unreadable: {bounds} characters, none of them control characters.",
            account=store_id,
        )
    return {name: data[name] for name in names}


def callback_read(request: HttpRequest, *, account: str) -> Notification:
    """Verify a callback for the store `account`; return it as a Notification. Raises
    NotificationRejected (400) when it is not authentic, PaymentError (404) for another store."""
    store = config.store_with_identity(account)
    if store is None:
        raise PaymentError("No such PrivatBank store.", status=404)
    reading = CallbackReading(request=request)
    callback_reading.set(reading)
    fields = _fields(request.body, store.store_id, seen=reading.fields)
    if fields["storeId"] != store.store_id:
        raise NotificationRejected("The callback is for another store.", account=store.store_id)
    expected = callback_signature(
        password=store.password,
        store_id=store.store_id,
        order_id=fields["orderId"],
        payment_state=fields["paymentState"],
        message=fields["message"],
    )
    if not signature_matches(expected, fields["signature"]):
        raise NotificationRejected("The signature does not match.", account=store.store_id)
    callback_reading.set(None)
    said = "\n".join((fields["orderId"], fields["paymentState"], fields["message"]))
    digest = hashlib.sha256(said.encode("utf-8")).hexdigest()
    event_id = f"{fields['orderId'][:64]}:{digest[:32]}"
    return Notification(
        rail=NAME,
        account=store.store_id,
        event_id=event_id,
        type=f"payment.{fields['paymentState'].lower()}"[:100],
        state=provider_state(
            store,
            order_id=fields["orderId"],
            payment_state=fields["paymentState"],
            message=fields["message"],
        ),
        fingerprint=digest,
        detail=CallbackReceived(log=reading.log(event_id=event_id), request=request),
    )
