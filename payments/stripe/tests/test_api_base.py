"""STRIPE_API_BASE: an account with keys talks to another API base when told to (Stripe's mock
server, a recording proxy, a regional endpoint), through the same client and code path.

The first tests point a keyed account at a small recording server of their own on 127.0.0.1
and start a real checkout through it. The last runs the shop's Stripe calls against Stripe's
official mock server, `stripe-mock`, when `STRIPE_MOCK_URL` names one (see docs: it is not a
package any registry here serves, so it is skipped unless you run one yourself).
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from payments.stripe import client as gateway
from payments.stripe.accounts import account_for

#: A one-line Checkout Session, as the shop asks for one.
CHECKOUT = {
    "mode": "payment",
    "line_items": [
        {
            "quantity": 1,
            "price_data": {
                "currency": "usd",
                "unit_amount": 1999,
                "product_data": {"name": "Notebook"},
            },
        }
    ],
    "success_url": "http://127.0.0.1/success/",
}
KEYS = {"secret_key": "sk_test_base1", "publishable_key": "pk_test_base1", "webhook_secret": "w"}


class _Recorder(BaseHTTPRequestHandler):
    """Answers every POST to /v1/checkout/sessions as Stripe would, and remembers it."""

    seen: list[tuple[str, str, dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.seen.append((self.path, self.headers.get("Authorization", ""), parse_qs(body)))
        answer = json.dumps(
            {
                "id": "cs_test_recorded",
                "object": "checkout.session",
                "url": "https://checkout.example/cs_test_recorded",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": 1999,
                "currency": "usd",
                "metadata": {},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", "req_recorded")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Recorder.seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def keyed_usd(settings):
    settings.STRIPE_ACCOUNTS = {**settings.STRIPE_ACCOUNTS, "USD": dict(KEYS)}
    return account_for("USD")


def test_a_keyed_account_talks_to_the_configured_base(settings, recorder, keyed_usd):
    base, seen = recorder
    settings.STRIPE_API_BASE = base

    session = gateway.checkout_session_create(
        keyed_usd,
        params=CHECKOUT,
        idempotency_key="key-1",
    )

    assert session.id == "cs_test_recorded"
    [(path, authorization, form)] = seen
    assert path == "/v1/checkout/sessions"
    assert authorization == "Bearer sk_test_base1"  # this account's own key
    assert form["line_items[0][price_data][unit_amount]"] == ["1999"]


def test_without_the_setting_keyed_accounts_go_to_stripe(settings, keyed_usd):
    settings.STRIPE_API_BASE = ""

    client = gateway.client_for(keyed_usd)

    assert client._requestor._options.base_addresses.get("api") == "https://api.stripe.com"


def test_the_sandbox_is_never_redirected(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    client = gateway.client_for(account_for("EUR"))  # no keys: the sandbox

    assert client._requestor._options.base_addresses["api"] == gateway.SANDBOX_API_BASE


@pytest.mark.skipif(
    not os.environ.get("STRIPE_MOCK_URL"),
    reason="set STRIPE_MOCK_URL to a running stripe-mock (docs/stripe.md) to run this",
)
def test_the_shops_stripe_calls_against_stripe_mock(settings):
    settings.STRIPE_API_BASE = os.environ["STRIPE_MOCK_URL"]
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "USD": {
            "secret_key": "sk_test_123",
            "publishable_key": "pk_test_123",
            "webhook_secret": "w",
        },
    }
    account = account_for("USD")

    session = gateway.checkout_session_create(
        account,
        params=CHECKOUT,
        idempotency_key="stripe-mock-1",
    )
    assert session.id.startswith("cs_")
    assert gateway.checkout_session_retrieve(account, session.id).id
    intent = gateway.payment_intent_create(
        account,
        params={"amount": 1999, "currency": "usd"},
        idempotency_key="stripe-mock-2",
    )
    assert intent.id.startswith("pi_")
    assert gateway.payment_intent_retrieve(account, intent.id).id
