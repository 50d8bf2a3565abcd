"""In a real browser: the Payment Element on our page, and a webhook paying an order by itself."""

import time

import pytest
from playwright.sync_api import expect

from payments.models import Payment, ReceivedNotification
from payments.stripe.tests.shop.checkout_pages import CARD_PAYS, CHECKOUT_URL, pay
from storefront.models import Order
from storefront.tests.browser import screenshot
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.browser


def wait_for(predicate, *, seconds: float = 15.0):
    """Poll the database for something another thread (the webhook's) makes true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def eur_order():
    return make_order(
        (make_item(name="Linen tote", price="24.00", currency="EUR"), 2),
        discount=make_discount(percent_off="10"),
        taxes=(make_tax(display_name="VAT", percentage="19", inclusive=True),),
    )


def open_pay_page(page, order):
    page.goto(f"{order.get_absolute_url()}?key={order.access_key}")
    page.locator("#pay-here-link").click()
    page.wait_for_url(f"**/order/{order.pk}/pay/")
    expect(page.locator("#submit-payment")).to_be_enabled()


def fill_card(page, number):
    element = page.locator("#payment-element")
    element.locator("input[name=number]").fill(number)
    element.locator("input[name=expiry]").fill("12 / 34")
    element.locator("input[name=cvc]").fill("123")
    page.locator("#submit-payment").click()


def test_an_eur_order_is_paid_with_the_payment_element(page, eur_order):
    open_pay_page(page, eur_order)
    expect(page.locator("#submit-payment")).to_have_text("Pay €43.20")
    screenshot(page, "element-1-pay-page")

    fill_card(page, CARD_PAYS)

    page.wait_for_url("**/payment/stripe/return/**")
    expect(page.locator("h1")).to_have_text("Thank you, your payment went through")
    expect(page.locator("p.notice")).to_contain_text("€43.20")
    screenshot(page, "element-2-paid")
    eur_order.refresh_from_db()
    assert eur_order.status == Order.Status.PAID
    payment = Payment.objects.get(provider_ref__startswith="pi_")
    assert (payment.amount_received, payment.currency, payment.status) == (4320, "EUR", "succeeded")


def test_a_declined_card_is_shown_and_the_order_stays_unpaid(page, eur_order):
    open_pay_page(page, eur_order)

    fill_card(page, "4000 0000 0000 0002")

    expect(page.locator("#payment-error")).to_have_text("Your card was declined.")
    expect(page.locator("#submit-payment")).to_be_enabled()
    screenshot(page, "element-3-declined")
    assert page.url.endswith(f"/order/{eur_order.pk}/pay/")
    eur_order.refresh_from_db()
    assert eur_order.is_open
    assert not Payment.objects.filter(status="succeeded").exists()


def test_a_card_that_asks_for_confirmation_pays_after_it(page, eur_order):
    open_pay_page(page, eur_order)

    fill_card(page, "4000 0027 6000 3184")
    page.wait_for_url("**/authenticate/")
    screenshot(page, "element-4-authenticate")
    page.locator("#complete-authentication").click()

    page.wait_for_url("**/payment/stripe/return/**")
    expect(page.locator("h1")).to_have_text("Thank you, your payment went through")
    eur_order.refresh_from_db()
    assert eur_order.status == Order.Status.PAID


def test_the_webhook_pays_the_order_without_the_success_page(page):
    item = make_item(name="Notebook", price="19.99", currency="USD")
    # The buyer closes the tab after paying: the success page is never loaded.
    page.route("**/payment/stripe/return/**", lambda route: route.fulfill(status=204, body=""))

    page.goto(f"/item/{item.pk}")
    page.locator("#buy-button").click()
    page.wait_for_url(CHECKOUT_URL)
    pay(page, CARD_PAYS)

    assert wait_for(lambda: Order.objects.filter(status=Order.Status.PAID).exists())
    record = ReceivedNotification.objects.get(type="checkout.session.completed")
    assert (record.account, record.signature_valid, record.status) == (
        "pk_test_sandbox_usd",
        True,
        "processed",
    )
    payment = Payment.objects.get()
    assert payment.fulfilled_at is not None and payment.status == "succeeded"
