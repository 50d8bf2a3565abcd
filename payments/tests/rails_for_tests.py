"""A minimal rail for testing the core without any provider: it reads a JSON body
`{"id": ..., "says": ..., "payment": ...}` posted to /payments/webhooks/echo/<account>/."""

import hashlib
import json

from payments.errors import PaymentError, WebhookRejected
from payments.rails import Rail
from payments.values import Notification, ProviderState, ProviderStatus

ACTED: list[str] = []  # the event ids notification_act was called for, in order


class EchoRail(Rail):
    name = "echo"
    verbose_name = "Echo"

    def notification_read(self, *, request, account):
        if account != "main":
            raise PaymentError("No such account.", status=404)
        if request.headers.get("X-Echo-Secret") != "s3cret":
            raise WebhookRejected("Not signed.", account=account, status=401)
        body = json.loads(request.body)
        state = None
        if body.get("payment"):
            state = ProviderState(
                rail=self.name,
                account=account,
                livemode=False,
                provider_ref=body["payment"],
                status=ProviderStatus.SUCCEEDED,
                amount=100,
                currency="USD",
            )
        return Notification(
            rail=self.name,
            account=account,
            event_id=body["id"],
            type="echo",
            state=state,
            fingerprint=hashlib.sha256(body.get("says", "").encode()).hexdigest(),
        )

    def notification_act(self, notification):
        ACTED.append(notification.event_id)
        return True
