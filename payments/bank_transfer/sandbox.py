"""The sandbox bank: builds and signs deliveries exactly as a bank of this kind does, and posts
them to the shop's own endpoint, so a demo (or a merchant replaying a delivery by hand) sees an
order paid by transfer. It signs with the rail's secret: the sandbox's where no
BANK_WEBHOOK_SECRET is set and the sandbox is allowed."""

import datetime
import json
import shlex
import urllib.error
import urllib.request
import uuid

from payments.bank_transfer import config
from payments.bank_transfer.webhook import SIGNATURE_HEADER
from payments.errors import PaymentError
from payments.signatures import signature_header

WEBHOOK_PATH = "/api/webhook/bank/"


def delivery_body(
    *, inn: str, amount: int, reference: str = "", operation_id: str | None = None
) -> bytes:
    """The JSON a bank posts for one incoming transfer quoting `reference`."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    document = {
        "operation_id": operation_id or str(uuid.uuid4()),
        "amount": amount,
        "payer_inn": inn,
        "document_number": f"PAY-{now:%H%M%S} {reference}".strip(),
        "document_date": now.isoformat().replace("+00:00", "Z"),
        "currency": config.currency(),
    }
    return json.dumps(document).encode()


def _secret() -> str:
    secret = config.webhook_secret()
    if not secret:
        raise PaymentError(
            "No BANK_WEBHOOK_SECRET, and the sandbox bank is not allowed.", status=503
        )
    return secret


def delivery_curl(body: bytes, *, base_url: str) -> str:
    """A curl line that posts `body`, signed now (valid for five minutes)."""
    header = signature_header(body, _secret())
    return (
        f"curl -sS -X POST {shlex.quote(base_url.rstrip('/') + WEBHOOK_PATH)} "
        f"-H 'Content-Type: application/json' -H {shlex.quote(f'{SIGNATURE_HEADER}: {header}')} "
        f"--data-binary {shlex.quote(body.decode())}"
    )


def delivery_post(body: bytes, *, base_url: str, timeout: float = 10) -> tuple[int, str]:
    """Sign `body` now and post it to the shop at `base_url`; return (status, answer)."""
    request = urllib.request.Request(  # noqa: S310 (our own shop's URL, http or https)
        base_url.rstrip("/") + WEBHOOK_PATH,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(body, _secret()),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
