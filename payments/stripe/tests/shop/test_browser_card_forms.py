"""In a real browser, the card forms as a buyer meets them: the 3-D Secure step on the hosted
checkout page, the expiry formatted as it is typed, and a decline shown without a console error."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.tests.shop.checkout_pages import (
    CARD_DECLINED,
    CARD_PAYS,
    CHECKOUT_URL,
    checkout_session_id,
    expect_paid_page,
    pay,
)
from storefront.models import Order
from storefront.tests.browser import screenshot
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.browser

FAILED = "We are unable to authenticate your payment method."


@pytest.fixture
def console_errors(page):
    """Every message the pages log to the console as an error (a failed request is one)."""
    errors = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
        ),
    )
    return errors


def reach_checkout(page, *, name="Linen tote", price="24.00"):
    item = make_item(name=name, price=price, currency="EUR")
    page.goto(f"/item/{item.pk}")
    page.locator("#buy-button").click()
    page.wait_for_url(CHECKOUT_URL)
    return checkout_session_id(page)


def session_data(session_id):
    return SandboxObject.objects.get(id=session_id).data


@pytest.mark.parametrize("card", ["4000 0025 0000 3155", "4000 0027 6000 3184"])
def test_a_3ds_card_on_checkout_pays_once_the_step_is_completed(page, card, console_errors):
    session_id = reach_checkout(page)

    pay(page, card)

    page.wait_for_url(f"**/sandbox/checkout/{session_id}/authenticate/")
    expect(page.locator("h1")).to_have_text("Confirm the payment of €24.00")
    screenshot(page, f"checkout-3ds-{card[-4:]}-step")
    page.locator("#complete-authentication").click()

    page.wait_for_url("**/payment/stripe/return/**")
    expect_paid_page(page, amount="€24.00")
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    assert session_data(session_id)["payment_status"] == "paid"
    assert Payment.objects.get().status == "succeeded"
    assert console_errors == []


@pytest.mark.parametrize("card", ["4000 0025 0000 3155", "4000 0027 6000 3184"])
def test_failing_the_3ds_step_says_why_and_another_card_pays(page, card, console_errors):
    session_id = reach_checkout(page)
    pay(page, card)
    page.wait_for_url(f"**/sandbox/checkout/{session_id}/authenticate/")

    page.locator("#fail-authentication").click()

    page.wait_for_url(CHECKOUT_URL)
    expect(page.locator("#card-error")).to_contain_text(FAILED)
    screenshot(page, f"checkout-3ds-{card[-4:]}-failed")
    assert session_data(session_id)["payment_status"] == "unpaid"
    assert Order.objects.get().is_open

    pay(page, CARD_PAYS)

    page.wait_for_url("**/payment/stripe/return/**")
    expect_paid_page(page, amount="€24.00")
    assert Order.objects.get().status == Order.Status.PAID
    assert console_errors == []


def test_the_checkout_expiry_is_formatted_as_typed(page):
    session_id = reach_checkout(page)
    expiry = page.locator("#payment-form input[name=expiry]")

    expiry.press_sequentially("12")
    expect(expiry).to_have_value("12 / ")
    expiry.press_sequentially("34")
    expect(expiry).to_have_value("12 / 34")
    for _ in range(3):
        expiry.press("Backspace")
    expect(expiry).to_have_value("1")
    expiry.fill("")
    expiry.press_sequentially("4")  # no month starts with 4: it is April
    expect(expiry).to_have_value("04 / ")
    expiry.fill("12/34")
    expect(expiry).to_have_value("12 / 34")
    expiry.fill("1234")
    expect(expiry).to_have_value("12 / 34")

    form = page.locator("#payment-form")
    form.locator("input[name=email]").fill("ada@example.com")
    form.locator("input[name=card_number]").fill(CARD_PAYS)
    form.locator("input[name=cvc]").fill("123")
    screenshot(page, "checkout-expiry-typed")
    page.locator("#pay-button").click()

    page.wait_for_url("**/payment/stripe/return/**")
    assert session_data(session_id)["payment_status"] == "paid"


def test_a_decline_on_checkout_is_shown_and_logs_no_console_error(page, console_errors):
    session_id = reach_checkout(page)

    pay(page, CARD_DECLINED)

    expect(page.locator("#card-error")).to_have_text("Your card was declined.")
    assert session_data(session_id)["payment_status"] == "unpaid"
    assert console_errors == []


@pytest.fixture
def pay_page(page):
    order = make_order((make_item(name="Linen tote", price="24.00", currency="EUR"), 1))
    page.goto(f"{order.get_absolute_url()}?key={order.access_key}")
    page.locator("#pay-here-link").click()
    page.wait_for_url(f"**/order/{order.pk}/pay/")
    expect(page.locator("#submit-payment")).to_be_enabled()
    return order


def test_the_payment_element_expiry_is_formatted_as_typed_and_pays(page, pay_page):
    element = page.locator("#payment-element")
    expiry = element.locator("input[name=expiry]")

    expiry.press_sequentially("1234")
    expect(expiry).to_have_value("12 / 34")
    expiry.fill("12/34")
    expect(expiry).to_have_value("12 / 34")
    element.locator("input[name=number]").fill(CARD_PAYS)
    element.locator("input[name=cvc]").fill("123")
    page.locator("#submit-payment").click()

    page.wait_for_url("**/payment/stripe/return/**")
    pay_page.refresh_from_db()
    assert pay_page.status == Order.Status.PAID


@pytest.mark.parametrize(
    ("number", "expiry", "message"),
    [
        (CARD_DECLINED, "12 / 34", "Your card was declined."),
        (CARD_PAYS, "12", "Your card's expiration date is incomplete."),
    ],
)
def test_a_decline_in_the_payment_element_is_shown_and_logs_no_console_error(
    page, pay_page, console_errors, number, expiry, message
):
    element = page.locator("#payment-element")
    element.locator("input[name=number]").fill(number)
    element.locator("input[name=expiry]").fill(expiry)
    element.locator("input[name=cvc]").fill("123")

    page.locator("#submit-payment").click()

    expect(page.locator("#payment-error")).to_have_text(message)
    expect(page.locator("#submit-payment")).to_be_enabled()
    pay_page.refresh_from_db()
    assert pay_page.is_open
    assert console_errors == []


@pytest.mark.parametrize("width", [1280, 375])
def test_the_order_page_sets_emptying_apart_from_paying(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    order = make_order(
        (make_item(name="Linen tote", price="24.00", currency="EUR"), 2),
        discount=make_discount(percent_off="10"),
        taxes=(make_tax(display_name="VAT", percentage="19", inclusive=True),),
    )
    page.goto(f"{order.get_absolute_url()}?key={order.access_key}")

    panel = page.locator("section.pay-panel")
    expect(panel.locator("#receipt-email")).to_be_visible()
    expect(panel.locator("#buy-button")).to_have_text("Pay €43.20")
    # "Empty this order" is under the lines, outside the pay panel, well apart from Pay.
    empty = page.locator("#empty-order")
    expect(panel.locator("#empty-order")).to_have_count(0)
    empty_box, pay_box = empty.bounding_box(), panel.locator("#buy-button").bounding_box()
    assert empty_box["y"] + empty_box["height"] + 24 < pay_box["y"]
    # The fields are styled: a border and padding, not the browser's bare input.
    padding = page.locator("#receipt-email").evaluate("e => getComputedStyle(e).paddingTop")
    assert float(padding.removesuffix("px")) >= 6
    screenshot(page, f"order-page-{width}")


def test_the_pay_page_shows_the_lines_discount_taxes_and_total(page):
    order = make_order(
        (make_item(name="Linen tote", price="24.00", currency="EUR"), 2),
        discount=make_discount(percent_off="10"),
        taxes=(make_tax(display_name="VAT", percentage="19", inclusive=True),),
    )
    page.goto(f"{order.get_absolute_url()}?key={order.access_key}")
    page.locator("#pay-here-link").click()
    page.wait_for_url(f"**/order/{order.pk}/pay/")

    lines = page.locator("#order-lines")
    expect(lines.locator("tbody")).to_contain_text("Linen tote")
    expect(lines.locator("#amount-subtotal")).to_have_text("€48.00")
    expect(lines.locator("#amount-discount")).to_have_text("−€4.80")
    expect(lines.locator("tr.tax")).to_contain_text("VAT 19% (included)")
    expect(lines.locator("#amount-total")).to_have_text("€43.20")
    # Nothing to edit here: the order page is where lines change.
    expect(lines.locator("input, button")).to_have_count(0)
    expect(page.locator("#submit-payment")).to_have_text("Pay €43.20")
