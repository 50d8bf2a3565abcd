"""Amounts go to the bank as its documentation shows them: JSON numbers with two decimals
(`"amount": 400.00`, Double), written from Decimal without a float; the signature keeps them in
kopecks. The sandbox bank refuses anything else, as strictly as the documentation reads."""

import json
import re
from decimal import Decimal

import pytest

from payments.payparts import client as bank_client
from payments.payparts import config
from payments.payparts.bank_json import bank_json, bank_json_read
from payments.payparts.create_request import CreateRequest
from payments.payparts.sandbox import server
from payments.payparts.sandbox.models import InstalmentPlan
from payments.payparts.sandbox.transport import SandboxTransport
from payments.payparts.signatures import Product

from .payparts_tools import buy, uah_item

pytestmark = pytest.mark.django_db


class RecordingTransport(SandboxTransport):
    """The sandbox bank, keeping every raw body the client sent it."""

    def __init__(self, sent):
        self.sent = sent

    def post(self, url, body, headers):
        self.sent.append((url, body))
        return super().post(url, body, headers)


@pytest.fixture
def sent(monkeypatch):
    bodies = []
    monkeypatch.setattr(bank_client, "transport_for", lambda store: RecordingTransport(bodies))
    return bodies


def test_the_create_request_carries_amount_and_prices_as_numbers_with_two_decimals(client, sent):
    item = uah_item("333.33")
    from storefront.tests.factories import make_order

    order = make_order((item, 3))
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    response = client.get(f"/buy/order/{order.pk}", {"rail": "payparts", "parts": "3"})
    assert response.status_code == 200, response.content
    [body] = [b for u, b in sent if u.endswith("/payment/create")]
    text = body.decode()
    assert re.search(r'"amount": 999\.99[,}]', text), text
    assert re.search(r'"price": 333\.33[,}]', text), text
    assert '"999.99"' not in text and '"333.33"' not in text
    data = json.loads(body, parse_float=Decimal)
    assert data["amount"] == Decimal("999.99") and data["partsCount"] == 3
    assert data["products"][0] == {"name": item.name, "count": 3, "price": Decimal("333.33")}
    # The bank took it (its signature in kopecks held) and recorded the exact amount.
    assert InstalmentPlan.objects.get().amount == Decimal("999.99")


def test_whole_amounts_keep_their_two_decimals(client, sent):
    assert buy(client, uah_item("1200.00")).status_code == 200
    text = next(b for u, b in sent if u.endswith("/payment/create")).decode()
    assert '"amount": 1200.00' in text and '"price": 1200.00' in text


def test_the_banks_documented_example_is_written_as_documented():
    request = CreateRequest(
        store_id="4AAD1369CF734B64B70F",
        order_id="order-123",
        amount=Decimal("400"),
        parts_count=2,
        merchant_type="II",
        response_url="http://shop.com/response",
        redirect_url="http://shop.com/redirect",
        products=(
            Product("Телевизор", 2, Decimal("100")),
            Product("Микроволновка", 1, Decimal("200.0")),
        ),
    )
    body = bank_json(request.body("75bef16bfdce4d0e9c4ad9d0e3ac9b9f")).decode()
    assert body == (
        '{"storeId": "4AAD1369CF734B64B70F", "orderId": "order-123", "amount": 400.00, '
        '"partsCount": 2, "merchantType": "II", "products": ['
        '{"name": "Телевизор", "count": 2, "price": 100.00}, '
        '{"name": "Микроволновка", "count": 1, "price": 200.00}], '
        '"responseUrl": "http://shop.com/response", "redirectUrl": "http://shop.com/redirect", '
        '"signature": "o4IhcHHAVOnbHKIuwk36ttsRG7g="}'
    )


@pytest.mark.parametrize(
    "value, error",
    [
        (0.1, TypeError),
        (Decimal("1.005"), ValueError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (Decimal("1E+40"), ValueError),
        (object(), TypeError),
    ],
)
def test_the_writer_refuses_what_is_not_an_exact_amount(value, error):
    with pytest.raises(error):
        bank_json({"amount": value})


def test_the_reader_reads_fractions_as_decimals_and_refuses_nan():
    assert bank_json_read(b'{"a": 0.10, "b": 3}') == {"a": Decimal("0.10"), "b": 3}
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        with pytest.raises(ValueError):
            bank_json_read(b'{"a": ' + constant + b"}")


def signed_body(**changes) -> bytes:
    """A correctly signed create body as the shop sends it, with `changes` written over it."""
    request = CreateRequest(
        store_id=config.SANDBOX_STORE_ID,
        order_id="order-7-abcd",
        amount=Decimal("400.00"),
        parts_count=2,
        merchant_type="PP",
        response_url="http://testserver/r",
        redirect_url="http://testserver/b",
        products=(Product("Кавоварка", 1, Decimal("400.00")),),
    )
    body = request.body(config.SANDBOX_PASSWORD)
    for key, value in changes.items():
        if key.startswith("product_"):
            body["products"][0][key.removeprefix("product_")] = value
        else:
            body[key] = value
    return json.dumps(body, default=str, ensure_ascii=False).encode()


def test_the_sandbox_bank_takes_numbers_and_refuses_the_strings_the_shop_used_to_send():
    as_strings = signed_body()
    assert b'"amount": "400.00"' in as_strings
    _, answer = server.handle("https://bank/ipp/v2/payment/create", as_strings)
    assert answer["state"] == "FAIL" and "amount must be a JSON number" in answer["message"]
    as_numbers = as_strings.replace(b'"400.00"', b"400.00")
    _, answer = server.handle("https://bank/ipp/v2/payment/create", as_numbers)
    assert answer["state"] == "SUCCESS", answer
    assert InstalmentPlan.objects.get().products == [
        {"name": "Кавоварка", "count": 1, "price": "400.00"}
    ]


@pytest.mark.parametrize(
    "raw, named",
    [
        (b'"amount": "400.00"', "amount must be a JSON number"),
        (b'"amount": 400.001', "amount must be a whole number of kopecks"),
        (b'"amount": 1e40', "amount is out of range"),
        (b'"amount": true', "amount must be a JSON number"),
        (b'"price": "400.00"', "products[].price must be a JSON number"),
        (b'"count": "1"', "products[].count must be a JSON integer"),
        (b'"count": 1.0', "products[].count must be a JSON integer"),
        (b'"partsCount": "2"', "partsCount must be a JSON integer"),
        (b'"storeId": 5', "Unknown store"),
        (b'"merchantType": ["PP"]', "merchantType must be a string"),
    ],
)
def test_the_sandbox_bank_refuses_what_the_documentation_does_not_allow(raw, named):
    body = signed_body().replace(b'"400.00"', b"400.00")
    key = raw.split(b":")[0]
    body = re.sub(re.escape(key) + rb": [^,}\]]+", raw, body, count=1)
    assert raw in body
    _, answer = server.handle("https://bank/ipp/v2/payment/create", body)
    assert answer["state"] == "FAIL"
    assert named in answer["message"]
    assert not InstalmentPlan.objects.exists()
