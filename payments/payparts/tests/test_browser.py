"""Paying in parts in a real browser: the item page's option, the sandbox bank's page, approve
or decline, and the way back. Screenshots go to test-artifacts/payparts-*."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from currencies.formatting import format_money
from payments.models import Payment
from payments.payparts.sandbox.models import InstalmentPlan
from storefront.models import Order
from storefront.tests.browser import screenshot

from .payparts_tools import uah_item

pytestmark = pytest.mark.browser

BANK_PAGE = re.compile(r"/sandbox/payparts/payment\?token=\w+$")
RETURN_PAGE = re.compile(r"/payment/payparts/return/\?orderId=")
PHONE = {"width": 375, "height": 740}


def choose_parts_and_reach_the_bank(page, item, parts: str) -> None:
    page.goto(f"/item/{item.pk}")
    expect(page.locator("#payparts-heading")).to_have_text("Pay in parts (PrivatBank)")
    page.locator("#payparts-parts").select_option(parts)
    page.locator("#payparts-button").click()
    page.wait_for_url(BANK_PAGE)
    expect(page.locator("#payparts-parts")).to_contain_text(f"{parts} parts")


def test_the_buyer_approves_the_instalments_and_the_order_is_paid(page):
    item = uah_item("3600.00", name="Carpathian wool blanket")
    page.goto(f"/item/{item.pk}")
    expect(page.locator("#payparts-parts option")).to_have_count(5)
    expect(page.locator("#payparts-parts option").nth(1)).to_contain_text("3 parts of")
    expect(page.locator("#payparts-parts option").nth(1)).to_contain_text(
        format_money(Decimal("1200.00"), "UAH")
    )
    screenshot(page, "payparts-1-item-page")

    choose_parts_and_reach_the_bank(page, item, "3")
    expect(page.locator("#payparts-amount")).to_have_text(format_money(Decimal("3600.00"), "UAH"))
    screenshot(page, "payparts-2-sandbox-bank")
    page.locator("#payparts-approve").click()

    page.wait_for_url(RETURN_PAGE)
    expect(page.locator("h1")).to_have_text("Thank you, your payment went through")
    screenshot(page, "payparts-3-paid")
    assert Order.objects.get().status == Order.Status.PAID
    assert InstalmentPlan.objects.get().payment_state == "SUCCESS"
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_the_bank_declines_the_order_stays_open_and_the_buyer_tries_again(page):
    item = uah_item("1450.00", name="Kosiv ceramic tea set")
    choose_parts_and_reach_the_bank(page, item, "2")
    page.locator("#payparts-decline").click()

    page.wait_for_url(RETURN_PAGE)
    expect(page.locator("h1")).to_have_text("Your payment did not go through")
    expect(page.locator("p.error")).to_contain_text("The bank declined the instalment plan.")
    screenshot(page, "payparts-4-declined")
    assert Order.objects.get().status == Order.Status.OPEN

    # Trying again goes back to the order, where every way of paying it is offered again.
    page.locator("#try-again").click()
    expect(page.locator("#payparts-form")).to_be_visible()
    page.locator("#payparts-parts").select_option("3")
    page.locator("#payparts-button").click()
    page.wait_for_url(BANK_PAGE)
    page.locator("#payparts-approve").click()
    page.wait_for_url(RETURN_PAGE)
    expect(page.locator("h1")).to_have_text("Thank you, your payment went through")
    assert Order.objects.get().status == Order.Status.PAID
    assert list(Payment.objects.order_by("created").values_list("status", flat=True)) == [
        Payment.Status.FAILED,
        Payment.Status.SUCCEEDED,
    ]


def test_a_refusal_is_said_beside_the_button(page):
    from payments.payparts.sandbox.transport import sandbox_refusal

    item = uah_item("900.00")
    page.goto(f"/item/{item.pk}")
    with sandbox_refusal("The store is not active"):
        page.locator("#payparts-button").click()
        expect(page.locator("#payparts-error")).to_have_text(
            "PrivatBank refused the payment: The store is not active."
        )
    expect(page.locator("#payparts-button")).to_be_enabled()
    assert not Payment.objects.exists()


def test_on_a_phone_the_option_and_the_bank_page_fit(page):
    page.set_viewport_size(PHONE)
    item = uah_item("3600.00", name="Carpathian wool blanket, hand-woven, 140 × 200 cm")
    page.goto(f"/item/{item.pk}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "payparts-5-phone-item")
    choose_parts_and_reach_the_bank(page, item, "6")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "payparts-6-phone-bank")
