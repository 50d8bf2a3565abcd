"""The back office: every admin page loads, orders are read-only once paid, links go to the
right Stripe dashboard (or the sandbox's record), and lists cost a bounded number of queries."""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from payments.models import ReceivedNotification, Refund
from storefront.models import Discount, Item, Order, OrderLine, Tax
from storefront.tests.backoffice_tools import demo_with_usd_order_paid, pdf_text
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(pay_order):
    """The demo catalogue (two open orders), with the USD order paid in the sandbox."""
    return demo_with_usd_order_paid(pay_order)


# --- Every page loads --------------------------------------------------------------------


def test_every_registered_model_has_a_list_and_an_object_page_that_load(admin_client, demo):
    call_command("stripe_sync")  # coupons and tax rates remembered per account
    ReceivedNotification.objects.create(
        rail="stripe", account="pk_test_sandbox_usd", event_id="evt_1",
        type="checkout.session.completed",
        signature_valid=True, status=ReceivedNotification.Status.PROCESSED, payload="{}",
    )  # fmt: skip
    _, payment = demo
    Refund.objects.create(payment=payment, amount=100, currency="USD", status="succeeded")
    checked = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        obj = model_admin.get_queryset(None).first() if opts.app_label != "auth" else None
        if obj is not None:
            change = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]
            )
            assert admin_client.get(change).status_code == 200, change
        if model_admin.has_add_permission(_request_of(admin_client)):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert admin_client.get(add).status_code == 200, add
        checked.append(opts.label)
    assert {
        "storefront.Item",
        "storefront.Order",
        "storefront.Discount",
        "storefront.Tax",
        "payments.Payment",
        "payments.ReceivedNotification",
        "payments.Refund",
        "payments_stripe.StripeObjectRef",
        "sandbox.SandboxObject",
        "sandbox.SandboxRequest",
    } <= set(checked)


def _request_of(client):
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(username="admin")
    return request


def test_pages_need_a_staff_login(client, demo):
    response = client.get(reverse("admin:storefront_order_change", args=[1]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_item_list_shows_prices_in_their_currency_and_filters_by_currency(admin_client, demo):
    page = admin_client.get(reverse("admin:storefront_item_changelist")).content.decode()
    euros = admin_client.get(
        reverse("admin:storefront_item_changelist") + "?price_currency=EUR"
    ).content.decode()
    found = admin_client.get(reverse("admin:storefront_item_changelist") + "?q=tote")

    assert "$19.99" in page and "€24.00" in page
    assert "Linen Tote Bag" in euros and "Field Notes Notebook" not in euros
    assert found.context["cl"].result_count == 1


# --- Orders ------------------------------------------------------------------------------


def test_order_page_shows_lines_totals_payments_and_the_invoice_button(admin_client, demo):
    usd, payment = demo

    page = admin_client.get(reverse("admin:storefront_order_change", args=[usd.pk]))
    html = page.content.decode()

    assert "Field Notes Notebook" in html and "Enamel Camp Mug" in html
    totals = re.search(r'<table class="order-totals".*?</table>', html, re.S).group(0)
    for text in ["$52.48", "−$5.25", "Sales tax 8.875% (added)", "$4.19", "$51.42"]:
        assert text in totals
    payments = re.search(r'<table class="order-payments[ "].*?</table>', html, re.S).group(0)
    assert payment.provider_ref in payments and "Succeeded" in payments
    invoice = reverse("admin:storefront_order_invoice", args=[usd.pk])
    assert f'href="{invoice}"' in html and "Invoice (PDF)" in html


def test_a_paid_order_is_read_only(admin_client, demo):
    usd, _ = demo
    change = reverse("admin:storefront_order_change", args=[usd.pk])

    page = admin_client.get(change)
    html = page.content.decode()
    posted = admin_client.post(change, {"currency": "EUR", "status": "open"})
    deleted = admin_client.post(
        reverse("admin:storefront_order_delete", args=[usd.pk]), {"post": "yes"}
    )
    bulk = admin_client.post(
        reverse("admin:storefront_order_changelist"),
        {"action": "delete_selected", "_selected_action": [str(usd.pk)], "post": "yes"},
    )

    assert page.status_code == 200
    assert 'name="_save"' not in html
    assert 'name="lines-0-quantity"' not in html and 'name="status"' not in html
    assert 'name="lines-MAX_NUM_FORMS" value="0"' in html  # no line can be added
    assert "This order is paid" in html
    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert bulk.status_code == 403
    usd.refresh_from_db()
    assert (usd.status, usd.currency, usd.lines.count()) == ("paid", "USD", 2)


def inline_data(order: Order, **changes) -> dict:
    lines = list(order.lines.all())
    data = {
        "currency": order.currency,
        "status": order.status,
        "discount": order.discount_id or "",
        "taxes": [tax.pk for tax in order.taxes.all()],
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(len(lines)),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, line in enumerate(lines):
        data |= {
            f"lines-{index}-id": str(line.pk),
            f"lines-{index}-order": str(order.pk),
            f"lines-{index}-item": str(line.item_id),
            f"lines-{index}-quantity": str(line.quantity),
            f"lines-{index}-unit_price_0": str(line.unit_price.amount),
            f"lines-{index}-unit_price_1": str(line.unit_price.currency),
        }
    return data | changes


def test_an_open_order_is_editable_and_marking_it_paid_by_hand_dates_it(admin_client, demo):
    eur = Order.objects.get(pk=2)
    change = reverse("admin:storefront_order_change", args=[eur.pk])
    assert 'name="_save"' in admin_client.get(change).content.decode()

    response = admin_client.post(
        change, inline_data(eur, **{"status": "paid", "lines-0-quantity": "2"})
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    eur.refresh_from_db()
    assert eur.status == Order.Status.PAID
    assert eur.paid_at is not None
    assert eur.lines.order_by("pk").first().quantity == 2


def test_the_order_list_filters_by_status_currency_and_date(admin_client, demo):
    changelist = reverse("admin:storefront_order_changelist")

    def ids(query: str) -> set[int]:
        response = admin_client.get(changelist + query)
        assert response.status_code == 200
        return {order.pk for order in response.context["cl"].result_list}

    assert ids("?status__exact=paid") == {1}
    assert ids("?currency__exact=EUR") == {2}
    assert ids("?created__year=2026&created__month=11&created__day=1") == {1, 2}
    assert ids("?created__year=2026&created__month=11&created__day=2") == set()
    assert ids("?q=2") == {2}
    assert ids("?q=demo-eur-order") == {2}  # the share key
    assert ids("?q=not-a-number") == set()


def bulk_orders(count: int) -> None:
    """`count` USD orders of two lines each, with a discount and a tax, most of them paid."""
    notebook = make_item(name="Notebook", price="19.99")
    mug = make_item(name="Mug", price="12.50")
    discount = make_discount(name="Ten", percent_off="10")
    tax = make_tax(display_name="Sales tax", percentage="8.875")
    orders = Order.objects.bulk_create(
        Order(currency="USD", discount=discount, status="paid" if n % 4 else "open")
        for n in range(count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, item=item, quantity=quantity, unit_price=item.price)
        for order in orders
        for item, quantity in ((notebook, 2), (mug, 1))
    )
    Order.taxes.through.objects.bulk_create(
        Order.taxes.through(order=order, tax=tax) for order in orders
    )


@pytest.mark.parametrize("count", [20, 200])
def test_the_order_list_costs_the_same_few_queries_for_20_or_200_orders(
    admin_client, django_assert_max_num_queries, count
):
    bulk_orders(count)
    changelist = reverse("admin:storefront_order_changelist")

    with django_assert_max_num_queries(12):
        response = admin_client.get(changelist + "?all=")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("$51.42") == count  # each order's total, computed from prefetched rows


def test_the_admin_invoice_view(admin_client, client, demo):
    usd, _ = demo
    eur = Order.objects.get(pk=2)

    paid = admin_client.get(reverse("admin:storefront_order_invoice", args=[usd.pk]))
    pro_forma = admin_client.get(reverse("admin:storefront_order_invoice", args=[eur.pk]))
    missing = admin_client.get(reverse("admin:storefront_order_invoice", args=[999]))
    anonymous = client.get(reverse("admin:storefront_order_invoice", args=[usd.pk]))

    assert paid["Content-Type"] == "application/pdf"
    text = pdf_text(paid.content)
    assert f"Order number: {usd.pk}" in text and "$51.42" in text and "Invoice" in text
    assert "Pro-forma invoice" in pdf_text(pro_forma.content)
    assert missing.status_code == 404
    assert anonymous.status_code == 302


# --- Payment records ---------------------------------------------------------------------


def test_payments_and_webhook_events_are_read_only_and_searchable(admin_client, demo):
    _, payment = demo
    ReceivedNotification.objects.create(
        rail="stripe", account="pk_test_sandbox_usd", event_id="evt_findme",
        type="checkout.session.completed",
        signature_valid=True, status=ReceivedNotification.Status.PROCESSED,
        payload=f'{{"data": {{"object": {{"id": "{payment.provider_ref}"}}}}}}',
    )  # fmt: skip
    payments = reverse("admin:payments_payment_changelist")
    events = reverse("admin:payments_receivednotification_changelist")

    def found(url: str, query: str) -> int:
        return admin_client.get(url, {"q": query}).context["cl"].result_count

    assert found(payments, payment.provider_ref) == 1
    assert found(payments, payment.provider_payment_ref) == 1
    assert found(payments, "cs_test_nothing") == 0
    assert found(events, "evt_findme") == 1
    assert found(events, payment.provider_ref) == 1
    change = reverse("admin:payments_payment_change", args=[payment.pk])
    assert admin_client.post(change, {"status": "failed"}).status_code == 403
    assert admin_client.get(reverse("admin:payments_payment_add")).status_code == 403


def test_money_is_shown_in_the_payment_list(admin_client, demo):
    html = admin_client.get(reverse("admin:payments_payment_changelist")).content.decode()

    assert "$51.42" in html


def test_the_demo_data_has_what_a_merchant_tries_first():
    call_command("load_demo")

    for currency in ("USD", "EUR"):
        items = Item.objects.filter(price_currency=currency)
        assert items.count() >= 3
        said = {"USD": "paid in US dollars", "EUR": "paid in euros"}[currency]
        assert all(said in item.description for item in items)
    assert Discount.objects.filter(active=True).exists()
    assert Tax.objects.filter(inclusive=True).exists()
    assert Tax.objects.filter(inclusive=False).exists()
    assert not get_user_model().objects.exists()  # the admin login is made by `make run` only


def test_a_form_opened_before_the_buyer_paid_cannot_unpay_the_order(admin_client, pay_order):
    order = make_order((make_item(price="19.99"), 1))
    change = reverse("admin:storefront_order_change", args=[order.pk])
    stale = inline_data(order)  # the merchant opens the form...
    assert 'name="_save"' in admin_client.get(change).content.decode()
    pay_order(order)  # ...the buyer pays...

    response = admin_client.post(change, stale | {"lines-0-quantity": "3"})  # ...then Save.

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.lines.get().quantity == 1


def test_a_tax_or_discount_a_paid_order_used_keeps_its_rate(admin_client, demo):
    usd, _ = demo  # paid with "Welcome 10% off" and the 8.875 % sales tax
    tax, discount = usd.taxes.get(), usd.discount
    unused = make_tax(display_name="Unused", percentage="5")
    tax_page = reverse("admin:storefront_tax_change", args=[tax.pk])

    html = admin_client.get(tax_page).content.decode()
    response = admin_client.post(
        tax_page,
        {"display_name": "City sales tax", "percentage": "20", "jurisdiction": "US-NY",
         "description": "", "currency": "USD", "applies_to_new_orders": "on"},
    )  # fmt: skip
    discount_html = admin_client.get(
        reverse("admin:storefront_discount_change", args=[discount.pk])
    ).content.decode()
    unused_html = admin_client.get(
        reverse("admin:storefront_tax_change", args=[unused.pk])
    ).content.decode()

    assert 'name="percentage"' not in html and 'name="inclusive"' not in html
    assert response.status_code == 302
    tax.refresh_from_db()
    assert (tax.display_name, tax.percentage) == ("City sales tax", Decimal("8.875"))
    assert 'name="percent_off"' not in discount_html and 'name="name"' in discount_html
    assert 'name="percentage"' in unused_html
    usd_page = admin_client.get(reverse("admin:storefront_order_change", args=[usd.pk]))
    assert "$51.42" in usd_page.content.decode()


def test_an_order_line_must_be_in_the_orders_currency(admin_client, demo):
    eur = Order.objects.get(pk=2)  # open
    usd_item = Item.objects.filter(price_currency="USD").first()
    change = reverse("admin:storefront_order_change", args=[eur.pk])

    wrong_item = admin_client.post(change, inline_data(eur, **{"lines-0-item": str(usd_item.pk)}))
    wrong_price = admin_client.post(change, inline_data(eur, **{"lines-0-unit_price_1": "USD"}))
    jpy_cents = admin_client.post(change, inline_data(eur, currency="JPY"))

    assert wrong_item.status_code == 200
    assert "is priced in USD; this order is in EUR." in wrong_item.content.decode()
    assert "This order is in EUR." in wrong_price.content.decode()
    assert jpy_cents.status_code == 200
    eur.refresh_from_db()
    assert eur.currency == "EUR"
    assert set(eur.lines.values_list("unit_price_currency", flat=True)) == {"EUR"}


def _change_page_queries(admin_client, order) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:storefront_order_change", args=[order.pk])
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


@pytest.mark.parametrize("paid", [False, True], ids=["open", "paid"])
def test_an_orders_page_costs_the_same_queries_for_one_line_or_fifty(admin_client, paid):
    items = [make_item(name=f"Line item {n:02}", price="2.00") for n in range(50)]
    tax = make_tax(percentage="8")
    small = make_order((items[0], 1), taxes=(tax,))
    large = make_order(*[(item, 2) for item in items], taxes=(tax,))
    if paid:
        Order.objects.update(status=Order.Status.PAID)
    _change_page_queries(admin_client, small)  # the first page loads Django's own caches

    one, one_page = _change_page_queries(admin_client, small)
    fifty, fifty_page = _change_page_queries(admin_client, large)

    assert one == fifty
    # Every line still names its item (the picker's chosen option, or the read-only name).
    assert "Line item 00" in one_page
    assert all(f"Line item {n:02}" in fifty_page for n in range(50))
    if not paid:
        # Each line's currency selected among the shop's currencies, not all of Stripe's.
        assert fifty_page.count('<option value="USD" selected>USD</option>') >= 50
        # Nor the order's own currency menu: the shop does not sell in JPY.
        assert fifty_page.count('<option value="JPY"') == 0
