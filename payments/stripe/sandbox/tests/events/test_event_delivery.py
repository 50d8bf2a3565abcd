"""The sandbox's webhook events delivered like Stripe's: retried, signed afresh, within a deadline;
and `manage.py sandbox_events` to list, resend and print them."""

import json
import shlex
import shutil
import subprocess
import threading
import time
import urllib.request

import pytest
import stripe
from django.core.management import CommandError, call_command

from payments.models import ReceivedNotification
from payments.stripe.sandbox import events
from payments.stripe.sandbox.tests.events.event_tools import (
    EUR_SECRET,
    USD_SECRET,
    WEBHOOK_PATH,
    all_events,
    closed_port_origin,
    open_session,
    paid_event,
    pay,
    verify,
)
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

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
    server = receiver()
    session = open_session(usd, server.origin)

    pay(session.id)  # autocommit: the payment commits, then a thread per event starts

    threads = [t for t in threading.enumerate() if t.name.startswith("sandbox-webhook-")]
    for thread in threads:
        thread.join(timeout=15)
    sent = all_events()
    assert sorted(t.name for t in threads) == sorted(f"sandbox-webhook-{e.id}" for e in sent)
    assert len(server.received) == 2
    for received in server.received:
        verify(received)
    for event in sent:
        assert event.data["pending_webhooks"] == 0
        assert [d["status"] for d in event.private["deliveries"]] == [200]


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
    for event in all_events():
        assert event.data["pending_webhooks"] == 0
        assert [d["status"] for d in event.private["deliveries"]] == [200]
        assert event.private["deliveries"][0]["url"] == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    records = {
        record.type: (record.account, record.signature_valid, record.status)
        for record in ReceivedNotification.objects.all()
    }
    assert records == {
        # Checkout's own PaymentIntent: acknowledged, left to the session's event.
        "payment_intent.succeeded": ("pk_test_sandbox_usd", True, "ignored"),
        "checkout.session.completed": ("pk_test_sandbox_usd", True, "processed"),
    }
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
