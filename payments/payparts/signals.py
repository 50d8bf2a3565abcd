"""What other apps may react to: django-ok-payparts's two signals, drop-in compatible.

A project moving from `django-ok-payparts` keeps its receivers as they are, e.g.

    def success_callback(sender, log, request, **kwargs):
        if log.is_success:
            Order.objects.get(pk=log.order_id).set_success_payment_state()

- `pay_parts_success_callback(sender=ReceivedNotification, log, request, store_id, order_id,
  message)`: a callback whose signature holds, in any state (SUCCESS, FAIL, CANCELED, ...), as the
  library sent it; `log.is_success` and its kin say which.
- `pay_parts_invalid_callback(sender=ReceivedNotification, log, request, store_id, reason, record)`:
  a delivery to the callback address that was refused (a bad signature, as the library sent
  it, and also a body that is not a readable callback); `reason` says why.

`log` is a `CallbackLog`: the library's `Log` attributes (`type`, `state`, `store_id`,
`order_id`, `token`, `signature`, `message`), its `is_*` state tests, and `record`, our
notification log's row (`payments.ReceivedNotification`), which replaces the library's `Log` table;
`request` is the `HttpRequest` the callback came in. How they differ from the library's, and why:

- Sent after the transaction that recorded the callback commits (the library sent them before
  anything was decided), so a receiver sees the payment already moved and its order paid.
- Once per callback: the bank resends one until it is acknowledged, and a resend (the same
  order, state and message) is a duplicate that sends nothing, where the library sent the
  signal again for each. A new state of the same order is a new callback and is sent.
- The payment itself is the core's: a SUCCESS pays the order (and sends the core's
  `payment_succeeded`) whether or not anyone listens, so receivers should not mark orders paid
  themselves; the library left that to them. A signed callback about an order we never started
  is still sent (the library did too): check `log.order_id` before acting on it.
- `sender` is `ReceivedNotification` (the library's was its `Log` model, which does not exist here).
"""

from dataclasses import dataclass, field

from django.dispatch import Signal

pay_parts_success_callback = Signal()
pay_parts_invalid_callback = Signal()


@dataclass(frozen=True)
class CallbackLog:
    """A callback as django-ok-payparts's `Log` row described it (`type` is always
    "callback": payment creations are not signalled). Fields a refused delivery did not carry
    readably are empty."""

    state: str
    store_id: str
    order_id: str
    message: str
    signature: str
    #: Our notification log's event id for an authentic callback; "" for a refused one.
    event_id: str = ""
    #: The rejection's row, for a refused delivery (the core's bounded rejection record).
    rejected: object = field(default=None, compare=False, repr=False)
    type: str = "callback"
    token: str = ""

    @property
    def record(self):
        """Our notification log's row for this callback (`payments.ReceivedNotification`): what the
        library's `log` itself was. Read when asked for."""
        if self.rejected is not None or not self.event_id:
            return self.rejected
        from payments.models import ReceivedNotification
        from payments.payparts import NAME

        return (
            ReceivedNotification.objects.filter(
                rail=NAME, account=self.store_id, event_id=self.event_id, signature_valid=True
            )
            .order_by("pk")
            .first()
        )

    @property
    def is_success(self) -> bool:
        return self.state == "SUCCESS"

    @property
    def is_fail(self) -> bool:
        return self.state == "FAIL"

    @property
    def is_canceled(self) -> bool:
        return self.state == "CANCELED"

    @property
    def is_rejected(self) -> bool:
        return self.state == "REJECTED"

    @property
    def is_locked(self) -> bool:
        return self.state == "LOCKED"
