"""On a 375 px phone every page of a purchase fits the screen: no sideways scrolling, and the
order's "Remove" and the pay buttons stay in view. Screenshots go to test-artifacts/phone-*."""

import pytest
from playwright.sync_api import expect

from payments.stripe.tests.shop.checkout_pages import CARD_PAYS, CHECKOUT_URL, pay
from storefront.tests.browser import screenshot
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def fits(page) -> None:
    """Nothing is wider than the screen: the page cannot scroll sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"


def test_a_purchase_fits_a_phone_screen(page):
    page.set_viewport_size(PHONE)
    item = make_item(
        name="Waxed canvas weekender bag with leather handles",
        price="189.00",
        currency="EUR",
        description="Roomy enough for three days.",
    )
    mug = make_item(name="Enamel camp mug", price="12.50", currency="EUR")
    order = make_order(
        (item, 2),
        (mug, 12),
        discount=make_discount(name="Welcome 10% off", percent_off="10"),
        taxes=(make_tax(display_name="VAT", percentage="19", inclusive=True),),
    )

    page.goto("/")
    fits(page)
    screenshot(page, "phone-1-catalogue")

    page.goto(item.get_absolute_url())
    fits(page)
    screenshot(page, "phone-2-item")

    page.goto(f"{order.get_absolute_url()}?key={order.access_key}")
    screenshot(page, "phone-3-order")
    expect(page.get_by_role("button", name="Remove").first).to_be_in_viewport()
    fits(page)
    screenshot(page, "phone-3-order")

    page.goto(f"/order/{order.pk}/pay/")
    expect(page.locator("#submit-payment")).to_be_enabled()
    fits(page)
    screenshot(page, "phone-4-pay-here")

    page.goto(f"{order.get_absolute_url()}")
    page.locator("#buy-button").click()
    page.wait_for_url(CHECKOUT_URL)
    fits(page)
    screenshot(page, "phone-5-sandbox-checkout")

    pay(page, CARD_PAYS)
    expect(page.locator("h1")).to_have_text("Thank you, your payment went through")
    fits(page)
    screenshot(page, "phone-6-paid")
