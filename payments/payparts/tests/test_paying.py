"""Paying in parts from the shop's pages: the option, the start, the bank's refusals, the way
back. The bank is the sandbox bank, reached through the client's real code path."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from currencies.formatting import format_money
from payments.errors import PaymentError
from payments.models import Payment
from payments.payparts import client as bank_client
from payments.payparts import config
from payments.payparts.create_request import CreateRequest
from payments.payparts.sandbox.models import InstalmentPlan
from payments.payparts.sandbox.transport import sandbox_outage, sandbox_refusal, sandbox_tamper
from payments.payparts.signatures import Product
from storefront.models import Order
from storefront.tests.factories import make_item

from .payparts_tools import buy, uah_item

pytestmark = pytest.mark.django_db


def test_a_uah_item_offers_pay_in_parts_with_the_instalments(client):
    item = uah_item("1200.00")
    page = client.get(f"/item/{item.pk}").content.decode()
    assert "Pay in parts (PrivatBank)" in page
    # In the buyer's own notation for hryvnias (currencies.formatting: "600,00 ₴").
    assert f"2 parts of {format_money(Decimal('600.00'), 'UAH')}" in page
    assert 'value="6"' in page and 'value="7"' not in page  # PAYPARTS_PARTS_COUNT_MAX
    assert "pay with Stripe" not in page.lower() or "Card (Stripe)" not in page


def test_the_instalment_labels_say_what_the_bank_charges(client, settings):
    settings.PAYPARTS_PARTS_COUNT_MAX = 3
    item = uah_item("1450.00")
    page = client.get(f"/item/{item.pk}").content.decode()

    def uah(amount):
        return format_money(Decimal(amount), "UAH")

    # 3 × 483.34 would be 1,450.02: the first part takes the kopeck left over, not every part.
    assert f">3 parts: first {uah('483.34')}, then 2 × {uah('483.33')}<" in page
    assert f">2 parts of {uah('725.00')}<" in page
    assert f"parts of {uah('483.34')}" not in page
    assert 'value="4"' not in page


def test_other_currencies_do_not_offer_it(client):
    item = make_item(price="500.00", currency="USD")
    assert "Pay in parts" not in client.get(f"/item/{item.pk}").content.decode()


@pytest.mark.parametrize("price", ["299.99", "50000.01"])
def test_out_of_range_says_why(client, price):
    item = uah_item(price)
    page = client.get(f"/item/{item.pk}").content.decode()
    assert "Paying in parts is possible for" in page
    assert 'id="payparts-form"' not in page


def test_buy_creates_the_payment_at_the_bank_and_redirects_to_its_page(client):
    item = uah_item("1200.00")
    response = buy(client, item, parts=4)
    assert response.status_code == 200, response.content
    data = response.json()
    url = urlsplit(data["url"])
    assert url.path == config.SANDBOX_PAGE_PATH
    token = parse_qs(url.query)["token"][0]
    plan = InstalmentPlan.objects.get(token=token)
    assert plan.order_id == data["id"]
    assert (plan.amount, plan.parts_count, plan.merchant_type) == (Decimal("1200.00"), 4, "PP")
    assert plan.response_url == "http://testserver/payments/payparts/callback/"
    assert plan.redirect_url.startswith("http://testserver/payment/payparts/return/?orderId=")
    payment = Payment.objects.get(rail="payparts", provider_ref=data["id"])
    assert (payment.account, payment.amount_expected, payment.livemode) == (
        config.SANDBOX_STORE_ID,
        120000,
        False,
    )


def test_the_sandbox_banks_page_writes_the_money_as_the_shop_does(client):
    item = uah_item("1450.00", name="Kosiv tea set")
    data = buy(client, item, parts=3).json()
    page = client.get(data["url"]).content.decode()
    total = format_money(Decimal("1450.00"), "UAH")  # 1 450,00 ₴
    assert f'<dd id="payparts-amount">{total}</dd>' in page
    assert f"Kosiv tea set × 1 at {total}" in page
    assert "UAH" not in page.split("<h1>", 1)[1].split("</dl>", 1)[0]


@pytest.mark.parametrize("parts", ["1", "7", "x", "26"])
def test_a_parts_count_out_of_range_is_refused(client, parts):
    item = uah_item()
    response = client.get(f"/buy/{item.pk}", {"rail": "payparts", "parts": parts})
    assert response.status_code == 400
    assert "Choose 2 to 6 parts." in response.json()["error"]
    assert not Payment.objects.exists() and not InstalmentPlan.objects.exists()


class SpyTransport:
    def __init__(self):
        self.calls = []

    def post(self, url, body, headers):
        self.calls.append(url)
        raise AssertionError("no request may be made")


def test_an_amount_that_is_not_the_sum_of_the_products_is_refused_before_any_request(
    monkeypatch,
):
    spy = SpyTransport()
    monkeypatch.setattr(bank_client, "transport_for", lambda store: spy)
    request = CreateRequest(
        store_id=config.SANDBOX_STORE_ID,
        order_id="order-1-x",
        amount=Decimal("400.00"),
        parts_count=2,
        merchant_type="PP",
        response_url="http://shop/r",
        redirect_url="http://shop/b",
        products=(Product("Кавоварка", 1, Decimal("399.99")),),
    )
    with pytest.raises(PaymentError) as caught:
        bank_client.payment_create(config.store(), request)
    assert caught.value.status == 400
    assert "not the sum of the products" in caught.value.message
    assert spy.calls == []


def test_a_create_answer_with_a_bad_signature_is_not_trusted(client):
    item = uah_item()
    with sandbox_tamper():
        response = buy(client, item)
    assert response.status_code == 502
    assert response.json()["error"] == bank_client.UNVERIFIED_MESSAGE
    assert not Payment.objects.exists()  # no orphan: the token was never believed
    assert not Order.objects.exists()  # nor the one-item order made for this click


def test_a_refusal_is_a_readable_502_and_changes_nothing(client):
    item = uah_item()
    with sandbox_refusal("Магазин заблокований"):
        response = buy(client, item)
    assert response.status_code == 502
    assert response.json()["error"] == "PrivatBank refused the payment: Магазин заблокований."
    assert not Payment.objects.exists()
    assert not Order.objects.exists()  # the one-item order made for this click is gone too


@pytest.mark.parametrize("kind", ["unreachable", "server_error"])
def test_an_outage_is_a_readable_503(client, kind):
    item = uah_item()
    with sandbox_outage(kind):
        response = buy(client, item)
    assert response.status_code == 503
    assert response.json()["error"] == bank_client.UNREACHABLE_MESSAGE
    assert not Payment.objects.exists()


def test_an_order_with_a_discount_goes_as_one_product_that_adds_up(client):
    from storefront.tests.factories import make_discount, make_order

    item = uah_item("600.00")
    order = make_order((item, 2), discount=make_discount(percent_off="10"))
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    response = client.get(f"/buy/order/{order.pk}", {"rail": "payparts", "parts": "3"})
    assert response.status_code == 200, response.content
    plan = InstalmentPlan.objects.get()
    assert plan.amount == Decimal("1080.00")
    assert plan.products == [{"name": f"Order #{order.pk}", "count": 1, "price": "1080.00"}]


def approve_and_return(client, data, decision="approve"):
    page = urlsplit(data["url"])
    back = client.post(f"{page.path}?{page.query}", {"decision": decision})
    assert back.status_code == 302
    return client.get(back["Location"])


def test_the_return_page_asks_the_bank(client):
    item = uah_item()
    data = buy(client, item).json()
    # Nothing decided yet: the bank says so, whatever the query string claims.
    pending = client.get("/payment/payparts/return/", {"orderId": data["id"], "paid": "yes"})
    assert pending.status_code == 200
    assert Order.objects.get().status == Order.Status.OPEN
    result = approve_and_return(client, data)
    assert result.status_code == 200
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_a_declined_plan_leaves_the_order_open_with_the_reason(client):
    data = buy(client, uah_item()).json()
    result = approve_and_return(client, data, decision="decline")
    assert "The bank declined the instalment plan." in result.content.decode()
    assert Order.objects.get().status == Order.Status.OPEN
    assert Payment.objects.get().status == Payment.Status.FAILED


def test_the_return_page_for_an_unknown_payment(client):
    response = client.get("/payment/payparts/return/", {"orderId": "order-9-nope"})
    assert response.status_code == 404


def test_the_password_is_never_logged_nor_shown(client, caplog, settings):
    caplog.set_level("DEBUG")
    item = uah_item()
    page = client.get(f"/item/{item.pk}").content.decode()
    with sandbox_refusal("no"):
        buy(client, item)
    data = buy(client, item).json()
    approve_and_return(client, data)
    assert config.SANDBOX_PASSWORD not in page + caplog.text
    settings.PAYPARTS_API_STORE_ID, settings.PAYPARTS_API_PASSWORD = "S1", "real-password"
    assert "real-password" not in repr(config.store())


def test_the_demo_catalogue_offers_pay_in_parts(client):
    from django.core.management import call_command

    from storefront.models import Item

    call_command("load_demo")
    items = Item.objects.filter(price_currency="UAH")
    assert items.count() >= 1
    for item in items:
        assert item.price.amount >= 300
        assert 'id="payparts-form"' in client.get(f"/item/{item.pk}").content.decode()


def test_the_admin_links_a_sandbox_payment_to_the_sandbox_banks_record(client, admin_client):
    from payments.rails import rail_named

    data = buy(client, uah_item()).json()
    payment = Payment.objects.get()
    rail = rail_named("payparts")
    assert rail.account_label(payment.account) == "PrivatBank sandbox store"
    assert rail.sandbox_in_use()
    [link] = rail.admin_links(payment)
    page = admin_client.get(link.url)
    assert page.status_code == 200
    assert data["id"] in page.content.decode()
    assert admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").status_code == 200


def test_buying_an_item_in_another_currency_in_parts_is_a_json_400_and_leaves_no_order(client):
    item = make_item(price="500.00", currency="USD")
    for _ in range(3):
        response = client.get(f"/buy/{item.pk}", {"rail": "payparts", "parts": "3"})
        assert response.status_code == 400
        assert response.json() == {"error": "Paying in parts is possible in UAH only."}
    assert not Order.objects.exists()
    assert not Payment.objects.exists() and not InstalmentPlan.objects.exists()


def test_paying_a_shared_order_in_another_currency_in_parts_is_a_json_400(client):
    from storefront.tests.factories import make_order

    order = make_order((make_item(price="500.00", currency="EUR"), 1))
    response = client.get(f"/buy/order/{order.pk}/", {"key": order.access_key, "rail": "payparts"})
    assert response.status_code == 400
    assert response.json() == {"error": "Paying in parts is possible in UAH only."}
    assert list(Order.objects.all()) == [order]
    assert not Payment.objects.exists() and not InstalmentPlan.objects.exists()


def test_a_parts_count_of_thousands_of_digits_is_a_400_not_a_500(client):
    item = uah_item()
    response = client.get(f"/buy/{item.pk}", {"rail": "payparts", "parts": "9" * 5000})
    assert response.status_code == 400
    assert "Choose 2 to 6 parts." in response.json()["error"]
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_a_rail_that_breaks_leaves_no_buy_now_order_behind(client, monkeypatch):
    from payments.payparts.rail import PayPartsRail

    def broken(self, **kwargs):
        raise TypeError("a bug in the rail")

    monkeypatch.setattr(PayPartsRail, "start", broken)
    item = uah_item()
    with pytest.raises(TypeError):
        buy(client, item)
    assert not Order.objects.exists() and not Payment.objects.exists()
