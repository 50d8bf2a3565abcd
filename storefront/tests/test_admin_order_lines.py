"""An order's lines on its admin page: editable while the order is open, shown as text (no form
per line) once it is paid or cancelled, and never changed by saving such an order's page."""

import re

import pytest
from django.urls import reverse

from storefront.models import Order
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db

LINE_INPUT = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="lines-\d')


def _order(status: str) -> Order:
    notebook = make_item(name="Field notebook", price="19.99")
    mug = make_item(name="Camp mug", price="12.50")
    order = make_order((notebook, 2), (mug, 3))
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


def _page(admin_client, order: Order) -> str:
    response = admin_client.get(reverse("admin:storefront_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _post(order: Order, **changes) -> dict:
    """The page's form as a browser of the editable page would post it, lines included."""
    lines = list(order.lines.order_by("pk"))
    data = {
        "currency": order.currency,
        "status": order.status,
        "discount": "",
        "email": order.email,
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


def _quantities(order: Order) -> list[int]:
    return list(order.lines.order_by("pk").values_list("quantity", flat=True))


@pytest.mark.parametrize("status", [Order.Status.PAID, Order.Status.CANCELLED])
def test_an_order_no_longer_open_shows_every_line_as_text(admin_client, status):
    order = _order(status)

    html = _page(admin_client, order)

    table = re.search(r'<table class="order-lines" id="order-lines">.*?</table>', html, re.S)
    rows = re.findall(r"<tr><td>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td>"
                      r"<td[^>]*>(.*?)</td></tr>", table.group(0))  # fmt: skip
    assert rows == [
        ("Field notebook", "2", "$19.99", "$39.98"),
        ("Camp mug", "3", "$12.50", "$37.50"),
    ]
    assert LINE_INPUT.findall(html) == []
    assert 'name="lines-MAX_NUM_FORMS" value="0"' in html  # no line can be added


def test_saving_a_paid_orders_page_changes_no_line(admin_client):
    order = _order(Order.Status.PAID)
    change = reverse("admin:storefront_order_change", args=[order.pk])

    response = admin_client.post(change, _post(order, **{"lines-0-quantity": "9"}))

    assert response.status_code == 403
    assert _quantities(order) == [2, 3]


def test_saving_a_cancelled_orders_page_changes_its_details_but_no_line(admin_client):
    order = _order(Order.Status.CANCELLED)
    change = reverse("admin:storefront_order_change", args=[order.pk])
    line = order.lines.order_by("pk").first()
    forged = {"lines-0-quantity": "9", "lines-0-DELETE": "on", "lines-1-DELETE": "on"}
    added = {"lines-TOTAL_FORMS": "3", "lines-2-item": str(line.item_id),
             "lines-2-quantity": "1", "lines-2-unit_price_0": "1.00",
             "lines-2-unit_price_1": "USD"}  # fmt: skip

    response = admin_client.post(change, _post(order, email="buyer@example.com", **forged, **added))

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.email == "buyer@example.com"
    assert _quantities(order) == [2, 3]


def test_an_open_order_keeps_its_editable_lines_and_a_reopened_one_gets_them_back(admin_client):
    order = _order(Order.Status.CANCELLED)
    change = reverse("admin:storefront_order_change", args=[order.pk])
    reopened = admin_client.post(change, _post(order, status="open"))
    assert reopened.status_code == 302
    order.refresh_from_db()

    html = _page(admin_client, order)
    edited = admin_client.post(change, _post(order, **{"lines-0-quantity": "5"}))

    assert 'name="lines-0-quantity"' in html and 'id="order-lines"' not in html
    assert edited.status_code == 302
    assert _quantities(order) == [5, 3]
