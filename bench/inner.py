"""The part of the benchmarks that runs inside the measured app, with Django set up:
`python -m bench.inner <command> '<json params>' <answer file>` (bench.target.Target.inner).

It uses only what every version of the shop has (its models, the demo fixture, its pages through
Django's test client, the sandbox's own "pay this session"), so the same code seeds and measures
an older checkout and today's.
"""

import json
import os
import sys
from decimal import Decimal

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from djmoney.money import Money  # noqa: E402

from storefront.models import Item, Order, OrderLine  # noqa: E402

DEMO_USD_ORDER = 1  # fixtures/demo.json: USD, WELCOME10 and NYC sales tax, key demo-usd-order


def seed(*, items: int = 50, order_lines: int = 3, orders: int = 0) -> dict:
    """The demo shop, made to measure: `items` in the catalogue (USD ones added), the demo USD
    order with `order_lines` lines, and `orders` more orders of one line each."""
    call_command("flush", "--noinput", verbosity=0)
    call_command("loaddata", "demo", verbosity=0)
    missing = max(0, items - Item.objects.count(), order_lines - _usd_items().count())
    Item.objects.bulk_create(
        Item(
            name=f"Bench item {n:05d}",
            description="A thing to measure with.",
            price=Money(Decimal("9.99") + n % 50, "USD"),
        )
        for n in range(missing)
    )
    order = Order.objects.get(pk=DEMO_USD_ORDER)
    order.lines.all().delete()
    OrderLine.objects.bulk_create(
        OrderLine(order=order, item=item, quantity=1 + n % 3, unit_price=item.price)
        for n, item in enumerate(_usd_items()[:order_lines])
    )
    item = _usd_items().first()
    for _ in range(orders):
        extra = Order.objects.create(currency="USD", discount=order.discount)
        extra.taxes.set(order.taxes.all())
        OrderLine.objects.create(order=extra, item=item, quantity=2, unit_price=item.price)
    return {
        "item_id": item.pk,
        "order_id": order.pk,
        "order_key": order.access_key,
        "items": Item.objects.count(),
        "orders": Order.objects.count(),
    }


def _usd_items():
    return Item.objects.filter(price_currency="USD").order_by("pk")


def _staff_client() -> Client:
    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_superuser("bench", "bench@example.com", "bench-password")
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, path: str) -> dict:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, secure=True)
    return {"queries": len(captured), "status": response.status_code}


def queries(*, small: dict, large: dict) -> dict:
    """Queries per page at two sizes each (`small`/`large`: items, lines, orders)."""
    found = {}
    for size, spec in (("small", small), ("large", large)):
        shop = seed(items=spec["items"], order_lines=spec["lines"], orders=spec["orders"] - 2)
        order, key = shop["order_id"], shop["order_key"]
        staff = _staff_client()
        found[size] = {
            "sizes": {**spec, "orders": shop["orders"]},
            "catalogue": _queries(Client(), "/"),
            "item": _queries(Client(), f"/item/{shop['item_id']}/"),
            "order": _queries(Client(), f"/order/{order}/?key={key}"),
            "admin_order_list": _queries(staff, "/admin/storefront/order/"),
            "admin_order_change": _queries(staff, f"/admin/storefront/order/{order}/change/"),
        }
    return found


def admin_order(*, lines: int, requests: int, status: str, warmup: int = 3) -> dict:
    """Milliseconds per GET of the admin's change page of an order of 1 line and of one of
    `lines` lines (both in `status`), as a superuser through Django's test client: `requests`
    each, interleaved one by one, after `warmup` each."""
    import time

    shop = seed(items=max(50, lines), order_lines=lines)
    large = Order.objects.get(pk=shop["order_id"])
    small = Order.objects.create(currency=large.currency, discount=large.discount)
    small.taxes.set(large.taxes.all())
    line = large.lines.order_by("pk").first()
    OrderLine.objects.create(
        order=small, item=line.item, quantity=line.quantity, unit_price=line.unit_price
    )
    Order.objects.filter(pk__in=[small.pk, large.pk]).update(status=status)
    staff = _staff_client()
    paths = {
        size: f"/admin/storefront/order/{order.pk}/change/"
        for size, order in (("small", small), ("large", large))
    }
    times = {"small": [], "large": []}
    found = {"small": set(), "large": set()}
    for n in range(warmup + requests):
        for size, path in paths.items():
            started = time.perf_counter()
            response = staff.get(path, secure=True)
            elapsed = (time.perf_counter() - started) * 1000
            found[size].add(response.status_code)
            if n >= warmup:
                times[size].append(elapsed)
    return {
        "lines": {"small": 1, "large": large.lines.count()},
        "ms": times,
        "statuses": {size: sorted(codes) for size, codes in found.items()},
    }


def _sandbox_requests() -> int:
    from payments.stripe.sandbox.models import SandboxRequest

    return SandboxRequest.objects.count()


def _counted_get(client: Client, path: str) -> dict:
    before = _sandbox_requests()
    response = client.get(path, secure=True)
    return {"requests": _sandbox_requests() - before, "status": response.status_code}


def _new_order(client: Client, item_id: int, code: str) -> int:
    client.post("/order/add/", {"item": item_id, "quantity": 1}, secure=True)
    order_id = client.session["cart_order_id"]
    client.post(f"/order/{order_id}/discount/", {"code": code}, secure=True)
    return order_id


def stripe_requests() -> dict:
    """Stripe requests per checkout: the first on an account (its coupon and tax rate are made
    then), the next ones, and the same browser asking again."""
    shop = seed(items=10, order_lines=1)
    first, second = Client(), Client()
    cold_order = _new_order(first, shop["item_id"], "WELCOME10")
    warm_order = _new_order(second, shop["item_id"], "WELCOME10")
    return {
        "cold_order": _counted_get(first, f"/buy/order/{cold_order}/"),
        "warm_order": _counted_get(second, f"/buy/order/{warm_order}/"),
        "warm_item": _counted_get(Client(), f"/buy/{shop['item_id']}/"),
        "again_same_browser": _counted_get(second, f"/buy/order/{warm_order}/"),
    }


def webhook_events(*, count: int, items: int = 50) -> dict:
    """`count` pending Checkout payments (one /buy each, from a new browser), each then paid in
    the sandbox: their `checkout.session.completed` events, recorded and not sent, and the
    secret to sign them with."""
    from payments.stripe.sandbox.cards import CARD_SUCCEEDS, Card
    from payments.stripe.sandbox.events import event_body
    from payments.stripe.sandbox.hosted_checkout import checkout_session_pay
    from payments.stripe.sandbox.models import SandboxObject

    shop = seed(items=items, order_lines=1)
    card = Card(number=CARD_SUCCEEDS, exp_month=12, exp_year=2099, cvc="123")
    events = []
    for _ in range(count):
        response = Client().get(f"/buy/{shop['item_id']}/", secure=True)
        session_id = response.json()["id"]
        # The buyer gives an address, so every paying delivery owes a receipt and its cost is
        # counted wherever the shop runs it (eager Celery here: in the request, after commit).
        session = checkout_session_pay(session_id=session_id, card=card, email="buyer@example.com")
        event = SandboxObject.objects.filter(
            object="event",
            data__type="checkout.session.completed",
            data__data__object__id=session_id,
        ).get()
        events.append(
            {
                "body": event_body(event),
                "secret": event.private["webhook_secret"],
                "session": session.id,
            }
        )
    return {"events": events, "item_id": shop["item_id"]}


def _wsgi_call(application, *, method: str, path: str, body: bytes = b"", **headers: str):
    """One call of the WSGI `application` with the environ gunicorn makes for a request from
    127.0.0.1 behind a TLS-ending router; `headers` as `HTTP_...` names. Returns (status line,
    response headers)."""
    import io

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        **({"CONTENT_LENGTH": str(len(body))} if body else {}),
        **headers,
    }
    started = []
    b"".join(application(environ, lambda status, headers: started.append((status, headers))))
    return started[0]


def _profiled(label: str, calls: list, call, *, top: int, unit: str) -> str:
    """cProfile of `call(one)` for each of `calls`, as text: a head line (`label`, the time per
    call under cProfile, the statuses) and the `top` functions by cumulative time, with paths
    from the packages and the checkout, not from this machine."""
    import cProfile
    import io
    import pstats
    import time
    from pathlib import Path

    profile = cProfile.Profile()
    started = time.perf_counter()
    statuses = [profile.runcall(call, one) for one in calls]
    per_call = (time.perf_counter() - started) * 1000 / len(calls)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    for prefix in sorted({*sys.path, str(Path.cwd())}, key=len, reverse=True):
        if prefix.startswith("/"):
            text = text.replace(prefix.rstrip("/") + "/", "")
    head = (
        f"{label}: {len(calls)} {unit} through storefront.wsgi's WSGI handler, PostgreSQL, "
        f"{'REDIS_URL' if os.environ.get('REDIS_URL') else 'no REDIS_URL'}, DEBUG=0, "
        f"{per_call:.1f} ms per call under cProfile; statuses {sorted(set(statuses))}\n"
    )
    return head + text


def profile_webhooks(*, events: int, duplicates: int, top: int) -> dict:
    """cProfile of `events` distinct deliveries, then `duplicates` of the last one, each one
    call of the WSGI application (bench.profile webhooks)."""
    from django.core.handlers.wsgi import WSGIHandler

    from bench.load import stripe_signature

    made = webhook_events(count=events)["events"]
    application = WSGIHandler()

    def deliver(event: dict) -> str:
        body = event["body"].encode()
        return _wsgi_call(
            application,
            method="POST",
            path="/payments/webhooks/stripe/usd/",
            body=body,
            CONTENT_TYPE="application/json; charset=utf-8",
            HTTP_STRIPE_SIGNATURE=stripe_signature(body, event["secret"]),
        )[0]

    return {
        "distinct": _profiled("distinct (receipt owed)", made, deliver, top=top, unit="deliveries"),
        "duplicate": _profiled(
            "duplicate", [made[-1]] * duplicates, deliver, top=top, unit="deliveries"
        ),
    }


def _statements(call) -> list[str]:
    """The SQL statements `call()` sends, BEGIN and COMMIT included (psycopg sends those
    itself, so they are counted where Django commits or rolls back), each cut short; those
    sent during a Stripe call (the sandbox's) marked `stripe>`."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    from bench.middleware import _in_provider, _patch_once

    _patch_once()  # marks the Stripe calls
    sent: list[str] = []

    def wrapper(execute, sql, params, many, context):
        mark = "stripe> " if _in_provider.get() else ""
        sent.append(mark + " ".join(sql.split())[:160])
        return execute(sql, params, many, context)

    originals = {name: getattr(BaseDatabaseWrapper, name) for name in ("commit", "rollback")}

    def counted(name):
        def run(self):
            if self.connection is not None and not self.get_autocommit():
                mark = "stripe> " if _in_provider.get() else ""
                sent.append(f"{mark}(BEGIN ... {name.upper()})")
            return originals[name](self)

        return run

    try:
        for name in originals:
            setattr(BaseDatabaseWrapper, name, counted(name))
        with connection.execute_wrapper(wrapper):
            call()
    finally:
        for name, original in originals.items():
            setattr(BaseDatabaseWrapper, name, original)
    return sent


def profile_buy(*, requests: int, top: int, warmup: int = 3) -> dict:
    """cProfile of `requests` calls of `GET /buy/<id>/`, each from a new browser (no cookie),
    through the WSGI application (bench.profile buy), after `warmup` calls (the account's tax
    rate is made then); and the statements one more such call sends, in order."""
    from django.core.handlers.wsgi import WSGIHandler

    shop = seed(items=50, order_lines=1)
    application = WSGIHandler()
    path = f"/buy/{shop['item_id']}/"

    def buy(_) -> str:
        return _wsgi_call(application, method="GET", path=path)[0]

    for n in range(warmup):
        buy(n)
    profile = _profiled(
        "GET /buy/{id} from a new browser (a new one-line order, sandbox Stripe)",
        list(range(requests)),
        buy,
        top=top,
        unit="requests",
    )
    sent = _statements(lambda: buy(None))
    listing = "\n".join(f"  {line}" for line in sent)
    return {"buy": f"{profile}\nStatements of one more call, in order ({len(sent)}):\n{listing}\n"}


COMMANDS = {
    "seed": seed,
    "queries": queries,
    "admin_order": admin_order,
    "stripe_requests": stripe_requests,
    "webhook_events": webhook_events,
    "profile_webhooks": profile_webhooks,
    "profile_buy": profile_buy,
}

if __name__ == "__main__":
    command, params, answer = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    with open(answer, "w") as out:
        json.dump(COMMANDS[command](**params), out)
