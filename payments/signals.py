"""What other apps may react to, without editing the payment code.

Each is sent once per real change, after the transaction that made it commits.
- `payment_succeeded(sender=Payment, payment=...)`: money was taken.
- `payment_failed(sender=Payment, payment=...)`: a payment failed or its checkout expired.
- `webhook_rejected(sender=WebhookEvent, account=..., reason=...)`: a delivery failed verification.
"""

from django.dispatch import Signal

payment_succeeded = Signal()
payment_failed = Signal()
webhook_rejected = Signal()
