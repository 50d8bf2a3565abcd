"""Building and posting signed bank deliveries in tests."""

import json
import time
import uuid

from payments.signatures import signature_header

SECRET = "bank_test_secret"
TOKEN = "api-token-for-tests"
INN = "1234567894"  # the demo payer's (fixtures/demo.json): valid check digits
INN_12 = "500100732259"
PAYEE = {
    "name": "Storefront LLC",
    "inn": "7736207543",
    "account": "40702810938000012345",
    "bank": "PAO Test Bank",
    "bic": "044525225",
    "correspondent_account": "30101810400000000225",
}
URL = "/api/webhook/bank/"


def transfer(**changes) -> dict:
    body = {
        "operation_id": str(uuid.uuid4()),
        "amount": 145000,
        "payer_inn": INN,
        "document_number": "PAY-328",
        "document_date": "2024-04-27T21:00:00Z",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not ...}


def post(client, body, *, secret=SECRET, timestamp=None, header=None, raw=None, **extra):
    """POST `body` (or the bytes `raw`) signed with `secret` at `timestamp` (now)."""
    payload = raw if raw is not None else json.dumps(body).encode()
    if header is None:
        header = signature_header(payload, secret, timestamp)
    return client.generic(
        "POST",
        URL,
        payload,
        content_type="application/json",
        HTTP_X_BANK_SIGNATURE=header,
        **extra,
    )


def now() -> int:
    return int(time.time())
