"""The payment layer's one exception: what callers see instead of any Stripe error."""


class PaymentError(Exception):
    """A payment step could not be done.

    `message` is written for the buyer and is safe to show on a page; `status` is the HTTP
    status a view should answer with (502 when the provider failed or refused, 503 when it could
    not be reached or no account is configured); `request_id` is Stripe's, for the logs.
    """

    def __init__(self, message: str, *, status: int = 502, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id


class AccountUnavailable(PaymentError):
    """No Stripe account (and no permitted sandbox) for a currency."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)


class WebhookRejected(PaymentError):
    """A webhook delivery that failed verification; `message` says why (for the log, not money)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=400)
