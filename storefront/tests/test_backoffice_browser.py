"""What a merchant sees in the back office, in a real browser at a 1,280 px screen (and a
phone's 375 px where it matters): lists that show what they look for without scrolling
sideways, a Refund button only where a refund can be made (and why not where it cannot), a
refund's note, and currency menus of the shop's own currencies. Screenshots are saved for a
person to look at (test-artifacts/)."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from payments.refunds import refund_request
from storefront.models import Order, OrderMail
from storefront.tests.backoffice_tools import (
    order_paid_by_bank_transfer,
    order_paid_then_dispute_lost,
)
from storefront.tests.browser import screenshot
from storefront.tests.factories import make_item, make_order
from storefront.tests.test_admin_browser import log_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# The widest a page may be (its own scroll width), and the widest any box in it scrolls.
MEASURE = """() => ({
    page: document.documentElement.scrollWidth,
    boxes: [...document.querySelectorAll('#changelist .results, #content-main')]
        .filter((box) => box.scrollWidth > box.clientWidth)
        .map((box) => `${box.id || box.className}: ${box.scrollWidth} > ${box.clientWidth}`),
})"""


@pytest.fixture
def shop(pay_order, settings):
    """The demo catalogue and a month's worth of what happens to it: the USD order paid and
    partly refunded with a note, a RUB order paid by bank transfer, a USD order whose dispute
    was lost. Returns those three orders."""
    settings.PAYMENT_RAILS = [
        "payments.stripe.rail.StripeRail",
        "payments.bank_transfer.rail.BankTransferRail",
    ]
    call_command("load_demo")
    usd = Order.objects.get(pk=1)
    refund_request(
        payment=pay_order(usd),
        amount=1000,
        reason="requested_by_customer",
        note="Mug arrived chipped; the buyer sent a photo",
    )
    rub = make_order((make_item(name="Birch Bark Tea Caddy", price="2500.00", currency="RUB"), 1))
    order_paid_by_bank_transfer(rub)
    disputed = make_order((make_item(name="Field Notes", price="21.76", currency="USD"), 1))
    order_paid_then_dispute_lost(disputed)
    return usd, rub, disputed


def test_every_admin_list_fits_a_1280_px_screen(page, shop):
    page.set_viewport_size(DESKTOP)
    log_in(page, "/admin/")
    overflowing = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page.goto(url)
        measured = page.evaluate(MEASURE)
        if measured["page"] > DESKTOP["width"] or measured["boxes"]:
            overflowing[url] = measured
    assert not overflowing, f"lists wider than {DESKTOP['width']} px: {overflowing}"

    _, rub, _ = shop
    page.goto(reverse("admin:payments_payment_changelist"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    first = rows.filter(has_text="Order 1 · $51.42 · Stripe")
    for cell in ("amount_display", "status", "rail_display", "account_display", "started"):
        box = first.locator(f"td.field-{cell}").bounding_box()
        assert box and box["x"] + box["width"] <= DESKTOP["width"], cell
    expect(first.locator("td.field-amount_display")).to_have_text("$51.42")
    expect(first.locator("td.field-status")).to_have_text("Succeeded")
    expect(first.locator("td.field-account_display")).to_have_text("USD account (sandbox)")
    expect(rows.filter(has_text=f"Order {rub.pk} · ")).to_contain_text("Bank transfer")
    screenshot(page, "backoffice-1-payments-1280")

    page.goto(reverse("admin:storefront_order_changelist"))
    email = page.locator("#result_list td.field-email").filter(has_text="buyer@example.com")
    expect(email.first).to_be_visible()
    box = email.first.bounding_box()
    assert box["x"] + box["width"] <= DESKTOP["width"]
    screenshot(page, "backoffice-2-orders-1280")

    page.goto(reverse("admin:payments_refund_changelist"))
    expect(page.locator("#result_list")).to_contain_text("Mug arrived chipped")
    screenshot(page, "backoffice-3-refunds-1280")


def test_the_refund_button_shows_only_where_a_refund_can_be_made(page, shop):
    usd, rub, disputed = shop
    page.set_viewport_size(DESKTOP)
    log_in(page, reverse("admin:storefront_order_change", args=[rub.pk]))

    expect(page.locator("#paid-note")).to_be_visible()
    expect(page.locator("#refund-link")).to_have_count(0)
    expect(page.locator("#refund-unavailable")).to_contain_text(
        "Bank transfer payments cannot be refunded from here"
    )
    screenshot(page, "backoffice-4-bank-transfer-order-1280")

    page.goto(reverse("admin:storefront_order_change", args=[disputed.pk]))
    expect(page.locator("#refund-link")).to_have_count(0)
    expect(page.locator("#refund-unavailable")).to_contain_text("$21.76 lost in a dispute")
    screenshot(page, "backoffice-5-dispute-lost-order-1280")
    page.set_viewport_size(PHONE)
    expect(page.locator("#refund-unavailable")).to_be_visible()
    screenshot(page, "backoffice-6-dispute-lost-order-375")

    page.set_viewport_size(DESKTOP)
    page.goto(reverse("admin:storefront_order_change", args=[usd.pk]))
    expect(page.locator("#refund-unavailable")).to_have_count(0)
    refunds = page.locator("#order-refunds")
    expect(refunds.locator("td.note")).to_have_text("Mug arrived chipped; the buyer sent a photo")
    page.locator("#refund-link").click()
    expect(page.get_by_label("Payment to refund")).to_contain_text("$41.42 left")
    page.get_by_label("Amount").fill("5.00")
    page.get_by_label("Note").fill("Handle came off")
    page.locator("#refund-submit").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Refunded $5.00 of Order #{usd.pk}.")
    expect(refunds.locator("td.note").first).to_have_text("Handle came off")
    screenshot(page, "backoffice-7-refunds-with-notes-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, "backoffice-8-refunds-with-notes-375")


def test_an_open_orders_currency_menu_lists_the_shops_currencies(page, shop):
    page.set_viewport_size(DESKTOP)
    log_in(page, reverse("admin:storefront_order_change", args=[2]))  # the demo's EUR order

    menu = page.locator("select[name=currency]")
    expect(menu).to_have_value("EUR")
    options = [
        code
        for code in menu.locator("option").evaluate_all(
            "(options) => options.map((option) => option.value)"
        )
        if code
    ]
    assert options == ["EUR", "RUB", "USD"]
    screenshot(page, "backoffice-9-open-order-1280")


def test_an_orders_records_stay_on_a_phones_screen(page, shop):
    """Payments, refunds and e-mails of an order each read as a block per record on a phone:
    nothing runs past the screen, where the form row would hide it."""
    usd, _, _ = shop
    address = "accounts.payable.department@a-rather-long-company-name.example.com"
    OrderMail.objects.create(
        order=usd,
        kind=OrderMail.Kind.REFUND,
        to=address,
        status=OrderMail.Status.FAILED,
        attempts=3,
        error="SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable, the server said at length",
    )
    page.set_viewport_size(PHONE)
    log_in(page, reverse("admin:storefront_order_change", args=[usd.pk]))

    expect(page.locator("#order-mails td.address").last).to_have_text(address)
    for table in ("#order-payments", "#order-refunds", "#order-mails"):
        cells = page.locator(f"{table} td")
        assert cells.count() > 0, table
        for index in range(cells.count()):
            box = cells.nth(index).bounding_box()
            assert box and box["x"] + box["width"] <= PHONE["width"], (table, index, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#order-mails").scroll_into_view_if_needed()
    screenshot(page, "backoffice-10-order-records-375")
