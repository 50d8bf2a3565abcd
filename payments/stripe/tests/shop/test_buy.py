"""`GET /buy/{id}`: a Checkout Session on the Stripe account of the item's currency."""

import time

import pytest
import stripe

from payments.stripe.accounts import account_for
from payments.stripe.sandbox.client import sandbox_outage
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.sandbox.tests.sandbox_tools import requests_of, sandbox_account, session_object
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(monkeypatch):
    """Keep the library's real retry loop, without its half-second back-off."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.001)


def buy(client, item_id):
    return client.get(f"/buy/{item_id}")


def test_buy_answers_the_session_id_and_url_as_json(client):
    item = make_item(price="19.99", currency="USD")

    response = buy(client, item.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"id", "url"}
    assert body["id"].startswith("cs_test_")
    assert body["url"] == f"http://testserver/sandbox/checkout/{body['id']}/"
    assert "no-store" in response["Cache-Control"]


def test_session_is_built_from_our_database_in_minor_units(client):
    item = make_item(name="Notebook", description="Dot grid.", price="19.99", currency="USD")

    session_id = buy(client, item.pk).json()["id"]

    order = Order.objects.get()
    assert [(line.item, line.quantity) for line in order.lines.all()] == [(item, 1)]
    request = requests_of("USD").get(method="POST", path="/v1/checkout/sessions")
    params = dict(request.params)
    # CHECKOUT_EXPIRES_MINUTES (30) from now, a minute inside Stripe's shortest lifetime.
    assert 30 * 60 < int(params.pop("expires_at")) - time.time() <= 31 * 60
    assert params == {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": "1999",
                    "product_data": {"name": "Notebook", "description": "Dot grid."},
                },
                "quantity": "1",
            }
        ],
        "success_url": "http://testserver/payment/stripe/return/"
        "?session_id={CHECKOUT_SESSION_ID}&currency=usd",
        "cancel_url": f"http://testserver/cancel/?item={item.pk}",
        "client_reference_id": f"order-{order.pk}",
        "metadata": {"kind": "order", "order_id": str(order.pk)},
    }
    assert "payment_method_types" not in request.params
    assert request.idempotency_key.startswith(f"checkout-order-{order.pk}-")
    session = session_object(session_id).data
    assert (session["amount_total"], session["currency"]) == (1999, "usd")
    assert session["client_reference_id"] == f"order-{order.pk}"


def test_eur_item_goes_to_the_eur_account_and_never_touches_the_usd_key(client):
    eur_item = make_item(price="24.00", currency="EUR")
    usd_item = make_item(price="19.99", currency="USD")

    eur_session = buy(client, eur_item.pk).json()["id"]
    usd_session = buy(client, usd_item.pk).json()["id"]

    assert sandbox_account("EUR") != sandbox_account("USD")
    eur_requests = requests_of("EUR")
    assert [r.path for r in eur_requests] == ["/v1/checkout/sessions"]
    assert eur_requests.get().key_last4 == account_for("EUR").secret_key[-4:]
    assert session_object(eur_session).account == sandbox_account("EUR")
    assert session_object(eur_session).data["amount_total"] == 2400
    assert session_object(usd_session).account == sandbox_account("USD")
    assert not SandboxRequest.objects.filter(
        account=sandbox_account("USD"), params__line_items__0__price_data__currency="eur"
    ).exists()


def test_a_new_currency_is_sold_through_its_own_account(client, offer_currency):
    offer_currency("JPY")
    item = make_item(price="1500", currency="JPY")

    session_id = buy(client, item.pk).json()["id"]

    session = session_object(session_id)
    assert session.account == sandbox_account("JPY")
    assert (session.data["amount_total"], session.data["currency"]) == (1500, "jpy")


@pytest.mark.parametrize("item_id", ["999", "abc", "-1", "²"])
def test_buy_unknown_item_is_a_json_404(client, item_id):
    make_item()

    response = buy(client, item_id)

    assert response.status_code == 404
    assert response.json() == {"error": "There is no such item."}
    assert not SandboxRequest.objects.exists()


def test_buy_refuses_post(client):
    item = make_item()

    assert client.post(f"/buy/{item.pk}").status_code == 405


def test_unreachable_stripe_is_a_readable_503_after_retries(client, fast_retries):
    item = make_item(currency="EUR")

    with sandbox_outage("unreachable"):
        response = buy(client, item.pk)

    assert response.status_code == 503
    assert response.json() == {
        "error": "We could not reach the payment provider. Please try again in a minute."
    }
    attempts = requests_of("EUR")
    # max_network_retries=2: the library tried three times, with one idempotency key.
    assert attempts.count() == 3
    assert not SandboxObject.objects.exists()


def test_stripe_server_error_is_a_readable_502_and_nothing_is_created(client, fast_retries):
    item = make_item(currency="USD")

    with sandbox_outage("server_error"):
        response = buy(client, item.pk)

    assert response.status_code == 502
    assert "payment provider could not process" in response.json()["error"]
    assert requests_of("USD").filter(status_code=500).count() == 3
    assert not SandboxObject.objects.exists()


def test_the_buy_after_an_outage_works(client, fast_retries):
    item = make_item()
    with sandbox_outage("unreachable"):
        assert buy(client, item.pk).status_code == 503

    assert buy(client, item.pk).status_code == 200


def test_currency_without_account_in_production_is_a_clear_503(client, settings):
    item = make_item(currency="EUR")
    settings.STRIPE_SANDBOX = False

    response = buy(client, item.pk)

    assert response.status_code == 503
    assert response.json()["error"] == (
        "Payments in EUR are not available right now: no Stripe account is configured."
    )
    assert not SandboxRequest.objects.exists()


def test_currency_the_shop_no_longer_sells_in_is_a_clear_503(client, settings):
    item = make_item(currency="EUR")
    settings.SHOP_CURRENCIES = ["USD"]

    response = buy(client, item.pk)

    assert response.status_code == 503
    assert response.json()["error"] == "Payments in EUR are not available in this shop."


def test_a_stripe_refusal_is_a_502_not_a_500(client, settings, monkeypatch):
    item = make_item(currency="USD")
    # A price Stripe cannot take (here: bypassing the model's own validation) is refused by the
    # sandbox as by Stripe, and the buyer gets words, not a traceback.
    monkeypatch.setattr("payments.stripe.checkout.to_minor_units", lambda amount, currency: 10)

    response = buy(client, item.pk)

    assert response.status_code == 502
    assert response.json()["error"].startswith("The payment provider could not process")
    assert requests_of("USD").get().response["error"]["code"] == "amount_too_small"


def test_the_same_browser_asking_again_gets_its_open_session_back(client):
    item = make_item(price="19.99", currency="USD")

    ids = [buy(client, item.pk).json()["id"] for _ in range(5)]

    assert len(set(ids)) == 1
    assert Order.objects.count() == 1
    assert requests_of("USD").filter(path="/v1/checkout/sessions").count() == 1


def test_another_browser_gets_an_order_and_a_session_of_its_own(client):
    from django.test import Client

    item = make_item(price="19.99", currency="USD")

    mine, theirs = buy(client, item.pk).json()["id"], buy(Client(), item.pk).json()["id"]

    assert mine != theirs
    assert Order.objects.count() == 2


def test_a_session_about_to_expire_is_not_handed_out_again(client):
    from datetime import timedelta

    from django.utils import timezone

    from payments.models import Payment
    from payments.records import REUSE_MARGIN

    item = make_item(price="19.99", currency="USD")
    first = buy(client, item.pk).json()["id"]
    Payment.objects.update(expires_at=timezone.now() + REUSE_MARGIN - timedelta(minutes=1))

    second = buy(client, item.pk).json()["id"]

    assert second != first
    assert Order.objects.count() == 1  # the same one-item order, a fresh session


def test_an_order_the_buyer_changed_is_not_reused_for_buy_now(client):
    item = make_item(price="19.99", currency="USD")
    first = buy(client, item.pk).json()["id"]
    Order.objects.get().lines.update(quantity=3)

    second = buy(client, item.pk).json()["id"]

    assert second != first
    assert Order.objects.count() == 2


@pytest.mark.parametrize(("kind", "status"), [("unreachable", 503), ("server_error", 502)])
def test_a_failed_start_leaves_no_order_behind(client, kind, status):
    item = make_item(price="19.99", currency="USD")

    with sandbox_outage(kind):
        response = buy(client, item.pk)

    assert response.status_code == status
    assert not Order.objects.exists()


def test_past_the_limit_a_client_gets_a_clear_429_and_others_do_not(client, settings, monkeypatch):
    from django.test import Client

    settings.SHOP_START_LIMIT = 3
    # At the start of one of the throttle's 5-second slots (a window is counted in 12).
    monkeypatch.setattr("storefront.plumbing.throttle._now", lambda: 1_000_000.0)
    items = [make_item(name=f"Thing {n}") for n in range(5)]

    answers = [buy(client, item.pk) for item in items]
    elsewhere = buy(Client(REMOTE_ADDR="203.0.113.9"), items[0].pk)

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert "Too many payment attempts" in answers[-1].json()["error"]
    # The window slides: these calls stop counting once their slot has left it, a window
    # and a slot after they were made.
    assert answers[-1]["Retry-After"] == "65"
    assert Order.objects.count() == 4  # three of this client's, one of the other's
    assert elsewhere.status_code == 200


def test_the_pay_page_past_the_limit_is_a_429_page(client, settings):
    settings.SHOP_START_LIMIT = 1
    item = make_item()

    client.get(f"/item/{item.pk}/pay/")
    response = client.get(f"/item/{item.pk}/pay/")

    assert response.status_code == 429
    assert "Too many payment attempts" in response.content.decode()


@pytest.mark.parametrize("rail", ["ó", "a/b", "x" * 51])
def test_a_rail_that_is_no_rail_name_is_a_400_naming_the_field(client, rail):
    """Schemathesis found `?rail=ó` a 500 (no return URL can be made for it)."""
    item = make_item()

    response = client.get(f"/buy/{item.pk}", {"rail": rail})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["rail"]
    assert not Order.objects.exists()


def test_an_unknown_rail_is_a_404_as_before(client):
    response = client.get(f"/buy/{make_item().pk}", {"rail": "nosuchrail"})

    assert response.status_code == 404
    assert "error" in response.json()
