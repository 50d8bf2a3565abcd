"""The core announces every rejected notification (after commit); ours are re-announced as
`pay_parts_invalid_callback`, the name projects hooking into the old app listen for."""

from payments.payparts import NAME
from payments.payparts.signals import pay_parts_invalid_callback


def invalid_callback_announce(sender, *, account, reason, record, **kwargs) -> None:
    if record.rail == NAME:
        pay_parts_invalid_callback.send(
            sender=type(record), store_id=account, reason=reason, record=record
        )
