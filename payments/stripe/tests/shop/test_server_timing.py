"""SERVER_TIMING=1: each response says how long the request took and how much of it Stripe."""

import re

import pytest
from django.test import Client

from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

TIMING = re.compile(r"app;dur=(?P<app>\d+\.\d\d), provider;dur=(?P<provider>\d+\.\d\d)")


def test_buy_says_its_time_and_the_part_spent_asking_stripe(settings):
    settings.SERVER_TIMING = True
    item = make_item(price="19.99", currency="USD")

    response = Client().get(f"/buy/{item.pk}/")  # a new client: middleware read with the setting

    assert response.status_code == 200
    timing = TIMING.fullmatch(response["Server-Timing"])
    assert timing, response["Server-Timing"]
    assert 0 < float(timing["provider"]) <= float(timing["app"])


def test_a_page_without_stripe_calls_says_zero_for_the_provider(settings):
    settings.SERVER_TIMING = True
    item = make_item(price="19.99", currency="USD")

    response = Client().get(f"/item/{item.pk}/")

    assert TIMING.fullmatch(response["Server-Timing"])["provider"] == "0.00"


def test_off_by_default_no_header(client):
    item = make_item(price="19.99", currency="USD")

    assert "Server-Timing" not in client.get(f"/buy/{item.pk}/")
