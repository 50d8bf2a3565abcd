"""`manage.py load_demo` gives a shop whose demo orders a newcomer can open and pay."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from storefront.models import Order
from storefront.shop.orders import orders_expire

pytestmark = pytest.mark.django_db


def test_the_demo_orders_survive_the_first_expiry_run(client):
    call_command("load_demo")
    open_orders = set(Order.objects.filter(status=Order.Status.OPEN).values_list("pk", flat=True))
    assert open_orders, "the demo has open orders to share"

    assert orders_expire(untouched_for=timedelta(days=2)) == 0

    assert (
        set(Order.objects.filter(status=Order.Status.OPEN).values_list("pk", flat=True))
        == open_orders
    )
    response = client.get("/order/1/", {"key": "demo-usd-order"})
    assert response.status_code == 200
    assert b"Pay" in response.content


def test_loading_the_demo_twice_changes_nothing():
    call_command("load_demo")
    before = list(Order.objects.order_by("pk").values_list("pk", "status"))
    call_command("load_demo")
    assert list(Order.objects.order_by("pk").values_list("pk", "status")) == before
