"""The payment layer's exceptions: what callers see instead of any provider's error."""


class PaymentError(Exception):
    """A payment step could not be done.

    `message` is written for the buyer and is safe to show on a page; `status` is the HTTP
    status a view should answer with (502 when the provider failed or refused, 503 when it could
    not be reached or no account is configured, 404 when there is no such payment);
    `request_id` is the provider's, for the logs.

    `status` is keyword-only and must be an HTTP error status (400 to 599): a misuse
    (`PaymentError(msg, 400)`, `status="400"`, `status=200`) fails where it is written, as a
    TypeError or ValueError, the first time any test reaches it, instead of turning a refusal
    into a 500 or a success. `payments/tests/test_errors.py` also reads every call in the code.
    """

    def __init__(self, message: str, *, status: int = 502, request_id: str | None = None) -> None:
        if not isinstance(message, str):
            raise TypeError(f"A PaymentError's message is text, not {type(message).__name__}.")
        if not isinstance(status, int) or isinstance(status, bool):
            raise TypeError(f"A PaymentError's status is an int, not {type(status).__name__}.")
        if not 400 <= status <= 599:
            raise ValueError(f"A PaymentError's status is an HTTP error status, not {status}.")
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id


class AccountUnavailable(PaymentError):
    """No account (and no permitted sandbox) of a rail for a currency."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)


class NotificationRejected(PaymentError):
    """A notification that failed authentication; `message` says why (for the log, not money).

    `account` is the rail's identity of the account whose endpoint it reached, when known;
    `fields`, each field's messages by name when the body's fields are what is wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        account: str = "",
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.account = account
        self.fields = fields or {}


class NotificationConflict(PaymentError):
    """An event id delivered before, now saying something else: nothing changes (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409)
