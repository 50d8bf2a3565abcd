"""GET /api/orders/<id>/: an order's payment state, for an integrator's token or whoever may see
the order in the shop; to anyone else it does not exist."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db


def token_of(username: str, *codenames: str) -> str:
    user = get_user_model().objects.create_user(username, password="x")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return Token.objects.create(user=user).key


@pytest.fixture
def order():
    return make_order((make_item(price="12.50", currency="USD"), 2))


def test_a_token_that_may_view_orders_reads_the_state_and_its_payments(client, order):
    key = token_of("erp", "view_order")
    session = client.session
    session["order_ids"] = [order.pk]
    session.save()
    assert client.get(f"/buy/order/{order.pk}/").status_code == 200  # a Checkout started

    response = client.get(f"/api/orders/{order.pk}/", HTTP_AUTHORIZATION=f"Bearer {key}")

    body = response.json()
    assert response.status_code == 200
    assert (body["id"], body["status"], body["currency"], body["total"]) == (
        order.pk,
        "open",
        "USD",
        2500,
    )
    assert body["paid_at"] is None
    assert [(p["rail"], p["status"], p["amount_expected"]) for p in body["payments"]] == [
        ("stripe", "pending", 2500)
    ]


def test_a_token_without_the_permission_is_403(client, order):
    key = token_of("intern", "view_item")

    response = client.get(f"/api/orders/{order.pk}/", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 403
    assert "status" not in response.json()


def test_a_wrong_token_is_401(client, order):
    response = client.get(f"/api/orders/{order.pk}/", HTTP_AUTHORIZATION="Bearer nope")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_stranger_gets_404_and_the_share_key_opens_it(client, order):
    assert client.get(f"/api/orders/{order.pk}/").status_code == 404
    assert client.get("/api/orders/x/").status_code == 404

    shared = client.get(f"/api/orders/{order.pk}/", {"key": order.access_key})

    assert shared.status_code == 200
    assert shared.json()["payments"] == []


def test_bank_api_token_reads_balances_not_orders(client, order, settings):
    settings.BANK_API_TOKEN = "site-wide-token"

    response = client.get(f"/api/orders/{order.pk}/", HTTP_AUTHORIZATION="Bearer site-wide-token")

    assert response.status_code == 403
