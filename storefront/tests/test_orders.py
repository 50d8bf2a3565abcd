"""A buyer fills an order with items of one currency, changes it, and applies a code."""

import pytest
from django.urls import reverse

from storefront.models import Order, OrderLine
from storefront.tests.factories import make_discount, make_item, make_order, make_tax
from storefront.tests.page_text import page_text

pytestmark = pytest.mark.django_db


def add(client, item, quantity=1, **extra):
    return client.post(
        reverse("storefront:order_add"), {"item": item.pk, "quantity": quantity, **extra}
    )


def page_of(response_or_client):
    return response_or_client.get(reverse("storefront:cart")).content.decode()


def test_adding_items_builds_one_order_with_lines_and_totals(client):
    notebook = make_item(name="Notebook", price="19.99", currency="USD")
    mug = make_item(name="Mug", price="12.50", currency="USD")

    assert add(client, notebook, 2)["Location"] == reverse("storefront:cart")
    add(client, mug)
    add(client, notebook, 1)

    order = Order.objects.get()
    assert order.currency == "USD"
    assert [(line.item.name, line.quantity) for line in order.lines.all()] == [
        ("Notebook", 3),
        ("Mug", 1),
    ]
    page = page_of(client)
    assert "Notebook" in page and "$59.97" in page and "$12.50" in page
    assert 'id="amount-total">$72.47<' in page
    assert "Added 1 × Notebook to your order." in page


def test_an_item_in_another_currency_is_refused_and_the_order_stays(client):
    notebook = make_item(name="Notebook", price="19.99", currency="USD")
    tote = make_item(name="Tote bag", price="24.00", currency="EUR")
    add(client, notebook)

    response = add(client, tote, next=tote.get_absolute_url())
    page = client.get(response["Location"]).content.decode()

    assert response["Location"] == tote.get_absolute_url()
    assert "Tote bag is priced in EUR, but your order is in USD" in page
    order = Order.objects.get()
    assert [(line.item, line.quantity) for line in order.lines.all()] == [(notebook, 1)]


def test_an_emptied_order_takes_the_next_items_currency(client):
    notebook = make_item(currency="USD")
    tote = make_item(currency="EUR")
    add(client, notebook)
    order = Order.objects.get()
    line = order.lines.get()
    client.post(reverse("storefront:order_line", args=[order.pk, line.pk]), {"action": "remove"})

    add(client, tote)

    order.refresh_from_db()
    assert order.currency == "EUR"
    assert [line.item for line in order.lines.all()] == [tote]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "between 1 and 999"),
        ("-2", "between 1 and 999"),
        ("1000", "between 1 and 999"),
        ("1.5", "must be a whole number"),
        ("lots", "must be a whole number"),
        ("", "Give a quantity"),
    ],
)
def test_bad_quantities_are_refused_in_words_and_save_nothing(client, quantity, message):
    item = make_item()

    response = add(client, item, quantity)

    assert message in client.get(response["Location"]).content.decode()
    assert not OrderLine.objects.exists()


def test_unknown_item_is_refused(client):
    response = client.post(reverse("storefront:order_add"), {"item": 999, "quantity": 1})

    assert "There is no such item." in client.get(response["Location"]).content.decode()
    assert not Order.objects.exists()


def test_quantity_over_the_limit_in_total_is_refused(client):
    item = make_item()
    add(client, item, 998)

    response = add(client, item, 2)

    assert "at most 999" in client.get(response["Location"]).content.decode()
    assert OrderLine.objects.get().quantity == 998


def test_changing_and_removing_lines(client):
    notebook, mug = make_item(price="10.00"), make_item(price="5.00")
    add(client, notebook)
    add(client, mug)
    order = Order.objects.get()
    first, second = order.lines.all()

    client.post(reverse("storefront:order_line", args=[order.pk, first.pk]), {"quantity": 4})
    client.post(reverse("storefront:order_line", args=[order.pk, second.pk]), {"action": "remove"})
    bad = client.post(reverse("storefront:order_line", args=[order.pk, first.pk]), {"quantity": 0})

    assert [(line.item, line.quantity) for line in order.lines.all()] == [(notebook, 4)]
    assert "between 1 and 999" in client.get(bad["Location"]).content.decode()


def test_a_paid_order_cannot_change(client):
    item = make_item()
    add(client, item)
    order = Order.objects.get()
    line = order.lines.get()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)

    response = client.post(
        reverse("storefront:order_line", args=[order.pk, line.pk]), {"quantity": 5}
    )
    client.post(reverse("storefront:order_line", args=[order.pk, line.pk]), {"action": "remove"})

    assert "it can no longer change" in client.get(response["Location"]).content.decode()
    assert order.lines.get().quantity == 1


def test_adding_after_paying_starts_a_new_order(client):
    item = make_item()
    add(client, item)
    Order.objects.update(status=Order.Status.PAID)

    add(client, item)

    assert Order.objects.count() == 2
    assert Order.objects.filter(status=Order.Status.OPEN).get().lines.get().quantity == 1


def test_someone_elses_order_is_not_found(client):
    order = make_order((make_item(), 1))

    assert client.get(reverse("storefront:order", args=[order.pk])).status_code == 404
    assert client.get(reverse("storefront:order_pay_json", args=[order.pk])).status_code == 404
    line = order.lines.get()
    client.post(reverse("storefront:order_line", args=[order.pk, line.pk]), {"quantity": 9})
    assert order.lines.get().quantity == 1


def test_a_share_link_opens_the_order(client):
    order = make_order((make_item(name="Notebook"), 2))

    wrong = client.get(reverse("storefront:order", args=[order.pk]) + "?key=nope")
    foreign = client.get(reverse("storefront:order", args=[order.pk]) + "?key=ñ")
    right = client.get(reverse("storefront:order", args=[order.pk]) + f"?key={order.access_key}")

    assert wrong.status_code == 404 and foreign.status_code == 404
    assert right.status_code == 200 and "Notebook" in right.content.decode()
    # The browser may now pay it.
    assert client.get(reverse("storefront:order_pay_json", args=[order.pk])).status_code == 200


def test_reading_a_share_link_writes_no_session(client, django_assert_num_queries):
    from django.contrib.sessions.models import Session
    from django.test import Client

    order = make_order((make_item(name="Notebook"), 2))
    url = reverse("storefront:order", args=[order.pk]) + f"?key={order.access_key}"
    before = Session.objects.count()

    for _ in range(5):
        visitor = Client()  # no cookie at all, as a link opened in a new browser
        response = visitor.get(url)
        assert response.status_code == 200 and "Notebook" in response.content.decode()

    assert Session.objects.count() == before
    # The page's reads only: the order, its lines with their items, its taxes.
    with django_assert_num_queries(3):
        Client().get(url)


def test_a_share_link_is_remembered_by_a_signed_cookie_that_cannot_be_forged(client):
    mine = make_order((make_item(name="Notebook"), 2))
    other = make_order((make_item(name="Mug"), 1))
    client.get(reverse("storefront:order", args=[mine.pk]) + f"?key={mine.access_key}")

    assert client.get(reverse("storefront:order", args=[mine.pk])).status_code == 200
    assert client.get(reverse("storefront:order", args=[other.pk])).status_code == 404
    client.cookies["shared_orders"] = f"{mine.pk},{other.pk}"  # unsigned: worthless
    assert client.get(reverse("storefront:order", args=[mine.pk])).status_code == 404
    assert client.get(reverse("storefront:order", args=[other.pk])).status_code == 404


def test_discount_code_and_default_taxes_show_on_the_order_page(client):
    make_tax(display_name="Sales tax", percentage="8", currency="USD", applies_to_new_orders=True)
    make_tax(display_name="VAT", percentage="19", currency="EUR", applies_to_new_orders=True)
    make_discount(name="Spring sale", code="SPRING10", percent_off="10")
    item = make_item(price="19.99", currency="USD")
    add(client, item, 2)

    response = client.post(
        reverse("storefront:order_discount", args=[Order.objects.get().pk]), {"code": "spring10"}
    )
    shown = client.get(response["Location"])
    page = shown.content.decode()

    # 3998; 10 % = 400 → 3598; 8 % = 287.84 → 288; total 3886.
    assert "Spring sale applied." in page
    assert 'id="amount-subtotal">$39.98<' in page
    assert 'id="amount-discount">−$4.00<' in page
    assert "Sales tax 8%" in page and "$2.88" in page
    assert "VAT" not in page_text(shown)  # the EUR tax is not for USD orders
    assert 'id="amount-total">$38.86<' in page


@pytest.mark.parametrize(
    ("code", "message"),
    [("NOPE", "is not valid"), ("EUR5", "is for orders in EUR"), ("", "Enter a discount code")],
)
def test_bad_discount_codes_are_refused(client, code, message):
    make_discount(name="Five off", code="EUR5", amount_off="5.00", currency="EUR")
    add(client, make_item(currency="USD"))
    order = Order.objects.get()

    response = client.post(reverse("storefront:order_discount", args=[order.pk]), {"code": code})

    assert message in client.get(response["Location"]).content.decode()
    order.refresh_from_db()
    assert order.discount is None


def test_empty_order_page(client):
    assert "Your order is empty" in page_of(client)


def test_paying_an_empty_or_paid_order_is_refused(client):
    item = make_item()
    add(client, item)
    order = Order.objects.get()
    order.lines.all().delete()

    empty = client.get(reverse("storefront:order_pay_json", args=[order.pk]))
    Order.objects.update(status=Order.Status.PAID)
    paid = client.get(reverse("storefront:order_pay_json", args=[order.pk]))

    assert (empty.status_code, empty.json()) == (409, {"error": "Your order is empty."})
    assert paid.status_code == 409 and "can no longer change" in paid.json()["error"]


@pytest.mark.parametrize("order_id", ["999", "abc", "²"])
def test_buy_unknown_order_is_json_404(client, order_id):
    response = client.get(f"/buy/order/{order_id}")

    assert (response.status_code, response.json()) == (404, {"error": "There is no such order."})


def test_a_discount_can_be_removed_and_replaced(client):
    usd = make_item(price="20.00")
    make_discount(name="Ten", code="TEN", percent_off="10")
    make_discount(name="Twenty", code="TWENTY", percent_off="20")
    client.post(reverse("storefront:order_add"), {"item": usd.pk, "quantity": 1})
    order = Order.objects.get()
    discount_url = reverse("storefront:order_discount", args=[order.pk])

    client.post(discount_url, {"code": "TEN"})
    client.post(discount_url, {"code": "TWENTY"})
    replaced = client.get(order.get_absolute_url()).content.decode()
    client.post(discount_url, {"action": "remove"})
    removed = client.get(order.get_absolute_url()).content.decode()

    assert "Twenty (20% off)" in replaced and "$16.00" in replaced
    order.refresh_from_db()
    assert order.discount is None
    assert "Twenty removed." in removed and "$20.00" in removed


def test_an_order_can_be_emptied_and_then_filled_in_another_currency(client):
    usd, eur = make_item(price="20.00", currency="USD"), make_item(price="9.00", currency="EUR")
    add = reverse("storefront:order_add")
    client.post(add, {"item": usd.pk, "quantity": 2})
    order = Order.objects.get()
    refused = client.post(add, {"item": eur.pk, "quantity": 1}, follow=True).content.decode()

    client.post(reverse("storefront:order_empty", args=[order.pk]))
    client.post(add, {"item": eur.pk, "quantity": 1})

    assert "empty it first" in refused
    order.refresh_from_db()
    assert order.currency == "EUR"
    assert [(line.item, line.quantity) for line in order.lines.all()] == [(eur, 1)]


def test_a_stranger_cannot_empty_someone_elses_order(client):
    from django.test import Client

    client.post(reverse("storefront:order_add"), {"item": make_item().pk, "quantity": 1})
    order = Order.objects.get()

    response = Client().post(reverse("storefront:order_empty", args=[order.pk]))

    assert response.status_code == 404
    assert order.lines.count() == 1


def test_abandoned_open_orders_are_cancelled_but_not_one_being_paid(client):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from payments.models import Payment

    old = timezone.now() - timedelta(days=3)
    abandoned, being_paid, recent = (make_order((make_item(), 1)) for _ in range(3))
    paid = make_order((make_item(), 1))
    Order.objects.filter(pk=paid.pk).update(status=Order.Status.PAID)
    Order.objects.exclude(pk=recent.pk).update(updated=old)
    Payment.objects.create(
        rail="stripe", account="pk_test_sandbox_usd", reference=being_paid.payment_reference,
        provider_ref="cs_test_open", currency="USD", amount_expected=100,
        pay_url="https://checkout.example/cs_test_open",
        expires_at=timezone.now() + timedelta(hours=2),
    )  # fmt: skip

    out = StringIO()
    call_command("orders_expire", stdout=out)

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        abandoned.pk: "cancelled",
        being_paid.pk: "open",
        recent.pk: "open",
        paid.pk: "paid",
    }
    assert "1 open order(s) untouched for 2 days cancelled." in out.getvalue()
