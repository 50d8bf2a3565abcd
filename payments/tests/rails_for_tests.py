"""A minimal rail for testing the core without any provider: it reads a JSON body
`{"id": ..., "says": ..., "payment": ...}` posted to /payments/webhooks/echo/<account>/."""

import hashlib
import json

from payments.errors import NotificationRejected, PaymentError
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
            raise NotificationRejected("Not signed.", account=account, status=401)
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


class LedgerRail(Rail):
    """A rail whose provider lists what it sent and answers how a payment stands, from the
    class's own tables (for the core's reconcile tests): `SENT[account]` is a list of
    (event id, provider_ref of a payment it says succeeded, or None); `STATES[provider_ref]`
    what the provider says of a payment; an account in `DOWN` cannot be reached; an event id
    in `BREAKS` makes processing fail."""

    name = "ledger"
    verbose_name = "Ledger"
    SENT: dict[str, list[tuple[str, str | None]]] = {}
    STATES: dict[str, ProviderStatus] = {}
    DOWN: set[str] = set()
    BREAKS: set[str] = set()

    def accounts(self):
        return ["main", "spare"]

    def account_codes(self, account):
        return ("LDG",) if account == "main" else ()

    def _state(self, account, provider_ref, status):
        return ProviderState(
            rail=self.name,
            account=account,
            livemode=False,
            provider_ref=provider_ref,
            status=status,
            amount=100,
            currency="USD",
        )

    def missed_notifications(self, *, account, since):
        if account in self.DOWN:
            raise PaymentError("The ledger is down.", status=503)
        for event_id, paid in self.SENT.get(account, []):
            state = self._state(account, paid, ProviderStatus.SUCCEEDED) if paid else None
            notification = Notification(
                rail=self.name, account=account, event_id=event_id, type="paid", state=state
            )
            yield notification, json.dumps({"id": event_id})

    def notification_act(self, notification):
        if notification.event_id in self.BREAKS:
            raise RuntimeError(f"{notification.event_id} breaks")
        return False

    def payment_state(self, payment):
        if payment.account in self.DOWN:
            raise PaymentError("The ledger is down.", status=503)
        if payment.provider_ref not in self.STATES:
            raise PaymentError("We could not find this payment.", status=404)
        return self._state(payment.account, payment.provider_ref, self.STATES[payment.provider_ref])


class MuteRail(Rail):
    """A rail with an account and no way to ask its provider anything."""

    name = "mute"
    verbose_name = "Mute"

    def accounts(self):
        return ["only"]
