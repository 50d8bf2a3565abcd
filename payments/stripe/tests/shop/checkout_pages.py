"""The sandbox's hosted checkout and the shop's return page, as a buyer's browser sees them."""

import re

from playwright.sync_api import Page, expect

CHECKOUT_URL = re.compile(r"/sandbox/checkout/(cs_test_[A-Za-z0-9]+)/$")
SUCCESS_URL = re.compile(
    r"/payment/stripe/return/\?session_id=(cs_test_[A-Za-z0-9]+)&currency=([a-z]{3})$"
)
CANCEL_URL = re.compile(r"/cancel/\?item=(\d+)$")

CARD_PAYS = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"

# Stripe.js as it is since 2025: Stripe(pk) works, but it has no redirectToCheckout.
# It leaves a note in sessionStorage (which survives the redirect) to prove it was the one used.
STRIPE_JS_WITHOUT_REDIRECT = """
(function () {
  "use strict";
  function Stripe(publishableKey) {
    if (!(this instanceof Stripe)) {
      return new Stripe(publishableKey);
    }
    window.sessionStorage.setItem("replaced-stripe-js-key", publishableKey);
  }
  window.Stripe = Stripe;
})();
"""


def click_buy_and_reach_checkout(page: Page) -> str:
    """Click Buy on an item page; return the id of the checkout session it lands on."""
    page.locator("#buy-button").click()
    page.wait_for_url(CHECKOUT_URL)
    return checkout_session_id(page)


def checkout_session_id(page: Page) -> str:
    match = CHECKOUT_URL.search(page.url)
    assert match, f"not on a sandbox checkout page: {page.url}"
    return match.group(1)


def pay(page: Page, card: str, *, email: str = "buyer@example.com") -> None:
    """Fill in the sandbox checkout form and press Pay (does not wait for the outcome)."""
    form = page.locator("#payment-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=card_number]").fill(card)
    form.locator("input[name=expiry]").fill("12 / 34")
    form.locator("input[name=cvc]").fill("123")
    page.locator("#pay-button").click()


def expect_checkout_page(page: Page, *, item_name: str, amount: str) -> None:
    """The sandbox checkout page shows the item and the amount due, and a Pay button for it."""
    expect(page.locator("h1")).to_have_text(f"Pay {amount}")
    expect(page.locator("table.lines tbody")).to_contain_text(item_name)
    expect(page.locator("#amount-total")).to_have_text(amount)
    expect(page.locator("#pay-button")).to_have_text(f"Pay {amount}")


def expect_paid_page(page: Page, *, amount: str) -> int:
    """The success page says the payment went through and for how much; returns the order's id.

    It names the order the payment was for, with a link to it.
    """
    expect(page.locator("h1")).to_have_text("Thank you, your payment went through")
    notice = page.locator("p.notice")
    expect(notice).to_contain_text(f"We received {amount} for order #")
    order_link = notice.get_by_role("link", name=re.compile(r"^order #\d+$"))
    expect(order_link).to_be_visible()
    return int(order_link.inner_text().removeprefix("order #"))


def expect_paid_order_page(page: Page, *, order_id: int, item_name: str, amount: str) -> None:
    """From the success page, the buyer's order: paid, for the item, for the amount."""
    page.locator("p.notice").get_by_role("link", name=f"order #{order_id}").click()
    page.wait_for_url(f"**/order/{order_id}/")
    expect(page.locator("h1")).to_contain_text(f"Order #{order_id}")
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#order-lines tbody tr")).to_have_count(1)
    expect(page.locator("#order-lines tbody")).to_contain_text(item_name)
    expect(page.locator("#amount-total")).to_have_text(amount)
    # Paid: nothing left to pay.
    expect(page.locator("#buy-button")).to_have_count(0)
