"""A buyer fills an order in a real browser, pays it in one checkout, and sees it paid."""

import re

import pytest
from playwright.sync_api import expect

from payments.stripe.sandbox.tests.sandbox_tools import sandbox_account, session_object
from payments.stripe.tests.shop.checkout_pages import CARD_PAYS, CHECKOUT_URL, SUCCESS_URL, pay
from storefront.models import Order
from storefront.tests.browser import screenshot
from storefront.tests.factories import make_discount, make_item, make_tax

pytestmark = pytest.mark.browser


def add_from_catalogue(page, name: str, quantity: int) -> None:
    page.goto("/")
    card = page.locator("li.card", has_text=name)
    card.locator("input[name=quantity]").fill(str(quantity))
    card.get_by_role("button", name="Add to order").click()
    page.wait_for_url("**/order/")
    expect(page.locator(".messages")).to_contain_text(f"Added {quantity} × {name}")


def test_cart_of_two_items_with_code_and_tax_is_paid_in_one_checkout(page):
    make_item(name="Notebook", price="19.99", currency="USD")
    make_item(name="Mug", price="12.50", currency="USD")
    make_item(name="Tote bag", price="24.00", currency="EUR")
    make_tax(display_name="Sales tax", percentage="8", currency="USD", applies_to_new_orders=True)
    make_discount(name="Welcome", code="WELCOME10", percent_off="10")

    add_from_catalogue(page, "Notebook", 2)
    add_from_catalogue(page, "Mug", 1)
    # An EUR item does not go into a USD order, and the order stays as it was.
    page.goto("/")
    page.locator("li.card", has_text="Tote bag").get_by_role("button", name="Add to order").click()
    expect(page.locator(".messages")).to_contain_text("priced in EUR, but your order is in USD")
    page.goto("/order/")
    page.get_by_label("Discount code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messages")).to_contain_text("Welcome applied.")

    # 39.98 + 12.50 = 52.48; 10 % per line 4.00 + 1.25; 8 % on 35.98 and 11.25: 2.88 + 0.90.
    expect(page.locator("#order-lines tbody tr")).to_have_count(2)
    expect(page.locator("#amount-subtotal")).to_have_text("$52.48")
    expect(page.locator("#amount-discount")).to_have_text("−$5.25")
    expect(page.locator("#amount-total")).to_have_text("$51.01")
    screenshot(page, "order-1-cart")

    page.locator("#buy-button").click()
    page.wait_for_url(CHECKOUT_URL)
    expect(page.locator("#amount-total")).to_have_text("$51.01")
    expect(page.locator("#amount-discount")).to_contain_text("−$5.25")
    screenshot(page, "order-2-sandbox-checkout")
    session_id = CHECKOUT_URL.search(page.url).group(1)

    pay(page, CARD_PAYS)
    page.wait_for_url(SUCCESS_URL)
    expect(page.locator("p.notice")).to_contain_text("We received $51.01 for order #")
    page.locator("p.notice").get_by_role("link", name=re.compile(r"^order #\d+$")).click()
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#buy-button")).to_have_count(0)
    screenshot(page, "order-3-paid")

    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    session = session_object(session_id)
    assert session.account == sandbox_account("USD")
    assert (session.data["amount_total"], session.data["payment_status"]) == (5101, "paid")
    assert len(session.private["line_items"]) == 2
