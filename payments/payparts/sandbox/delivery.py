"""The sandbox bank's signed callback to the shop's `responseUrl`, sent once the buyer's
decision commits (`transaction.on_commit`: a rolled-back decision sends nothing).

A URL on Django's test-client host (`testserver`) is delivered in-process through the test
client; any other is POSTed from a daemon thread, so the buyer's redirect does not wait for
the shop to answer its own callback (a single-threaded dev server would deadlock otherwise).
The body and signature are made before the thread starts: it touches no database.
"""

import json
import logging
import threading
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.test import Client

from payments.payparts.sandbox.models import InstalmentPlan
from payments.payparts.sandbox.server import PASSWORDS
from payments.payparts.signatures import callback_signature

logger = logging.getLogger(__name__)

TEST_CLIENT_HOST = "testserver"
TIMEOUT = (3.05, 10)


def callback_body(plan: InstalmentPlan) -> bytes:
    body = {
        "storeId": plan.store_id,
        "orderId": plan.order_id,
        "paymentState": plan.payment_state,
        "message": plan.message,
        "signature": callback_signature(
            password=PASSWORDS[plan.store_id],
            store_id=plan.store_id,
            order_id=plan.order_id,
            payment_state=plan.payment_state,
            message=plan.message,
        ),
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _post(url: str, body: bytes) -> None:
    try:
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
        )
        logger.info("sandbox payparts callback to %s: HTTP %s", url, response.status_code)
    except requests.RequestException as exc:
        logger.warning("sandbox payparts callback to %s failed: %s", url, exc)


def send(url: str, body: bytes) -> None:
    """POST a callback now: in-process on the test client's host, else from a thread."""
    parts = urlsplit(url)
    if parts.hostname == TEST_CLIENT_HOST:
        response = Client().post(parts.path, data=body, content_type="application/json")
        logger.info("sandbox payparts callback to %s: HTTP %s", url, response.status_code)
        return
    threading.Thread(target=_post, args=(url, body), daemon=True, name="payparts-callback").start()


def callback_deliver_on_commit(plan: InstalmentPlan) -> None:
    url, body = plan.response_url, callback_body(plan)
    transaction.on_commit(lambda: send(url, body), robust=True)
