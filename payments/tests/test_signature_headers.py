"""The one signature verifier (payments.signatures), through both endpoints that use it: a
header that cannot be read is a 400, recorded as a rejection, with no traceback in the log,
however long it or its timestamp is."""

import json
import time

import pytest
from django.test import Client

from payments.models import ReceivedNotification
from payments.signatures import (
    HEADER_MAX_CHARS,
    TIMESTAMP_MAX_DIGITS,
    SignatureInvalid,
    signature_header,
    signature_verify,
)

pytestmark = pytest.mark.django_db

BANK_SECRET = "bank_test_secret"
BANK_URL = "/api/webhook/bank/"
STRIPE_URL = "/payments/webhooks/stripe/usd/"
BODY = json.dumps({"id": "evt_1", "object": "event", "type": "ping"}).encode()


@pytest.fixture(autouse=True)
def both_endpoints(settings):
    settings.PAYMENT_RAILS = [
        "payments.stripe.rail.StripeRail",
        "payments.bank_transfer.rail.BankTransferRail",
    ]
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_WEBHOOK_SECRET = BANK_SECRET
    settings.BANK_WEBHOOK_ALLOWED_IPS = []
    settings.BANK_SANDBOX = False


def post(url: str, header: str):
    name = "HTTP_X_BANK_SIGNATURE" if url == BANK_URL else "HTTP_STRIPE_SIGNATURE"
    client = Client(raise_request_exception=False)
    return client.generic("POST", url, BODY, content_type="application/json", **{name: header})


UNREADABLE = [
    "t=" + "1" * 4301 + ",v1=" + "a" * 64,  # past Python's limit on int() digits
    "t=" + "9" * 5000,
    "t=" + "1" * (TIMESTAMP_MAX_DIGITS + 1) + ",v1=ab",
    "t=1700000000,v1=" + "a" * HEADER_MAX_CHARS,
    "v1=ab," * 2000,
    "t=١٢٣,v1=ab",  # digits, but not ASCII ones
    "t=,v1=ab",
    "garbage",
]


@pytest.mark.parametrize("url", [BANK_URL, STRIPE_URL])
@pytest.mark.parametrize("header", UNREADABLE, ids=lambda h: f"{h[:12]}…{len(h)}")
def test_an_unreadable_signature_header_is_a_400_and_no_traceback(url, header, caplog):
    caplog.set_level("INFO")
    response = post(url, header)
    assert response.status_code == 400, response.content[:300]
    assert "Unable to extract timestamp and signatures" in response.json()["error"]
    assert not [record for record in caplog.records if record.exc_info]
    assert "Traceback" not in caplog.text
    rejected = ReceivedNotification.objects.get()
    assert (rejected.status, rejected.signature_valid) == (
        ReceivedNotification.Status.REJECTED,
        False,
    )
    assert len(rejected.error) <= 500 and len(rejected.payload) <= 500


@pytest.mark.parametrize("url", [BANK_URL, STRIPE_URL])
def test_ten_unreadable_headers_share_one_bounded_row(url):
    for size in range(4301, 4311):
        assert post(url, "t=" + "7" * size + ",v1=ab").status_code == 400
    rejected = ReceivedNotification.objects.get()
    assert rejected.rejections == 10


def test_a_header_at_the_bounds_is_still_read():
    now = int(time.time())
    header = signature_header(BODY, "s", now)
    padded = header + "," + "v0=" + "f" * (HEADER_MAX_CHARS - len(header) - 4)
    assert len(padded) == HEADER_MAX_CHARS
    assert signature_verify(payload=BODY, header=padded, secret="s", now=now) == now
    with pytest.raises(SignatureInvalid) as caught:
        signature_verify(payload=BODY, header=padded + "f", secret="s", now=now)
    assert caught.value.malformed
    # The longest timestamp read is merely outside the tolerance, not unreadable.
    far = 10**TIMESTAMP_MAX_DIGITS - 1
    with pytest.raises(SignatureInvalid) as caught:
        signature_verify(payload=BODY, header=signature_header(BODY, "s", far), secret="s")
    assert not caught.value.malformed and "future" in caught.value.message
