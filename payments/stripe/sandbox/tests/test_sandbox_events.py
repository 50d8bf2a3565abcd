"""The sandbox's webhook events: recorded like Stripe's, signed and delivered like Stripe's.

Nothing here talks to anything but 127.0.0.1: sessions whose events are delivered point their
return URLs at a tiny HTTP server the test starts; every other session's events stay unsent
(`STRIPE_SANDBOX_WEBHOOKS = "off"`).
"""

import json
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe
from django.core.management import CommandError, call_command
from django.db import transaction

from payments.models import WebhookEvent
from payments.stripe.sandbox import events
from payments.stripe.sandbox.cards import Card, CardError
from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import API_VERSION, account_id_for_key
from payments.stripe.sandbox.tests.sandbox_tools import session_object
from payments.stripe.sandbox.tests.test_sandbox_api import session_params
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "fixtures3.json"
CARD = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")
DECLINED = Card(number="4000000000000002", exp_month=12, exp_year=2040, cvc="123")
USD_SECRET = "whsec_sandbox_usd"
EUR_SECRET = "whsec_sandbox_eur"
WEBHOOK_PATH = "/payments/webhooks/stripe/usd/"


@pytest.fixture(autouse=True)
def webhooks_off(settings):
    """Events are recorded, never sent, unless a test sends them itself."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"
    return settings


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(events, "RETRY_DELAYS", (0.01, 0.01, 0.01))


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


@pytest.fixture
def receiver():
    started = []

    def start(*statuses):
        started.append(Receiver(statuses))
        return started[-1]

    yield start
    for server in started:
        server.close()


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


# --- Which events, when ---------------------------------------------------------------------


def test_paying_emits_one_completed_event_with_the_paid_session(usd):
    session = open_session(usd)

    pay(session.id)

    (event,) = all_events()
    assert event.data["type"] == "checkout.session.completed"
    assert (
        event.account
        == account_id_for_key("sk_test_sandbox_usd")
        == session_object(session.id).account
    )
    paid = event.data["data"]["object"]
    assert paid == session_object(session.id).data
    assert (paid["id"], paid["object"]) == (session.id, "checkout.session")
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert (paid["amount_total"], paid["currency"]) == (3998, "usd")
    assert paid["payment_intent"].startswith("pi_")


def test_the_event_keeps_a_snapshot_of_the_object():
    session = {"id": "cs_test_x", "object": "checkout.session", "metadata": {"a": "1"}}
    event = events.event_create(
        account="acct_x", type="checkout.session.completed", obj=session, secret=None, endpoint=None
    )

    session["metadata"]["a"] = "changed later"

    event.refresh_from_db()
    assert event.data["data"]["object"]["metadata"] == {"a": "1"}


def test_paying_twice_emits_one_event(usd):
    session = open_session(usd)

    pay(session.id)
    pay(session.id)

    assert len(all_events()) == 1


def test_a_declined_card_emits_nothing(usd):
    session = open_session(usd)

    with pytest.raises(CardError):
        pay(session.id, DECLINED)

    assert all_events() == []
    assert session_object(session.id).data["status"] == "open"


def test_a_rolled_back_payment_records_and_sends_nothing(
    usd, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    started = []
    monkeypatch.setattr(events, "deliver_in_background", started.append)
    session = open_session(usd)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        pay(session.id)
        raise RuntimeError("the payment's transaction fails after the event")

    assert callbacks == [] and started == []
    assert all_events() == []
    assert session_object(session.id).data["status"] == "open"


def test_thread_mode_starts_delivery_only_after_commit_and_once(
    usd, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    started = []
    monkeypatch.setattr(events, "deliver_in_background", started.append)
    session = open_session(usd)

    with django_capture_on_commit_callbacks() as callbacks:
        pay(session.id)
        pay(session.id)
    assert started == []  # not committed yet: nothing sent

    for callback in callbacks:
        callback()
    (event,) = all_events()
    assert started == [event.id]


def test_off_mode_records_the_event_undelivered(usd, django_capture_on_commit_callbacks):
    session = open_session(usd)

    with django_capture_on_commit_callbacks() as callbacks:
        pay(session.id)

    assert callbacks == []
    (event,) = all_events()
    assert event.data["pending_webhooks"] == 1
    assert event.private["deliveries"] == []
    assert events.delivery_state(event) == "unsent"


def test_events_for_the_test_clients_host_are_not_sent(
    usd, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    session = open_session(usd, origin="http://testserver")

    with django_capture_on_commit_callbacks() as callbacks:
        pay(session.id)

    assert callbacks == []
    (event,) = all_events()
    assert events.event_endpoint(event).url == "http://testserver" + WEBHOOK_PATH
    assert events.delivery_state(event) == "unsent"


def test_expiring_through_the_api_emits_expired(usd):
    session = open_session(usd)

    usd.v1.checkout.sessions.expire(session.id)

    (event,) = all_events()
    assert event.data["type"] == "checkout.session.expired"
    expired = event.data["data"]["object"]
    assert (expired["id"], expired["status"], expired["url"]) == (session.id, "expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        usd.v1.checkout.sessions.expire(session.id)
    assert len(all_events()) == 1


def test_a_session_past_expires_at_emits_expired_once_when_looked_at(usd):
    session = open_session(usd)
    row = session_object(session.id)
    row.data["expires_at"] = int(time.time()) - 1
    row.save()

    assert usd.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert usd.v1.checkout.sessions.retrieve(session.id).status == "expired"
    with pytest.raises(CardError):
        pay(session.id)

    (event,) = all_events()
    assert event.data["type"] == "checkout.session.expired"
    assert event.data["data"]["object"]["status"] == "expired"


# --- The event ------------------------------------------------------------------------------


def test_event_has_exactly_the_fields_of_stripes_example(usd):
    if not FIXTURES.is_file():
        pytest.skip(f"Stripe's example objects are not at {FIXTURES}")
    example = json.loads(FIXTURES.read_text())["resources"]["event"]

    event = paid_event(usd).data

    assert set(event) == set(example)
    assert set(event["data"]) == set(example["data"])
    assert set(event["request"]) == set(example["request"])
    assert re.fullmatch(r"evt_[A-Za-z0-9]{24}", event["id"])
    assert len(event["id"]) == len(example["id"])
    assert event["object"] == "event"
    assert event["api_version"] == API_VERSION == stripe.api_version
    assert abs(event["created"] - time.time()) < 60
    assert (event["livemode"], event["pending_webhooks"]) == (False, 1)
    assert event["request"] == {"id": None, "idempotency_key": None}


def test_the_webhook_secret_stays_out_of_the_event_and_the_api(usd):
    session = open_session(usd)
    pay(session.id)
    (event,) = all_events()

    assert session_object(session.id).private["webhook_secret"] == USD_SECRET
    assert session_object(session.id).private["webhook_currency"] == "usd"
    assert "whsec_" not in json.dumps(event.data)
    assert "whsec_" not in json.dumps(usd.v1.checkout.sessions.retrieve(session.id).to_dict())
    assert "whsec_" not in json.dumps(usd.v1.events.retrieve(event.id).to_dict())


def test_each_account_signs_with_its_own_secret(usd, eur):
    session = eur.v1.checkout.sessions.create(
        session_params(
            line_items=[
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 500,
                        "product_data": {"name": "Mug"},
                    },
                    "quantity": 1,
                }
            ]
        )
    )
    pay(session.id)
    (event,) = all_events()

    assert session_object(session.id).private["webhook_secret"] == EUR_SECRET
    assert events.event_endpoint(event).url == "https://shop.example/payments/webhooks/stripe/eur/"


def test_retrieve_through_the_library_is_account_isolated(usd, eur):
    event = paid_event(usd)

    retrieved = usd.v1.events.retrieve(event.id)

    assert isinstance(retrieved, stripe.Event)
    assert retrieved.to_dict() == event.data
    assert retrieved.type == "checkout.session.completed"
    assert retrieved.data.object["id"] == event.data["data"]["object"]["id"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        eur.v1.events.retrieve(event.id)
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        usd.v1.events.retrieve("evt_" + "x" * 24)
    assert missing.value.code == "resource_missing"


def test_the_signature_verifies_with_the_accounts_secret_only(usd):
    event = paid_event(usd)
    body = events.event_body(event)
    header = events.signature_header(event, body)

    stripe.WebhookSignature.verify_header(body, header, USD_SECRET, tolerance=300)
    assert stripe.Webhook.construct_event(body, header, USD_SECRET).id == event.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, header, EUR_SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body + " ", header, USD_SECRET, tolerance=300)
    stale = events.signature_header(event, body, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, stale, USD_SECRET, tolerance=300)


def test_the_endpoint_is_the_shops_webhook_url_on_the_return_urls_origin(usd):
    event = paid_event(usd, origin="http://127.0.0.1:8000")

    assert events.event_endpoint(event).url == "http://127.0.0.1:8000" + WEBHOOK_PATH


@pytest.mark.urls("payments.stripe.sandbox.urls")  # a URLconf without the shop's webhook endpoint
def test_the_endpoint_falls_back_to_the_documented_path():
    assert events.endpoint_for("https://shop.example", "USD").url == (
        "https://shop.example" + WEBHOOK_PATH
    )


def test_no_web_origin_no_endpoint():
    assert events.endpoint_for("", "usd") is None
    assert events.endpoint_for("://", "usd") is None
    assert events.endpoint_for("ftp://shop.example", "usd") is None
    assert events.endpoint_for("http://[::1", "usd") is None


# --- Delivery -------------------------------------------------------------------------------


def test_delivery_retries_until_2xx_with_a_fresh_valid_signature(usd, receiver):
    server = receiver(500, 500, 200)
    event = paid_event(usd, origin=server.origin)

    assert events.deliver(event.id) is True

    event.refresh_from_db()
    deliveries = event.private["deliveries"]
    assert [d["status"] for d in deliveries] == [500, 500, 200]
    assert [d["trigger"] for d in deliveries] == ["automatic", "retry", "retry"]
    assert all(d["url"] == server.origin + WEBHOOK_PATH for d in deliveries)
    assert event.data["pending_webhooks"] == 0
    assert events.delivery_state(event) == "delivered"
    assert len(server.received) == 3
    for received in server.received:
        assert (received["method"], received["path"]) == ("POST", WEBHOOK_PATH)
        assert received["headers"]["content-type"] == "application/json; charset=utf-8"
        assert received["headers"]["user-agent"] == (
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
        )
        verify(received)
        with pytest.raises(stripe.SignatureVerificationError):
            verify(received, EUR_SECRET)
        sent = json.loads(received["body"])
        assert sent["id"] == event.id
        assert sent["data"]["object"]["payment_status"] == "paid"
    assert "whsec_" not in json.dumps(event.data)


def test_an_unreachable_endpoint_is_given_up_after_the_retries(usd):
    event = paid_event(usd, origin=closed_port_origin())
    started = time.monotonic()

    assert events.deliver(event.id) is False

    assert time.monotonic() - started < 5
    event.refresh_from_db()
    deliveries = event.private["deliveries"]
    assert len(deliveries) == 1 + len(events.RETRY_DELAYS) == 4
    assert all(d["status"] is None and d["error"] for d in deliveries)
    assert event.private["gave_up_at"]
    assert event.data["pending_webhooks"] == 1
    assert events.delivery_state(event) == "failed"


def test_redirects_are_not_followed(usd, receiver):
    server = receiver(302, 302, 302, 302)
    event = paid_event(usd, origin=server.origin)

    assert events.deliver(event.id) is False

    assert [r["method"] for r in server.received] == ["POST"] * 4
    event.refresh_from_db()
    assert [d["status"] for d in event.private["deliveries"]] == [302] * 4


def test_retries_are_a_few_and_stay_within_ten_seconds(monkeypatch):
    monkeypatch.undo()  # the real delays, not the test's short ones
    assert len(events.RETRY_DELAYS) >= 3
    assert sum(events.RETRY_DELAYS) < events.DELIVERY_DEADLINE_SECONDS <= 10
    assert events.DELIVERY_TIMEOUT_SECONDS <= 5


def test_a_slow_endpoint_is_cut_off_at_the_deadline(usd, receiver, monkeypatch):
    monkeypatch.setattr(events, "DELIVERY_DEADLINE_SECONDS", 0.5)
    server = receiver(200)
    server.delay = 2.0
    event = paid_event(usd, origin=server.origin)
    started = time.monotonic()

    assert events.deliver(event.id) is False

    assert time.monotonic() - started < 1.5
    event.refresh_from_db()
    (only,) = event.private["deliveries"]  # timed out, and no time left to retry
    assert only["status"] is None and "timed out" in only["error"]
    assert event.private["gave_up_at"]


@pytest.mark.django_db(transaction=True)
def test_thread_mode_delivers_after_commit_to_the_endpoint(usd, settings, receiver):
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    server = receiver(503, 200)
    session = open_session(usd, server.origin)

    pay(session.id)  # autocommit: the payment commits, then the thread starts

    threads = [t for t in threading.enumerate() if t.name.startswith("sandbox-webhook-")]
    for thread in threads:
        thread.join(timeout=15)
    (event,) = all_events()
    assert [t.name for t in threads] == [f"sandbox-webhook-{event.id}"]
    assert len(server.received) == 2
    verify(server.received[-1])
    assert event.data["pending_webhooks"] == 0
    assert [d["status"] for d in event.private["deliveries"]] == [503, 200]


@pytest.mark.django_db(transaction=True)
def test_the_shops_own_endpoint_accepts_the_sandboxs_event(live_server, settings):
    """End to end, as `make run` works: pay, and the shop's server receives the signed event."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "thread"
    port = live_server.url.rsplit(":", 1)[1]
    item = make_item(price="19.99", currency="USD")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/buy/{item.pk}", timeout=10) as response:
        session_id = json.load(response)["id"]

    pay(session_id)

    for thread in threading.enumerate():
        if thread.name.startswith("sandbox-webhook-"):
            thread.join(timeout=15)
    (event,) = all_events()
    assert event.data["pending_webhooks"] == 0
    assert [d["status"] for d in event.private["deliveries"]] == [200]
    assert event.private["deliveries"][0]["url"] == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    record = WebhookEvent.objects.get(event_id=event.id)
    assert (record.account, record.signature_valid, record.status) == ("USD", True, "processed")
    assert Order.objects.get().status == Order.Status.PAID


# --- The command ----------------------------------------------------------------------------


def run(*args) -> str:
    out = []

    class Out:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("sandbox_events", *args, stdout=Out())
    return "".join(out)


def test_list_shows_recent_events_and_their_delivery(usd, receiver):
    server = receiver()
    delivered = paid_event(usd, origin=server.origin)
    events.deliver(delivered.id)
    unsent = open_session(usd)
    usd.v1.checkout.sessions.expire(unsent.id)
    expired = all_events("checkout.session.expired")[0]

    output = run("list")

    lines = output.splitlines()
    assert lines[0].split()[:5] == ["ID", "TYPE", "CREATED", "DELIVERY", "LAST"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[delivered.id][1] == "checkout.session.completed"
    assert rows[delivered.id][3:6] == ["delivered", "200", server.origin + WEBHOOK_PATH]
    assert rows[expired.id][1] == "checkout.session.expired"
    assert rows[expired.id][3:5] == ["unsent", "-"]
    assert lines[1].startswith(expired.id)  # newest first
    assert run("list", "--limit", "1").count("evt_") == 1


def test_list_without_events():
    assert "No sandbox events yet." in run("list")


def test_resend_delivers_the_same_event_again_now(usd, receiver):
    server = receiver()
    event = paid_event(usd, origin=server.origin)

    output = run("resend", event.id)

    assert f"POST {server.origin}{WEBHOOK_PATH}" in output
    assert "\n200 " in output
    (received,) = server.received
    verify(received)
    assert json.loads(received["body"]) == event.data  # the same event, id and all
    event.refresh_from_db()
    assert [(d["trigger"], d["status"]) for d in event.private["deliveries"]] == [("resend", 200)]
    assert event.data["pending_webhooks"] == 0


def test_resend_says_when_the_endpoint_refuses(usd, receiver):
    server = receiver(400)
    event = paid_event(usd, origin=server.origin)

    with pytest.raises(CommandError, match=r"did not accept the event \(400\)"):
        run("resend", event.id)

    event.refresh_from_db()
    assert [d["status"] for d in event.private["deliveries"]] == [400]


def test_resend_to_another_origin(usd, receiver):
    server = receiver()
    event = paid_event(usd)  # made for https://shop.example: never contacted

    run("resend", event.id, "--origin", server.origin)

    (received,) = server.received
    assert received["path"] == WEBHOOK_PATH
    verify(received)


def test_curl_prints_a_freshly_signed_command_for_the_exact_body(usd, receiver):
    server = receiver()
    event = paid_event(usd, origin=server.origin)

    output = run("curl", event.id)

    comment, command = output.split("\n", 1)
    assert comment.startswith("#") and "5 minutes" in comment
    words = shlex.split(command.replace(" \\\n", " "))
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", server.origin + WEBHOOK_PATH]
    headers = dict(
        words[index + 1].split(": ", 1) for index, word in enumerate(words) if word == "-H"
    )
    body = words[words.index("--data-binary") + 1]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert body == events.event_body(event)
    stripe.WebhookSignature.verify_header(body, headers["Stripe-Signature"], USD_SECRET, 300)
    if shutil.which("curl") and shutil.which("bash"):
        done = subprocess.run(  # noqa: S603
            [shutil.which("bash"), "-c", command],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "HTTP/1.0 200" in done.stdout
        (received,) = server.received
        assert received["body"] == body
        verify(received)


@pytest.mark.parametrize("action", ["resend", "curl"])
def test_unknown_event_is_a_clear_error(action):
    with pytest.raises(CommandError, match=r"No such event: 'evt_unknown'"):
        run(action, "evt_unknown")


@pytest.mark.parametrize("action", ["resend", "curl"])
def test_an_event_without_endpoint_is_a_clear_error(action):
    event = events.event_create(
        account="acct_x", type="checkout.session.completed", obj={}, secret=None, endpoint=None
    )

    with pytest.raises(CommandError, match="no webhook endpoint"):
        run(action, event.id)
