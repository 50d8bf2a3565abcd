"""What other apps may react to, without editing the payment code.

Each is sent once per real change, after the transaction that made it commits.
- `payment_succeeded(sender=Payment, payment=...)`: money was taken.
- `payment_failed(sender=Payment, payment=...)`: a payment failed or its checkout expired.
- `refund_succeeded(sender=Refund, refund=...)`: money was given back (from our admin or the
  provider's dashboard).
- `refund_failed(sender=Refund, refund=...)`: a refund was refused, failed or was cancelled.
- `dispute_changed(sender=Dispute, dispute=...)`: a dispute was opened, or its status moved.
- `notification_rejected(sender=ReceivedNotification, account=..., reason=...)`: a delivery failed
  verification.
"""

from django.dispatch import Signal

payment_succeeded = Signal()
payment_failed = Signal()
refund_succeeded = Signal()
refund_failed = Signal()
dispute_changed = Signal()
notification_rejected = Signal()
