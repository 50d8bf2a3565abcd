"""A NUL character anywhere in a request's address is a 400, never a 500, on every page."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/payments/payment/?status__exact=%00",
        "/admin/storefront/order/?q=a%00b",
        "/admin/storefront/order/1%00/change/",
        "/item/1%00",
        "/buy/1%00",
        "/payment/stripe/return/?session_id=cs_test_%00&currency=usd",
        "/sandbox/checkout/cs_test_%00/",
        "/?key=%00",
    ],
)
def test_a_nul_in_the_address_is_a_400_in_words(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_an_ordinary_address_passes(admin_client):
    assert admin_client.get("/admin/payments/payment/?status__exact=pending").status_code == 200
