"""Every route of the site, driven with generated ids, query strings, methods, bodies (NUL
bytes, huge values, unicode, malformed JSON) and forwarded-address headers; and every rail's
notification endpoint, driven with generated, malformed payloads that are *signed* (with the
sandboxes' and the tests' secrets), so that they get past authentication to the code that reads
them: Stripe events on each account, the bank's transfers, Pay in parts callbacks.

After every request: nothing answered 5xx, no traceback in the page or in the log, no provider
call named an id the shop never issued, and the database grew by a bounded number of rows (all
tables counted); over all of them, requests from outside (unsigned) grew it by a bounded total.

Hypothesis runs a small fixed number of examples, derandomized (it is part of `make test`, on
SQLite and on PostgreSQL); `HYPOTHESIS_EXAMPLES=2000` runs more by hand.
"""

import collections
import itertools
import json
import logging
import os
import re
import time
import uuid

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from payments.payparts import config as payparts_config
from payments.payparts.signatures import callback_signature
from payments.signatures import signature_header
from payments.stripe.accounts import account_for
from payments.stripe.events import (
    DISPUTE_EVENTS,
    INTENT_EVENTS,
    REFUND_EVENTS,
    SESSION_EXPIRED,
    SESSION_FAILED,
    SESSION_PAID,
)
from storefront.tests.factories import make_item
from storefront.tests.provider_calls import provider_calls_recorded

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "150"))
# Rows all the unsigned fuzzed requests together may add: bounded records (a rejection row per
# rail, account and hour; an order per browser at most), never one row per request.
GROWTH_LIMIT = 40
# Rows one request may add: a buy-now order with its line and payment and the sandbox's
# objects and request records; an authentic delivery's record and what it moved (an
# organisation, its operation and ledger entry; a refund or a dispute).
ROWS_PER_REQUEST = 12
RAILS = [
    "payments.stripe.rail.StripeRail",
    "payments.bank_transfer.rail.BankTransferRail",
    "payments.payparts.rail.PayPartsRail",
]
BANK_SECRET = "fuzz_bank_secret"


def _routes(patterns, prefix: str = "") -> list[str]:
    """Every route as a pattern string with `<converter:name>` placeholders."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return sorted(set(found))


PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")
NASTY_TEXT = st.one_of(
    # Values that reach views, not only the resolver's 404: ids that exist, known slugs.
    st.sampled_from(["1", "2", "3", "4", "usd", "eur", "stripe", "bank_transfer", "payparts",
                     "bank"]),
    st.text(max_size=40),
    st.sampled_from(["\x00", "%00", "a" * 600, "cs_test_" + "a" * 500, "pi_\x00", "../..", "💶"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from(
        [b"", b"\x00", b"{", b"[]", b"null", b'{"id": "\x00"}', b'{"id": 1, "type": []}',
         b"x" * 200_000, '{"amount": "💶"}'.encode(), b"[" * 100_000, b'{"a": 1, "a": 2}']
    ),
)  # fmt: skip
QUERIES = st.dictionaries(
    st.sampled_from(["key", "session_id", "payment_intent", "currency", "rail", "item", "order",
                     "q", "o", "p", "status__exact", "next", "parts", "orderId"]),
    NASTY_TEXT,
    max_size=4,
)  # fmt: skip
# What a client may write in X-Forwarded-For: addresses of its choosing, lists, junk.
ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["127.0.0.1", "10.0.0.1", "::1", "::ffff:1.2.3.4", "unknown", "", " "]),
    st.text(max_size=30),
)
FORWARDED = st.one_of(
    st.none(),
    ADDRESSES,
    st.lists(ADDRESSES, min_size=2, max_size=6).map(", ".join),
    st.just(",".join(["1.1.1.1"] * 500)),
)

# Signature headers (Stripe's and the bank's scheme) anyone may send: unreadable ones above
# all, a timestamp past Python's limit on int() digits (4,300) among them.
LONG_TIMESTAMP = "t=" + "1" * 4301 + ",v1=" + "a" * 64
SIGNATURE_HEADERS = st.one_of(
    st.none(),
    st.none(),
    st.sampled_from([LONG_TIMESTAMP, "t=1,v1=" + "a" * 5000, "t=,v1=", "v1=" + "a" * 64, ","]),
    st.text(max_size=60),
)

# JSON values of any shape, for the fields of signed payloads.
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e20, -1.5, 0.001, 2**63, -(2**63) - 1, 10**19]),
    st.text(max_size=20),
    st.sampled_from(["abc", "\x00", "usd", "eur", "rub", "zz", "", "💶", "1e20", "145000",
                     "cs_test_fuzz", "pi_fuzz", "ch_fuzz", "re_fuzz", "dp_fuzz", "order-1",
                     "succeeded", "failed", "pending", "canceled", "needs_response", "lost",
                     "won", "warning_closed", "appeal_under_review", "requires_action"]),
)  # fmt: skip
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
STRIPE_FIELDS = [
    "id", "object", "amount", "amount_total", "amount_received", "amount_refunded", "currency",
    "status", "payment_status", "payment_intent", "charge", "metadata", "client_reference_id",
    "customer_details", "customer_email", "evidence_details", "due_by", "reason", "created",
    "livemode", "refunds", "latest_charge", "failure_reason", "is_charge_refundable", "mode",
    "expires_at", "last_payment_error", "balance_transactions",
]  # fmt: skip
STRIPE_TYPES = [*SESSION_PAID, SESSION_FAILED, SESSION_EXPIRED, *INTENT_EVENTS, *REFUND_EVENTS,
                *DISPUTE_EVENTS, "charge.refunded", "customer.created", "", "\x00"]  # fmt: skip
BANK_DATES = st.one_of(
    st.sampled_from(["2024-04-27T21:00:00Z", "9999-12-31T23:59:59-23:59",
                     "0001-01-01T00:00:00+01:00", "2024-02-30T00:00:00Z", "", "yesterday",
                     "2024-04-27", "2024-04-27T21:00:00+99:00"]),
    st.datetimes().map(lambda moment: moment.isoformat()),
    JSON_LEAVES,
)  # fmt: skip
PAYPARTS_STATES = ["SUCCESS", "FAIL", "CANCELED", "REJECTED", "LOCKED", "CLIENT_WAIT",
                   "OTP_WAITING", "PP_CREATION", ""]  # fmt: skip
# How a signed body is spoiled after signing, or not at all (the signature must still hold).
SPOILERS = st.sampled_from(["none"] * 7 + ["duplicate-key", "trailing", "bom"])


def _path(route: str, values: list[str]) -> str:
    parts = iter(values)
    return "/" + PLACEHOLDER.sub(lambda m: next(parts), route).lstrip("^").rstrip("$")


def _rows() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def _grown(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {label: after[label] - before[label] for label in after if after[label] != before[label]}


class LogWatch(logging.Handler):
    """Every record logged that carries a traceback."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback" in record.getMessage():
            self.tracebacks.append(f"{record.name}: {record.getMessage()[:300]}")


@pytest.fixture
def log_watch():
    watch = LogWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    yield watch
    root.removeHandler(watch)


@pytest.fixture
def every_rail(settings):
    """Stripe (USD, EUR), bank transfers (RUB, the tests' secret), Pay in parts (UAH, the
    sandbox bank): every notification endpoint answers."""
    settings.PAYMENT_RAILS = list(RAILS)
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_WEBHOOK_SECRET = BANK_SECRET
    settings.BANK_WEBHOOK_ALLOWED_IPS = []
    settings.BANK_SANDBOX = True
    settings.PAYPARTS_API_STORE_ID = ""
    settings.PAYPARTS_API_PASSWORD = ""
    settings.PAYPARTS_SANDBOX = True
    return settings


@pytest.fixture
def shop(every_rail):
    make_item(name="Notebook", price="19.99", currency="USD")
    make_item(name="Tote", price="24.00", currency="EUR")
    make_item(name="Samovar", price="2500.00", currency="RUB")
    make_item(name="Blanket", price="1200.00", currency="UAH")


@pytest.fixture
def watched(shop, log_watch, monkeypatch):
    """Send a request and check it: no 5xx, no traceback in the page or the log, no provider
    call for an id never issued, at most ROWS_PER_REQUEST rows added. Returns the rows added."""
    calls = provider_calls_recorded(monkeypatch)
    seen = collections.Counter()

    def check(send, description) -> int:
        before = _rows()
        log_watch.tracebacks.clear()
        with calls.caused_by(description) as made:
            response = send()
        assert response.status_code < 500, (description, response.status_code)
        text = b"".join(response) if response.streaming else response.content
        assert b"Traceback" not in text, description
        assert log_watch.tracebacks == [], (description, log_watch.tracebacks)
        strangers = calls.strangers(made)
        assert strangers == [], [str(call) for call in strangers]
        grown = _grown(before, _rows())
        assert sum(grown.values()) <= ROWS_PER_REQUEST, (description, grown)
        seen[response.status_code] += 1
        return sum(grown.values())

    check.seen = seen
    return check


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    # No shrinking: a failure names its request in full, and is reported in seconds.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_no_route_answers_5xx_or_grows_the_database_without_bound(watched):
    routes = _routes(get_resolver().url_patterns)
    assert len(routes) > 20  # the shop, payments, the rails, the sandboxes, the admin
    assert "payments/payparts/callback/" in routes and "api/webhook/bank/" in routes
    # The admin's many routes all start with the login redirect: visit the rest more often.
    public = [route for route in routes if not route.startswith("admin/")]
    admin = [route for route in routes if route.startswith("admin/")]
    client = Client(raise_request_exception=False)
    unsigned_growth = []

    @FUZZ_SETTINGS
    @given(
        route=st.one_of(st.sampled_from(public), st.sampled_from(public), st.sampled_from(admin)),
        values=st.lists(NASTY_TEXT, min_size=3, max_size=3),
        method=st.sampled_from(["get", "post", "put", "delete", "head"]),
        query=QUERIES,
        body=BODIES,
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded"]
        ),
        forwarded=FORWARDED,
        signature=SIGNATURE_HEADERS,
    )  # fmt: skip
    @example(
        route="api/webhook/bank/",
        values=["", "", ""],
        method="post",
        query={},
        body=b"{}",
        content_type="application/json",
        forwarded=None,
        signature=LONG_TIMESTAMP,
    )
    @example(
        route="payments/webhooks/<slug:rail>/<slug:account>/",
        values=["stripe", "usd", ""],
        method="post",
        query={},
        body=b"{}",
        content_type="application/json",
        forwarded="1.2.3.4",
        signature=LONG_TIMESTAMP,
    )
    def request_anything(route, values, method, query, body, content_type, forwarded, signature):
        path = _path(route, values)
        send = getattr(client, method)
        extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
        if signature is not None:
            extra |= {"HTTP_STRIPE_SIGNATURE": signature, "HTTP_X_BANK_SIGNATURE": signature}
        if method in ("post", "put"):
            sent = lambda: send(path, body, content_type=content_type, QUERY_STRING="", **extra)  # noqa: E731
        else:
            sent = lambda: send(path, query, **extra)  # noqa: E731
        about = f"{method} {path} {query} XFF={forwarded!r} signature={signature!r:.80}"
        unsigned_growth.append(watched(sent, about))

    request_anything()
    assert sum(unsigned_growth) <= GROWTH_LIMIT, (sum(unsigned_growth), dict(watched.seen))


def _spoiled(payload: bytes, spoiler: str) -> bytes:
    """`payload` changed in a way its signature, made afterwards, still covers."""
    if spoiler == "duplicate-key" and payload.startswith(b"{") and len(payload) > 2:
        return payload[:-1] + b', "amount": 7, "orderId": "x", "type": "x"}'
    if spoiler == "trailing":
        return payload + b" \x00"
    if spoiler == "bom":
        return b"\xef\xbb\xbf" + payload
    return payload


def _mutated(draw, document: dict, fields: list[str], values=JSON_VALUES, *, most=2) -> dict:
    """`document` with up to `most` of `fields` given generated values, or one dropped, or as
    it is: mostly well-formed, so that what reads it is reached, with a field or two wrong."""
    how = draw(st.sampled_from(["as is", "changed", "changed", "changed", "dropped"]))
    if how == "changed":
        changes = draw(st.dictionaries(st.sampled_from(fields), values, min_size=1, max_size=most))
        document = {**document, **changes}
    elif how == "dropped":
        document = dict(document)
        document.pop(draw(st.sampled_from(fields)), None)
    return document


@pytest.fixture
def issued(watched):
    """Payments started (and the Stripe one paid) the way buyers do, on every rail, through
    `watched` (so their ids are the shop's own): their ids, for signed deliveries to name."""
    from payments.models import Payment
    from payments.stripe.sandbox.cards import Card
    from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
    from payments.stripe.sandbox.models import SandboxObject
    from storefront.models import Item, Order

    buyer = Client(raise_request_exception=False)
    started = {}
    usd = Item.objects.get(price_currency="USD")
    watched(lambda: started.setdefault("stripe", buyer.get(f"/buy/{usd.pk}")), "buy USD")
    session_id = started["stripe"].json()["id"]
    card = Card(number="4242424242424242", exp_month=12, exp_year=2040, cvc="123")
    checkout_session_pay(session_id=session_id, card=card, email="buyer@example.com")
    back = {"session_id": session_id, "currency": "usd"}
    watched(lambda: buyer.get("/payment/stripe/return/", back), "return USD")
    session = SandboxObject.objects.get(id=session_id).data
    intent = SandboxObject.objects.get(id=session["payment_intent"]).data
    uah = Item.objects.get(price_currency="UAH")
    watched(
        lambda: started.setdefault("payparts", buyer.get(f"/buy/{uah.pk}?rail=payparts&parts=2")),
        "buy UAH in parts",
    )
    rub = Item.objects.get(price_currency="RUB")
    order = Order.objects.create(currency="RUB")
    order.lines.create(item=rub, quantity=1, unit_price=rub.price)
    browser = buyer.session
    browser["order_ids"] = [*browser.get("order_ids", []), order.pk]
    browser.save()
    watched(lambda: buyer.get(f"/order/{order.pk}/pay/?rail=bank_transfer"), "pay RUB by bank")
    assert Payment.objects.filter(rail="stripe", status=Payment.Status.SUCCEEDED).count() == 1
    assert Payment.objects.filter(rail="payparts").count() == 1
    assert Payment.objects.filter(rail="bank_transfer").count() == 1
    return {
        "cs": [session_id, "cs_test_fuzz"],
        "pi": [session["payment_intent"], "pi_fuzz"],
        "ch": [intent.get("latest_charge") or "ch_fuzz", "ch_fuzz"],
        "payparts": [started["payparts"].json()["id"], "order-404-ffff"],
        "bank": [f"INV-{order.pk}", f"Payment for INV-{order.pk}-2", "PAY-328", "INV-999999"],
        "amounts": [1999, 2400, 250000, 145000, 120000, 1, 0, 10**15],
    }


PAYPARTS_SIGNED = ("storeId", "orderId", "paymentState", "message")


def _stripe_example(kind: str, **fields) -> dict:
    """A signed event of `kind` about objects the shop never made, with `fields` as given."""
    data = {"id": {"r": "re_fuzz_x", "c": "dp_fuzz_x"}.get(kind[0], "pi_fuzz"),
            "object": kind.split(".")[-2] if "." in kind else kind, "amount": 1999,
            "currency": "usd", "status": "succeeded", "payment_intent": "pi_fuzz",
            "charge": "ch_fuzz", "metadata": {}, "reason": "fraudulent",
            "evidence_details": {"due_by": 1893456000}, "created": 1700000000}  # fmt: skip
    if kind.startswith("checkout.session"):
        data |= {"id": "cs_test_fuzz", "payment_status": "paid", "status": "complete"}
    elif "dispute" in kind:
        data |= {"status": "needs_response"}
    return {"id": f"evt_fuzz_example_{kind}_{sorted(fields)}", "object": "event", "type": kind,
            "livemode": False, "created": int(time.time()), "api_version": "2024-06-20",
            "data": {"object": data | fields}}  # fmt: skip


def _transfer_example(**fields) -> dict:
    transfer = {"operation_id": str(uuid.uuid5(uuid.NAMESPACE_URL, repr(sorted(fields.items())))),
                "amount": 145000, "payer_inn": "7707083893", "document_number": "PAY-328",
                "document_date": "2024-04-27T21:00:00Z"}  # fmt: skip
    return transfer | fields


def _callback_example(**fields) -> dict:
    callback = {"storeId": payparts_config.SANDBOX_STORE_ID, "orderId": "order-404-ffff",
                "paymentState": "SUCCESS", "message": ""}  # fmt: skip
    return callback | fields


def _examples(cases: list[dict]):
    """Hypothesis's `@example` for each of `cases` (keyword arguments)."""

    def decorated(function):
        for case in reversed(cases):
            function = example(**case)(function)
        return function

    return decorated


def _signed_example(rail="stripe", event=None, transfer=None, callback=None, spoiler="none"):
    return {
        "rail": rail,
        "event": event or _stripe_example("customer.created"),
        "currency": "USD",
        "transfer": transfer or _transfer_example(),
        "callback": callback or _callback_example(),
        "signed": True,
        "spoiler": spoiler,
        "forwarded": None,
    }


# What issue 20 found, and what this test found since, each always tried: signed, with one
# field no reader should choke on.
KNOWN_SIGNED_DELIVERIES = [
    _signed_example(event=_stripe_example("refund.created", amount="abc")),
    _signed_example(event=_stripe_example("refund.updated", metadata="zz")),
    _signed_example(event=_stripe_example("refund.failed", currency=5)),
    _signed_example(event=_stripe_example("charge.dispute.created", status=["lost"])),
    _signed_example(event=_stripe_example("charge.dispute.updated", evidence_details=[1])),
    _signed_example(
        event=_stripe_example("charge.dispute.created", evidence_details={"due_by": 1e20})
    ),
    _signed_example(event=_stripe_example("checkout.session.completed", customer_details=[0.0])),
    _signed_example(event=_stripe_example("payment_intent.succeeded", metadata=["x"])),
    # Well-formed, about a PaymentIntent the shop never made: no provider call for it.
    _signed_example(event=_stripe_example("charge.dispute.created")),
    _signed_example(
        rail="bank", transfer=_transfer_example(document_date="9999-12-31T23:59:59-23:59")
    ),
    _signed_example(
        rail="bank", transfer=_transfer_example(document_date="0001-01-01T00:00:00+01:00")
    ),
    _signed_example(rail="bank", spoiler="duplicate-key"),
    _signed_example(rail="payparts", callback=_callback_example(orderId="order-1-\x00")),
    _signed_example(rail="payparts", spoiler="duplicate-key"),
]


def test_signed_deliveries_of_every_rail_answer_4xx_or_2xx_and_grow_the_database_boundedly(
    watched, issued
):
    client = Client(raise_request_exception=False)
    amounts = st.sampled_from(issued["amounts"])
    # Ids new each time mostly (a new event, a new operation), sometimes one seen before (a
    # redelivery, or another body under the same id).
    counter = itertools.count(1)
    fresh = st.one_of(st.builds(lambda: next(counter)), st.integers(1, 3))

    @st.composite
    def stripe_events(draw) -> dict:
        kind = draw(st.sampled_from(STRIPE_TYPES))
        cs, pi, ch = (draw(st.sampled_from(issued[key])) for key in ("cs", "pi", "ch"))
        amount, currency = draw(amounts), draw(st.sampled_from(["usd", "eur", "rub"]))
        metadata = {"kind": "order", "order_id": draw(st.sampled_from(["1", "2", "999"]))}
        if kind.startswith("checkout.session"):
            data = {
                "id": cs,
                "object": "checkout.session",
                "amount_total": amount,
                "currency": currency,
                "payment_status": "paid",
                "status": "complete",
                "payment_intent": pi,
                "client_reference_id": "order-1",
                "metadata": metadata,
                "customer_details": {"email": "b@example.com"},
            }
        elif kind.startswith("payment_intent"):
            data = {
                "id": pi,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": currency,
                "status": "succeeded",
                "metadata": metadata,
                "latest_charge": ch,
            }
        elif kind.startswith(("refund", "charge.refund")):
            data = {
                "id": "re_fuzz_" + draw(st.sampled_from("abc")),
                "object": "refund",
                "amount": amount,
                "currency": currency,
                "status": draw(st.sampled_from(["succeeded", "pending", "failed"])),
                "payment_intent": pi,
                "charge": ch,
                "metadata": {},
            }
        elif "dispute" in kind:
            data = {
                "id": "dp_fuzz_" + draw(st.sampled_from("ab")),
                "object": "dispute",
                "amount": amount,
                "currency": currency,
                "charge": ch,
                "payment_intent": pi,
                "status": draw(
                    st.sampled_from(
                        ["needs_response", "under_review", "lost", "won", "warning_needs_response"]
                    )
                ),
                "reason": "fraudulent",
                "evidence_details": {"due_by": 1893456000},
                "created": 1700000000,
            }
        else:
            data = {"id": "cus_fuzz", "object": "customer"}
        event = {
            "id": f"evt_fuzz_{draw(st.uuids()).hex}",
            "object": "event",
            "type": kind,
            "livemode": False,
            "created": int(time.time()),
            "api_version": "2024-06-20",
            "data": {"object": _mutated(draw, data, STRIPE_FIELDS)},
        }
        if draw(st.sampled_from(range(6))) == 0:  # the envelope itself, now and then
            event = _mutated(draw, event, ["id", "object", "type", "livemode"], JSON_LEAVES)
        return event

    @st.composite
    def bank_transfers(draw) -> dict:
        transfer = {
            "operation_id": str(uuid.UUID(int=draw(fresh))),
            "amount": draw(amounts),
            "payer_inn": draw(st.sampled_from(["7707083893", "1234567890", "500100732259"])),
            "document_number": draw(st.sampled_from(issued["bank"])),
            "document_date": "2024-04-27T21:00:00Z",
        }
        fields = [*transfer, "currency", "purpose"]
        return _mutated(draw, transfer, fields, st.one_of(BANK_DATES, JSON_VALUES))

    @st.composite
    def payparts_callbacks(draw) -> dict:
        callback = {
            "storeId": payparts_config.SANDBOX_STORE_ID,
            "orderId": draw(st.sampled_from(issued["payparts"])),
            "paymentState": draw(st.sampled_from(PAYPARTS_STATES)),
            "message": "",
        }
        texts = st.one_of(st.text(max_size=70), st.sampled_from(["\x00", "a" * 65, "m" * 1200]))
        return _mutated(draw, callback, list(callback), texts)

    def stripe_delivery(event, currency, spoiler, forwarded):
        payload = _spoiled(json.dumps(event).encode(), spoiler)
        header = signature_header(payload, account_for(currency).webhook_secret)
        return lambda: client.generic(
            "POST",
            f"/payments/webhooks/stripe/{currency.lower()}/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
            **forwarded,
        )

    def bank_delivery(transfer, spoiler, forwarded):
        payload = _spoiled(json.dumps(transfer).encode(), spoiler)
        header = signature_header(payload, BANK_SECRET, int(time.time()))
        return lambda: client.generic(
            "POST",
            "/api/webhook/bank/",
            payload,
            content_type="application/json",
            HTTP_X_BANK_SIGNATURE=header,
            **forwarded,
        )

    def payparts_delivery(fields, signed, spoiler, forwarded):
        body = dict(fields)
        texts = {name: body.get(name) for name in PAYPARTS_SIGNED}
        if signed and all(isinstance(value, str) for value in texts.values()):
            body["signature"] = callback_signature(
                password=payparts_config.SANDBOX_PASSWORD,
                store_id=texts["storeId"],
                order_id=texts["orderId"],
                payment_state=texts["paymentState"],
                message=texts["message"],
            )
        else:
            body["signature"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        payload = _spoiled(json.dumps(body, ensure_ascii=False).encode(), spoiler)
        return lambda: client.generic(
            "POST",
            "/payments/payparts/callback/",
            payload,
            content_type="application/json",
            **forwarded,
        )

    @FUZZ_SETTINGS
    @given(
        rail=st.sampled_from(["stripe", "bank", "payparts"]),
        event=stripe_events(),
        currency=st.sampled_from(["USD", "EUR"]),
        transfer=bank_transfers(),
        callback=payparts_callbacks(),
        signed=st.sampled_from([True, True, True, False]),
        spoiler=SPOILERS,
        forwarded=FORWARDED,
    )
    @_examples(KNOWN_SIGNED_DELIVERIES)
    def deliver_signed(rail, event, currency, transfer, callback, signed, spoiler, forwarded):
        extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
        if rail == "stripe":
            send, about = stripe_delivery(event, currency, spoiler, extra), event
        elif rail == "bank":
            send, about = bank_delivery(transfer, spoiler, extra), transfer
        else:
            send, about = payparts_delivery(callback, signed, spoiler, extra), callback
        watched(send, f"signed {rail} {spoiler} {about!r:.600} XFF={forwarded!r}")

    deliver_signed()
    # The deliveries reached the code that reads them: some were accepted, some refused.
    assert watched.seen[200] and watched.seen[400], dict(watched.seen)


def test_an_authentic_delivery_in_the_fuzzers_shape_is_accepted(watched):
    """The signing above is right: a well-formed delivery of each rail gets a 200."""
    client = Client(raise_request_exception=False)
    transfer = {
        "operation_id": str(uuid.uuid4()),
        "amount": 145000,
        "payer_inn": "7707083893",
        "document_number": "PAY-328",
        "document_date": "2024-04-27T21:00:00Z",
    }
    payload = json.dumps(transfer).encode()
    header = signature_header(payload, BANK_SECRET)
    bank = watched(
        lambda: client.generic(
            "POST", "/api/webhook/bank/", payload, "application/json", HTTP_X_BANK_SIGNATURE=header
        ),
        "bank",
    )
    event = {"id": "evt_fuzz_ok", "object": "event", "type": "customer.created", "data": {}}
    stripe_payload = json.dumps(event).encode()
    stripe_header = signature_header(stripe_payload, account_for("USD").webhook_secret)
    watched(
        lambda: client.generic(
            "POST",
            "/payments/webhooks/stripe/usd/",
            stripe_payload,
            "application/json",
            HTTP_STRIPE_SIGNATURE=stripe_header,
        ),
        "stripe",
    )
    assert bank > 0
    assert watched.seen == {200: 2}
