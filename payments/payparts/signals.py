"""What other apps may react to, named as `django-ok-payparts` named them. Both are sent after
the transaction that recorded the callback commits, besides the core's `payment_succeeded`,
`payment_failed` and `webhook_rejected`.

- `pay_parts_success_callback(sender, store_id, order_id, message)`: a first, authentic SUCCESS
  callback (a repeat of it is a duplicate and sends nothing).
- `pay_parts_invalid_callback(sender, store_id, reason, record)`: a callback that failed
  verification; `record` is its row in the notification log.
"""

from django.dispatch import Signal

pay_parts_success_callback = Signal()
pay_parts_invalid_callback = Signal()
