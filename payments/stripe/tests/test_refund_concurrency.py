"""Two clerks refunding one payment at the same moment can never together give back more than
it took: real threads against PostgreSQL (see payments.tests.concurrency)."""

from collections import Counter
from dataclasses import dataclass

import pytest

from payments.errors import PaymentError
from payments.models import Refund
from payments.refunds import refund_request, refunded
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.tests.concurrency import POSTGRES_ONLY, run_at_once
from storefront.tests.factories import make_item, make_order

pytestmark = POSTGRES_ONLY


@pytest.fixture(autouse=True)
def no_delivery(settings):
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"


@dataclass
class Outcome:
    """A refund_request's outcome, as run_at_once counts them: 200, or the PaymentError's."""

    status_code: int


def refund_in_thread(payment, amount):
    def call(client):
        try:
            refund_request(payment=payment, amount=amount)
        except PaymentError as exc:
            return Outcome(exc.status)
        return Outcome(200)

    return call


def test_two_refunds_that_together_exceed_the_payment_one_is_refused(pay_order):
    payment = pay_order(make_order((make_item(price="20.00", currency="USD"), 1)))

    statuses = run_at_once([refund_in_thread(payment, 1200)] * 2)

    assert Counter(statuses) == {200: 1, 422: 1}
    refund = Refund.objects.get()
    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, 1200)
    assert refunded(payment) == 1200
    # Only one request reached Stripe; its charge agrees.
    assert SandboxRequest.objects.filter(path="/v1/refunds").count() == 1
    charge = SandboxObject.objects.get(object="charge")
    assert charge.data["amount_refunded"] == 1200


def test_many_small_refunds_at_once_stop_at_what_was_paid(pay_order):
    payment = pay_order(make_order((make_item(price="20.00", currency="USD"), 1)))

    statuses = run_at_once([refund_in_thread(payment, 300)] * 10)

    assert Counter(statuses) == {200: 6, 422: 4}
    assert refunded(payment) == 1800
    charge = SandboxObject.objects.get(object="charge")
    assert charge.data["amount_refunded"] == 1800
