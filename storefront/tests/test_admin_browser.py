"""The merchant's order page in a real browser, saved as screenshots for a person to look at."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from storefront.models import Order
from storefront.tests.backoffice_tools import pdf_text
from storefront.tests.browser import screenshot

pytestmark = pytest.mark.browser


def log_in(page, next_url: str) -> None:
    get_user_model().objects.create_superuser("merchant", "", "a long local passphrase")
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Username").fill("merchant")
    page.get_by_label("Password").fill("a long local passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


def test_the_merchant_sees_a_paid_order_with_totals_payment_links_and_invoice(page, pay_order):
    call_command("load_demo")
    order = Order.objects.get(pk=1)
    payment = pay_order(order)

    page.set_viewport_size({"width": 1280, "height": 800})  # a merchant's screen, not a phone
    log_in(page, "/admin/storefront/order/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("$51.42")
    expect(page.locator("#result_list")).to_contain_text("€57.00")
    screenshot(page, "admin-1-orders")

    page.get_by_role("link", name=f"#{order.pk}", exact=True).click()
    expect(page.locator("#paid-note")).to_contain_text("This order is paid")
    expect(page.locator("#order-totals")).to_contain_text("−$5.25")
    expect(page.locator("#order-totals")).to_contain_text("$51.42")
    payments = page.locator("#order-payments")
    expect(payments).to_contain_text("Succeeded")
    record = f"Sandbox record of {payment.provider_payment_ref}"
    expect(payments.get_by_role("link", name=record)).to_be_visible()
    expect(page.locator("input[name=_save]")).to_have_count(0)
    screenshot(page, "admin-2-paid-order")

    invoice = page.locator("#invoice-link")
    expect(invoice).to_have_text("Invoice (PDF)")
    response = page.request.get(invoice.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    assert "$51.42" in pdf_text(response.body())

    payments.get_by_role("link", name=f"Sandbox record of {payment.provider_ref}").click()
    expect(page.locator("#content")).to_contain_text('"payment_status": "paid"')
    screenshot(page, "admin-3-sandbox-record")


def test_the_merchant_refunds_part_then_the_rest_of_an_order(page, pay_order):
    call_command("load_demo")
    order = Order.objects.get(pk=1)
    pay_order(order)

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, f"/admin/storefront/order/{order.pk}/change/")
    expect(page.locator("#order-state")).to_have_text("Paid")
    page.locator("#refund-link").click()
    expect(page.get_by_label("Amount")).to_have_value("51.42")  # what remains, by default
    page.get_by_label("Amount").fill("10.00")
    page.get_by_label("Reason").select_option(label="Requested by the customer")
    page.get_by_label("Note").fill("Mug arrived chipped")
    screenshot(page, "admin-4-refund-form")
    page.locator("#refund-submit").click()

    expect(page.locator(".messagelist")).to_contain_text(f"Refunded $10.00 of Order #{order.pk}.")
    expect(page.locator("#order-state")).to_have_text("Partly refunded ($10.00 of $51.42)")
    refunds = page.locator("#order-refunds")
    expect(refunds).to_contain_text("Succeeded")
    expect(refunds).to_contain_text("merchant")
    expect(refunds.get_by_role("link", name="Credit note (PDF)")).to_have_count(1)
    screenshot(page, "admin-5-partly-refunded")

    page.locator("#refund-link").click()
    expect(page.get_by_label("Amount")).to_have_value("41.42")
    page.get_by_label("Amount").fill("41.43")
    page.locator("#refund-submit").click()
    expect(page.locator(".errorlist")).to_contain_text("At most $41.42 is left to refund")
    page.get_by_label("Amount").fill("41.42")
    page.locator("#refund-submit").click()

    expect(page.locator("#order-state")).to_have_text("Refunded ($51.42)")
    expect(page.locator("#order-refunds tbody tr")).to_have_count(2)
    credit_note = page.locator("#order-refunds").get_by_role("link", name="Credit note (PDF)")
    response = page.request.get(credit_note.first.get_attribute("href"))
    assert "Credit note" in pdf_text(response.body())
    # Nothing is left: no Refund button, the page says why, and the form's address says so too.
    expect(page.locator("#refund-link")).to_have_count(0)
    expect(page.locator("#refund-unavailable")).to_contain_text("$51.42 refunded or being refunded")
    page.goto(f"/admin/storefront/order/{order.pk}/refund/")
    expect(page.locator("#nothing-to-refund")).to_be_visible()
