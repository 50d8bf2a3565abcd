"""What anyone can make the shop ask its providers: 100 anonymous requests (no cookies, half
GET, half POST) to every public URL, with every rail on, counted at the sandboxes (Stripe's
HTTP client, PrivatBank's transport; `provider_calls.py`).

- A request that names ids the shop never issued (an order, a Checkout Session, a
  PaymentIntent, a Pay in parts order, a sandbox page, a notification) costs no provider call.
- Starting payments (`/buy/...`, the pay pages) costs one call per payment started, and the
  throttle lets one address start `SHOP_START_LIMIT` a minute: that is the bound, whatever
  the number of requests.
- No call, of any request, names an id the shop never issued.
"""

import secrets

import pytest
from django.test import Client
from django.urls import get_resolver

from payments.payparts import config as payparts_config
from storefront.tests.factories import make_item, make_order
from storefront.tests.provider_calls import provider_calls_recorded
from storefront.tests.test_fuzz import RAILS, _routes

pytestmark = pytest.mark.django_db

REQUESTS_PER_URL = 100
START_LIMIT = 5
NEVER_ISSUED = {
    "order_id": "987654",
    "line_id": "1",
    "session_id": "cs_test_" + "a1b2c3" * 4,
    "intent_id": "pi_" + "a1b2c3" * 4,
    "inn": "7707083893",
    "rail": "stripe",
    "account": "usd",
}
# Return pages, as a provider's redirect would write them, for payments we never started.
RETURN_QUERIES = [
    {"session_id": "cs_test_" + "f00d" * 6, "currency": "usd"},
    {"payment_intent": "pi_" + "f00d" * 6, "currency": "eur"},
    {"orderId": "order-1-" + "f00d" * 2},
]


@pytest.fixture
def shop(settings):
    settings.PAYMENT_RAILS = list(RAILS)
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_WEBHOOK_SECRET = "provider_calls_secret"
    settings.BANK_WEBHOOK_ALLOWED_IPS = []
    settings.BANK_SANDBOX = True
    settings.PAYPARTS_API_STORE_ID = ""
    settings.PAYPARTS_API_PASSWORD = ""
    settings.PAYPARTS_SANDBOX = True
    settings.SHOP_START_LIMIT = START_LIMIT
    usd = make_item(name="Notebook", price="19.99", currency="USD")
    make_order((usd, 1))  # an order no anonymous visitor made or holds the key of
    uah = make_item(name="Blanket", price="1200.00", currency="UAH")
    return {"usd": usd, "uah": uah}


def _urls(shop) -> list[tuple[str, dict, bool]]:
    """Every public URL, filled in: (path, query, whether it may start a payment)."""
    found = []
    for route in _routes(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        starts = route.startswith(("buy/", "item/")) and "<" in route
        values = {**NEVER_ISSUED, "item_id": str(shop["usd"].pk)}
        path = "/" + route
        for name, value in values.items():
            path = path.replace(f"<str:{name}>", value).replace(f"<int:{name}>", value)
            path = path.replace(f"<slug:{name}>", value)
        assert "<" not in path, path
        if "return" in route:
            found += [(path, query, False) for query in RETURN_QUERIES]
        else:
            found.append((path, {}, starts))
    # The item in parts, and the other rails' notification endpoints.
    found.append((f"/buy/{shop['uah'].pk}", {"rail": "payparts", "parts": "2"}, True))
    found.append((f"/payments/webhooks/payparts/{payparts_config.SANDBOX_STORE_ID}/", {}, False))
    found.append(("/payments/webhooks/bank_transfer/bank/", {}, False))
    return found


def test_anonymous_requests_to_every_public_url_cost_provider_calls_only_where_bounded(
    shop, monkeypatch
):
    calls = provider_calls_recorded(monkeypatch)
    # One throttle window for the whole walk, however long a loaded machine takes over it: the
    # bound below is per window, and a walk outlasting one let a sixth start through.
    monkeypatch.setattr("storefront.plumbing.throttle._now", lambda: 1_000_000.0)
    urls = _urls(shop)
    assert len(urls) > 25
    starting, per_url = [], {}
    for path, query, starts in urls:
        with calls.caused_by(f"{path} {query}") as made:
            for number in range(REQUESTS_PER_URL):
                client = Client(raise_request_exception=False)  # no cookies: anonymous
                if number % 2:
                    client.post(path, {"key": secrets.token_hex(4), **query})
                else:
                    client.get(path, query)
        per_url[(path, str(query))] = len(made)
        if starts:
            starting += made
    # Only starting a payment costs a provider call; nothing else, however often asked.
    costly = {url: count for url, count in per_url.items() if count}
    starting_urls = {(path, str(query)) for path, query, starts in urls if starts}
    assert set(costly) <= starting_urls, costly
    # One call per payment started, at most START_LIMIT payments a minute from one address.
    assert 1 <= len(starting) <= START_LIMIT, [str(call) for call in starting]
    assert all(call.method == "POST" and not call.named for call in starting), [
        str(call) for call in starting
    ]
    assert calls.strangers() == [], [str(call) for call in calls.strangers()]
