"""Who the client is: X-Forwarded-For trusted only as far as the deployment's own proxies
(TRUSTED_PROXY_COUNT), the same answer for the throttle and the bank's address allow-list."""

import pytest
from django.test import Client

from payments.bank_transfer.models import Organisation
from payments.bank_transfer.tests.bank_tools import PAYEE, SECRET, post, transfer
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from storefront.models import Order
from storefront.plumbing.client_address import client_address
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

ROUTER = "10.1.2.3"  # the platform router's address, as the app's server sees it


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", ROUTER),
        (0, "198.51.100.7", ROUTER),  # nothing in front: the header is the client's own
        (1, "", ROUTER),
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 7.7.7.7, 198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6,198.51.100.7", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 192.0.2.1", "198.51.100.7"),
        (2, "198.51.100.7", "198.51.100.7"),  # came through one proxy of the two
        (1, "6.6.6.6, not-an-address", ROUTER),
        (1, "198.51.100.7:4711", ROUTER),
        (1, " 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_the_client_is_the_entry_the_trusted_proxies_wrote(proxies, forwarded, expected):
    assert client_address(peer=ROUTER, forwarded=forwarded, trusted_proxies=proxies) == expected


def buy(client, item, forwarded):
    return client.get(f"/buy/{item.pk}", HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.parametrize("proxies", [0, 1])
def test_made_up_forwarded_addresses_do_not_escape_the_limit(settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.SHOP_START_LIMIT = 3
    items = [make_item(name=f"Thing {n}") for n in range(63)]
    # With a router in front, it appends the address it saw; before it, what the client sent.
    real = "198.51.100.7"
    shopper = Client(REMOTE_ADDR=ROUTER if proxies else real)

    held = [buy(shopper, item, real if proxies else "").status_code for item in items[:4]]
    made_up = [
        buy(shopper, item, f"203.0.113.{n % 250}, 10.9.{n}.1" + (f", {real}" if proxies else ""))
        for n, item in enumerate(items[3:])
    ]

    assert held == [200, 200, 200, 429]
    assert {response.status_code for response in made_up} == {429}
    assert Order.objects.count() == 3
    assert SandboxObject.objects.filter(object="checkout.session").count() == 3
    assert SandboxRequest.objects.filter(path="/v1/checkout/sessions").count() == 3


def test_behind_one_proxy_the_last_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SHOP_START_LIMIT = 1
    item, other = make_item(), make_item()

    first = buy(Client(REMOTE_ADDR=ROUTER), item, "6.6.6.6, 198.51.100.7")
    # Same client (the router wrote the same address), whatever it put in front: held.
    again = buy(Client(REMOTE_ADDR=ROUTER), other, "7.7.7.7, 198.51.100.7")
    # Another client behind the same router: a bucket of its own.
    elsewhere = buy(Client(REMOTE_ADDR=ROUTER), other, "198.51.100.7, 192.0.2.44")

    assert [first.status_code, again.status_code, elsewhere.status_code] == [200, 429, 200]


@pytest.fixture
def bank_rail(settings):
    settings.PAYMENT_RAILS = [
        "payments.stripe.rail.StripeRail",
        "payments.bank_transfer.rail.BankTransferRail",
    ]
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_WEBHOOK_SECRET = SECRET
    settings.BANK_SANDBOX = False
    settings.BANK_PAYEE = dict(PAYEE)
    settings.BANK_WEBHOOK_ALLOWED_IPS = ["10.0.0.6"]
    return settings


def test_the_bank_allow_list_reads_the_client_behind_the_declared_proxy(client, bank_rail):
    bank_rail.TRUSTED_PROXY_COUNT = 1

    # A sender outside the list who writes the bank's address in front of the router's entry.
    forged = post(
        client, transfer(), REMOTE_ADDR=ROUTER, HTTP_X_FORWARDED_FOR="10.0.0.6, 203.0.113.9"
    )
    # The bank itself, as the router appended it.
    bank = post(client, transfer(), REMOTE_ADDR=ROUTER, HTTP_X_FORWARDED_FOR="10.0.0.6")

    assert forged.status_code == 403
    assert "203.0.113.9" in forged.json()["error"]
    assert bank.status_code == 200
    assert Organisation.objects.get().balance == 145000


def test_with_no_proxy_declared_the_bank_allow_list_ignores_the_header(client, bank_rail):
    bank_rail.TRUSTED_PROXY_COUNT = 0

    forged = post(client, transfer(), REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.6")
    bank = post(client, transfer(), REMOTE_ADDR="10.0.0.6", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert forged.status_code == 403
    assert "203.0.113.9" in forged.json()["error"]
    assert bank.status_code == 200


def test_an_ipv6_client_is_its_64_block(settings):
    settings.SHOP_START_LIMIT = 1
    item, other = make_item(), make_item()

    first = buy(Client(REMOTE_ADDR="2001:db8:0:1::1"), item, "")
    # Another address of the same /64, which one subscriber is usually given: held.
    same_block = buy(Client(REMOTE_ADDR="2001:db8:0:1:ffff::2"), other, "")
    next_block = buy(Client(REMOTE_ADDR="2001:db8:0:2::1"), other, "")

    assert [first.status_code, same_block.status_code, next_block.status_code] == [200, 429, 200]
