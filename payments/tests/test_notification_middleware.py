"""A provider's notification is answered ahead of the browsers' middleware
(payments.middleware): its answer carries the same security headers as a page, and the Host
header is still checked."""

import json

import pytest
from django.test import Client

from payments.models import ReceivedNotification
from payments.stripe.accounts import account_for
from payments.stripe.tests.webhook_tools import event_for, paid_session, post_event, sign
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

SAME_AS_A_PAGE = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


@pytest.fixture
def paid_event():
    return event_for(paid_session(Client(), make_item(price="19.99", currency="USD")))


@pytest.mark.parametrize("delivery", ["first", "duplicate", "rejected"])
def test_a_notifications_answer_has_the_security_headers_of_a_page(client, paid_event, delivery):
    page = client.get("/")
    if delivery != "first":
        post_event(client, paid_event)
    secret = "whsec_not_the_accounts" if delivery == "rejected" else None

    answer = post_event(client, paid_event, secret=secret)

    assert answer.status_code == (400 if delivery == "rejected" else 200)
    assert {name: answer.get(name) for name in SAME_AS_A_PAGE} == {
        name: page[name] for name in SAME_AS_A_PAGE
    }
    assert answer["Content-Length"] == str(len(answer.content))
    assert answer["Content-Type"] == "application/json"


def test_a_notification_to_a_host_the_site_does_not_serve_is_a_400_and_records_nothing(
    client, paid_event
):
    body = json.dumps(paid_event)
    answer = client.post(
        "/payments/webhooks/stripe/usd/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, account_for("usd").webhook_secret),
        HTTP_HOST="evil.example",
    )

    assert answer.status_code == 400
    assert not ReceivedNotification.objects.exists()


def test_a_get_of_a_notification_endpoint_is_still_a_405(client):
    assert client.get("/payments/webhooks/stripe/usd/").status_code == 405
