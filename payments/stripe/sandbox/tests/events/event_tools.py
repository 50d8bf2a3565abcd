"""Shared by the tests of the sandbox's events: sessions paid to make events, and a webhook
endpoint on 127.0.0.1 (nothing here talks to anything else)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe

from payments.stripe.sandbox.cards import Card
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.test_sandbox_api import session_params

CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")
DECLINED = Card(number="4000000000000002", exp_month=12, exp_year=2040, cvc="123")
USD_SECRET = "whsec_sandbox_usd"
EUR_SECRET = "whsec_sandbox_eur"
WEBHOOK_PATH = "/payments/webhooks/stripe/usd/"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers the given statuses in turn (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        self.delay = 0.0  # seconds to wait before answering
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self._answer("POST")

            def do_GET(self):
                self._answer("GET")

            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.received.append(
                    {
                        "method": method,
                        "path": self.path,
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                        "body": self.rfile.read(length).decode(),
                    }
                )
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                payload = json.dumps({"status": status}).encode()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/somewhere-else/")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port_origin() -> str:
    """An origin on 127.0.0.1 where nothing listens (a port just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def open_session(client, origin="https://shop.example"):
    return client.v1.checkout.sessions.create(
        session_params(
            success_url=f"{origin}/success/?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{origin}/cancel/",
        )
    )


def pay(session_id, card=CARD):
    return checkout_session_pay(session_id=session_id, card=card, email="buyer@example.com")


def all_events(type=None):
    rows = SandboxObject.objects.filter(object="event").order_by("created", "id")
    return list(rows.filter(data__type=type) if type else rows)


def paid_event(client, origin="https://shop.example") -> SandboxObject:
    session = open_session(client, origin)
    pay(session.id)
    (event,) = all_events("checkout.session.completed")
    return event


def verify(received: dict, secret: str = USD_SECRET) -> None:
    stripe.WebhookSignature.verify_header(
        received["body"], received["headers"]["stripe-signature"], secret, tolerance=300
    )
