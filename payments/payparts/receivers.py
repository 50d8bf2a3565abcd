"""The core announces every rejected notification (after commit); ours are re-announced as
`pay_parts_invalid_callback`, with django-ok-payparts's `log` and `request` (`signals.py`)."""

from payments.payparts import NAME
from payments.payparts.callback import callback_reading
from payments.payparts.signals import CallbackLog, pay_parts_invalid_callback


def invalid_callback_announce(sender, *, account, reason, record, **kwargs) -> None:
    if record.rail != NAME:
        return
    # What `callback_read` read of the refused delivery in this request, taken once.
    reading = callback_reading.get()
    callback_reading.set(None)
    if reading is not None:
        log, request = reading.log(rejected=record), reading.request
    else:
        log, request = CallbackLog("", account, "", "", "", rejected=record), None
    pay_parts_invalid_callback.send(
        sender=type(record),
        log=log,
        request=request,
        store_id=account,
        reason=reason,
        record=record,
    )
