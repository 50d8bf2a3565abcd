"""Every sandbox command finds the shop in one place (payments.shop_address: SHOP_URL), so the
sandbox bank's transfer and the Stripe sandbox's dispute go to the same shop: under
`PORT=8801 make run` (SHOP_URL follows the port) or wherever SHOP_URL says."""

from io import StringIO

import pytest
import stripe
from django.core.management import call_command

from payments.bank_transfer.tests.bank_tools import INN
from payments.stripe.sandbox.client import SandboxHTTPClient
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.events.event_tools import all_events, open_session, pay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandboxes(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"  # recorded with their endpoint, not sent
    settings.BANK_WEBHOOK_SECRET = ""
    settings.BANK_SANDBOX = True


@pytest.fixture
def usd():
    return stripe.StripeClient("sk_test_sandbox_usd", http_client=SandboxHTTPClient())


def command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def dispute_endpoints(dispute_id: str) -> set[str]:
    dispute = SandboxObject.objects.get(id=dispute_id, object="dispute")
    events = all_events()
    return {e.private["endpoint"]["origin"] for e in events if e.id in dispute.private["events"]}


def test_the_bank_transfer_and_the_dispute_go_to_the_shop_at_shop_url(usd, settings):
    settings.SHOP_URL = "http://127.0.0.1:8801/"
    # The buyer paid on another address than the one the shop says it serves on.
    intent_id = pay(open_session(usd, origin="http://127.0.0.1:8000").id).data["payment_intent"]

    command("sandbox_dispute", "open", intent_id)
    curl = command("bank_sandbox", "curl", "--inn", INN, "--amount", "100")

    (dispute,) = SandboxObject.objects.filter(object="dispute")
    assert dispute_endpoints(dispute.id) == {"http://127.0.0.1:8801"}
    assert "POST http://127.0.0.1:8801/api/webhook/bank/ " in curl


def test_an_origin_named_on_the_command_line_wins_for_the_rest_of_the_dispute(usd, settings):
    settings.SHOP_URL = "http://127.0.0.1:8801"
    intent_id = pay(open_session(usd).id).data["payment_intent"]
    command("sandbox_dispute", "open", intent_id)
    (dispute,) = SandboxObject.objects.filter(object="dispute")

    command("sandbox_dispute", "--origin", "http://127.0.0.1:8802", "lose", dispute.id)
    curl = command("bank_sandbox", "curl", "--inn", INN, "--amount", "1", "--url", "http://h:1")

    closed = all_events("charge.dispute.closed")[-1]
    assert closed.private["endpoint"] == {"origin": "http://127.0.0.1:8802", "currency": "usd"}
    assert "POST http://h:1/api/webhook/bank/ " in curl


def test_a_test_client_payment_keeps_its_events_on_the_test_client(usd, settings):
    settings.SHOP_URL = "http://127.0.0.1:8801"
    intent_id = pay(open_session(usd, origin="http://testserver").id).data["payment_intent"]

    command("sandbox_dispute", "open", intent_id)

    created = all_events("charge.dispute.created")[-1]
    assert created.private["endpoint"]["origin"] == "http://testserver"
