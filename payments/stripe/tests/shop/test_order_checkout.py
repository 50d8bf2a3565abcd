"""One Checkout Session per order, with its discount as a coupon and its taxes as tax rates."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.stripe.models import StripeObjectRef
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import requests_of, sandbox_account, session_object
from storefront.models import Discount
from storefront.shop.pricing import order_totals
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    """A client that may pay `order` (it holds the order's share key)."""

    def open_order(order):
        client.get(reverse("storefront:order", args=[order.pk]) + f"?key={order.access_key}")
        return client

    return open_order


def pay(client, order):
    response = client.get(reverse("storefront:order_pay_json", args=[order.pk]))
    assert response.status_code == 200, response.content
    return response.json()["id"]


def test_order_session_has_a_line_per_item_the_coupon_and_the_tax_rates(owner):
    notebook = make_item(name="Notebook", price="19.99")
    mug = make_item(name="Mug", price="12.50")
    discount = make_discount(name="Spring sale", percent_off="10")
    tax = make_tax(display_name="Sales tax", percentage="8.875", jurisdiction="NY")
    order = make_order((notebook, 2), (mug, 1), discount=discount, taxes=(tax,))

    session_id = pay(owner(order), order)

    usd = requests_of("USD")
    coupon_request = usd.get(path="/v1/coupons")
    assert coupon_request.params == {"name": "Spring sale", "duration": "once", "percent_off": "10"}
    rate_request = usd.get(path="/v1/tax_rates")
    assert rate_request.params == {
        "display_name": "Sales tax",
        "percentage": "8.875",
        "inclusive": "false",
        "jurisdiction": "NY",
    }
    coupon_id = coupon_request.response["id"]
    rate_id = rate_request.response["id"]
    session_params = usd.get(path="/v1/checkout/sessions").params
    assert session_params["discounts"] == [{"coupon": coupon_id}]
    assert [
        (
            line["price_data"]["product_data"]["name"],
            line["price_data"]["unit_amount"],
            line["quantity"],
            line["tax_rates"],
        )
        for line in session_params["line_items"]
    ] == [("Notebook", "1999", "2", [rate_id]), ("Mug", "1250", "1", [rate_id])]
    assert session_params["client_reference_id"] == f"order-{order.pk}"
    assert session_object(session_id).account == sandbox_account("USD")


def test_steady_state_checkout_is_one_stripe_request(owner):
    item, discount = make_item(price="19.99"), make_discount(percent_off="15")
    taxes = (make_tax(percentage="8"), make_tax(percentage="2", display_name="City tax"))
    orders = [
        make_order((item, quantity), discount=discount, taxes=taxes) for quantity in (1, 2, 3)
    ]
    pay(owner(orders[0]), orders[0])
    before = requests_of("USD").count()

    for order in orders[1:]:
        pay(owner(order), order)

    assert list(requests_of("USD").values_list("path", flat=True))[before:] == [
        "/v1/checkout/sessions",
        "/v1/checkout/sessions",
    ]
    assert StripeObjectRef.objects.count() == 3


def test_asking_again_for_the_same_order_reuses_its_open_session_with_no_stripe_call(owner):
    order = make_order((make_item(price="19.99"), 2))
    client = owner(order)
    first = pay(client, order)
    before = requests_of("USD").count()

    again = [pay(client, order) for _ in range(3)]

    assert again == [first] * 3
    assert requests_of("USD").count() == before
    assert order.lines.get().quantity == 2


def test_editing_a_discount_makes_a_new_coupon_on_next_use(owner):
    discount = make_discount(percent_off="10")
    order = make_order((make_item(price="30.00"), 1), discount=discount)
    client = owner(order)
    first = session_object(pay(client, order)).data

    discount.percent_off = Decimal("20")
    discount.save()
    second = session_object(pay(client, order)).data

    assert first["discounts"][0]["coupon"] != second["discounts"][0]["coupon"]
    assert (
        first["total_details"]["amount_discount"],
        second["total_details"]["amount_discount"],
    ) == (
        300,
        600,
    )
    assert requests_of("USD").filter(path="/v1/coupons").count() == 2


def test_coupons_and_tax_rates_are_made_on_the_account_of_the_orders_currency(owner):
    discount = make_discount(percent_off="10")
    tax = make_tax(percentage="19", inclusive=True)
    usd_order = make_order((make_item(currency="USD"), 1), discount=discount, taxes=(tax,))
    eur_order = make_order((make_item(currency="EUR"), 1), discount=discount, taxes=(tax,))

    pay(owner(usd_order), usd_order)
    pay(owner(eur_order), eur_order)

    for currency in ("USD", "EUR"):
        owned = SandboxObject.objects.filter(account=sandbox_account(currency))
        assert owned.filter(object="coupon").count() == 1
        assert owned.filter(object="tax_rate").count() == 1
        assert owned.filter(object="checkout.session").count() == 1


ORDERS = {
    "USD percent off, exclusive tax": dict(
        currency="USD",
        lines=[("19.99", 2), ("12.50", 1)],
        discount={"percent_off": "10"},
        taxes=[("8", False)],
    ),
    "EUR amount off, inclusive VAT": dict(
        currency="EUR",
        lines=[("24.00", 1), ("38.00", 2), ("3.33", 3)],
        discount={"amount_off": "5.00"},
        taxes=[("19", True)],
    ),
    "EUR inclusive and exclusive": dict(
        currency="EUR",
        lines=[("38.00", 1), ("7.77", 1)],
        discount={"percent_off": "12.5"},
        taxes=[("19", True), ("2.5", False)],
    ),
    "JPY zero-decimal": dict(
        currency="JPY",
        lines=[("1500", 3), ("980", 1)],
        discount={"percent_off": "10"},
        taxes=[("8", False)],
    ),
    "USD amount off, two taxes": dict(
        currency="USD",
        lines=[("0.99", 7), ("149.00", 1)],
        discount={"amount_off": "20.00"},
        taxes=[("6.25", False), ("2.25", False)],
    ),
}


@pytest.mark.parametrize("case", list(ORDERS))
def test_our_totals_are_what_checkout_charges(owner, offer_currency, case):
    spec = ORDERS[case]
    currency = spec["currency"]
    offer_currency("JPY")
    discount = make_discount(currency=currency, **spec["discount"])
    taxes = tuple(
        make_tax(percentage=p, inclusive=inclusive, display_name=f"Tax {i}")
        for i, (p, inclusive) in enumerate(spec["taxes"])
    )
    order = make_order(
        *[(make_item(price=price, currency=currency), qty) for price, qty in spec["lines"]],
        discount=discount,
        taxes=taxes,
    )

    session = session_object(pay(owner(order), order)).data
    ours = order_totals(order)

    assert session["currency"] == currency.lower()
    assert (
        session["amount_subtotal"],
        session["total_details"]["amount_discount"],
        session["total_details"]["amount_tax"],
        session["amount_total"],
    ) == (ours.subtotal, ours.discount, ours.tax, ours.total)


def test_the_order_page_shows_what_the_sandbox_checkout_page_shows(owner):
    order = make_order(
        (make_item(price="24.00", currency="EUR"), 2),
        discount=make_discount(percent_off="10"),
        taxes=(make_tax(percentage="19", inclusive=True, display_name="VAT"),),
    )
    client = owner(order)
    order_page = client.get(reverse("storefront:order", args=[order.pk])).content.decode()
    session_id = pay(client, order)
    checkout_page = client.get(f"/sandbox/checkout/{session_id}/").content.decode()

    # 4800 − 480 = 4320 total; VAT inside: 4320 × 19 / 119 = 689.75 → 690.
    assert 'id="amount-total">€43.20<' in order_page
    assert "€43.20" in checkout_page and "€4.80" in checkout_page and "€6.90" in checkout_page
    assert session_object(session_id).data["amount_total"] == 4320


def test_an_amount_off_discount_in_another_currency_is_refused_before_stripe(owner):
    order = make_order(
        (make_item(currency="USD"), 1),
        discount=make_discount(amount_off="5.00", currency="EUR"),
    )

    response = owner(order).get(reverse("storefront:order_pay_json", args=[order.pk]))

    assert response.status_code == 422
    assert "is in EUR, not USD" in response.json()["error"]
    assert not requests_of("USD").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"percent_off": "0"},
        {"percent_off": "100.01"},
        {"percent_off": "-5"},
        {"amount_off": "-1.00"},
        {"percent_off": "10", "amount_off": "1.00"},
        {},
        {"percent_off": "10", "duration": "repeating"},
    ],
)
def test_impossible_discounts_are_refused(fields):
    with pytest.raises(ValidationError):
        make_discount(**fields)


@pytest.mark.parametrize("percentage", ["-1", "100.5"])
def test_impossible_taxes_are_refused(percentage):
    with pytest.raises(ValidationError):
        make_tax(percentage=percentage)


def test_the_database_refuses_a_discount_over_100_percent_too():
    discount = make_discount(percent_off="10")

    with pytest.raises(IntegrityError), transaction.atomic():
        type(discount).objects.filter(pk=discount.pk).update(percent_off=Decimal("150"))


def test_stripe_sync_pushes_everything_once_and_reports_it(offer_currency):
    from io import StringIO

    from django.core.management import call_command

    make_discount(name="Spring sale", percent_off="10")
    make_discount(name="Five euros", amount_off="5.00", currency="EUR")
    make_discount(name="Old", percent_off="50", active=False)
    make_tax(display_name="VAT", percentage="19", inclusive=True)

    first, second = StringIO(), StringIO()
    call_command("stripe_sync", stdout=first)
    call_command("stripe_sync", stdout=second)

    # EUR: 2 coupons + 1 tax rate; USD: 1 coupon (not the EUR amount) + 1 tax rate.
    assert "5 created, 0 already there." in first.getvalue()
    assert "0 created, 5 already there." in second.getvalue()
    eur = SandboxObject.objects.filter(account=sandbox_account("EUR"))
    assert sorted(eur.values_list("object", flat=True)) == ["coupon", "coupon", "tax_rate"]
    usd = SandboxObject.objects.filter(account=sandbox_account("USD"))
    assert sorted(usd.values_list("object", flat=True)) == ["coupon", "tax_rate"]


def test_stripe_sync_without_any_account_fails_and_says_what_to_set(settings):
    from django.core.management import CommandError, call_command

    make_tax(display_name="VAT", percentage="19", inclusive=True)
    settings.STRIPE_SANDBOX = False  # and no keys: like DEBUG=0 without configuration

    with pytest.raises(CommandError, match="STRIPE_<CUR>_SECRET_KEY"):
        call_command("stripe_sync")
    assert not SandboxObject.objects.exists()


def test_stripe_sync_with_nothing_to_push_says_so():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("stripe_sync", stdout=out)

    assert "nothing to make" in out.getvalue()


def test_a_changed_order_gets_a_new_session_for_its_new_total(owner):
    order = make_order((make_item(price="19.99"), 1))
    client = owner(order)
    first = pay(client, order)

    order.lines.update(quantity=2)

    assert pay(client, order) != first


def test_a_discount_withdrawn_after_the_buyer_applied_it_is_not_granted(owner):
    discount = make_discount(name="Spring sale", percent_off="50")
    order = make_order((make_item(price="20.00"), 1), discount=discount)
    client = owner(order)
    Discount.objects.filter(pk=discount.pk).update(active=False)

    refused = client.get(reverse("storefront:order_pay_json", args=[order.pk]))
    page = client.get(order.get_absolute_url()).content.decode()
    then = client.get(reverse("storefront:order_pay_json", args=[order.pk]))

    assert refused.status_code == 409
    assert "“Spring sale” no longer applies" in refused.json()["error"]
    order.refresh_from_db()
    assert order.discount is None
    assert "$20.00" in page and "Spring sale" not in page
    assert then.status_code == 200
    assert session_object(then.json()["id"]).data["amount_total"] == 2000


def _refs_read(captured) -> int:
    return sum("payments_stripeobjectref" in query["sql"] for query in captured.captured_queries)


def test_known_tax_rates_and_coupons_are_not_read_again(owner, django_capture_on_commit_callbacks):
    """Once their rows have committed, a process knows its tax rates' and coupons' ids: the
    next checkouts read no row of them and still make one Stripe request each."""
    item, discount = make_item(price="19.99"), make_discount(percent_off="15")
    taxes = (make_tax(percentage="8"), make_tax(percentage="2", display_name="City tax"))
    orders = [make_order((item, n), discount=discount, taxes=taxes) for n in (1, 2, 3)]
    with django_capture_on_commit_callbacks(execute=True):
        first = pay(owner(orders[0]), orders[0])
    before = requests_of("USD").count()

    with CaptureQueriesContext(connection) as captured:
        later = [pay(owner(order), order) for order in orders[1:]]

    assert _refs_read(captured) == 0
    assert (
        list(requests_of("USD").values_list("path", flat=True))[before:]
        == ["/v1/checkout/sessions"] * 2
    )
    sessions = requests_of("USD").filter(path="/v1/checkout/sessions")
    assert len({tuple(r.params["line_items"][0]["tax_rates"]) for r in sessions}) == 1
    assert len({first, *later}) == 3


def test_editing_a_known_tax_makes_its_new_tax_rate_on_the_next_checkout(
    owner, django_capture_on_commit_callbacks
):
    tax = make_tax(display_name="Sales tax", percentage="8")
    item = make_item(price="10.00")
    first, second = (make_order((item, 1), taxes=(tax,)) for _ in range(2))
    with django_capture_on_commit_callbacks(execute=True):
        before = session_object(pay(owner(first), first)).data

    tax.percentage = Decimal("10")
    tax.save()
    after = session_object(pay(owner(second), second)).data

    assert (before["amount_total"], after["amount_total"]) == (1080, 1100)
    assert requests_of("USD").filter(path="/v1/tax_rates").count() == 2


def test_a_tax_rate_row_rolled_back_is_not_remembered(django_capture_on_commit_callbacks):
    from payments.stripe.accounts import account_for
    from payments.stripe.references import tax_rates_ensure
    from storefront.shop.order_payment import tax_terms

    terms = [tax_terms(make_tax(percentage="8"))]
    account = account_for("USD")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            tax_rates_ensure(account, terms)
            raise RuntimeError("the caller's transaction fails")

        with CaptureQueriesContext(connection) as captured:
            tax_rates_ensure(account, terms)

    assert _refs_read(captured) >= 1  # looked for (and made) again, not taken from memory
    assert StripeObjectRef.objects.count() == 1
