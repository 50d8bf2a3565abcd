"""The buyer's path in a real browser: item page, Buy, the sandbox's checkout page, the way back.

Chromium (Debian's, through Playwright) against pytest-django's live server; the shop pays
into the offline Stripe sandbox (root conftest), so what the buyer saw can be checked against
what the sandbox recorded. Screenshots of the key pages go to test-artifacts/.
"""

import json

import pytest
import stripe
from playwright.sync_api import Page, Route, expect

from payments.stripe.sandbox.client import sandbox_outage
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.sandbox_tools import requests_of, sandbox_account, session_object
from payments.stripe.tests.shop.checkout_pages import (
    CANCEL_URL,
    CARD_DECLINED,
    CARD_PAYS,
    CHECKOUT_URL,
    STRIPE_JS_WITHOUT_REDIRECT,
    SUCCESS_URL,
    checkout_session_id,
    click_buy_and_reach_checkout,
    expect_checkout_page,
    expect_paid_order_page,
    expect_paid_page,
    pay,
)
from storefront.models import Order
from storefront.tests.browser import CHROMIUM_ARGS, TIMEOUT_MS, require_chromium, screenshot
from storefront.tests.factories import make_item

pytestmark = pytest.mark.browser

BUY_ROUTE = "**/buy/*/"
PROVIDER_ERROR = "The payment provider could not process this request. Please try again later."
NETWORK_ERROR = "We could not reach the shop. Check your connection and try again."


def checkout_sessions():
    return SandboxObject.objects.filter(object="checkout.session")


def pay_and_reach_success(page: Page, card: str = CARD_PAYS) -> tuple[str, str]:
    """Pay on the checkout page; return (session_id, currency) from the success page's URL."""
    pay(page, card)
    page.wait_for_url(SUCCESS_URL)
    match = SUCCESS_URL.search(page.url)
    return match.group(1), match.group(2)


@pytest.mark.parametrize(
    ("currency", "price", "shown", "minor"),
    [("EUR", "24.00", "€24.00", 2400), ("USD", "19.99", "$19.99", 1999)],
    ids=["eur", "usd"],
)
def test_buyer_pays_an_item_on_its_currencys_account(page, currency, price, shown, minor):
    item = make_item(
        name=f"Linen tote ({currency})",
        description="Washed linen, long handles.",
        price=price,
        currency=currency,
    )
    slug = currency.lower()

    page.goto(f"/item/{item.pk}")
    expect(page.locator("h1")).to_have_text(item.name)
    expect(page.locator("p.price")).to_have_text(shown)
    expect(page.locator("#buy-button")).to_have_text("Buy")
    expect(page.locator("#buy-button")).to_be_enabled()
    screenshot(page, f"{slug}-1-item-page")

    session_id = click_buy_and_reach_checkout(page)
    expect_checkout_page(page, item_name=item.name, amount=shown)
    screenshot(page, f"{slug}-2-sandbox-checkout")

    paid_id, paid_currency = pay_and_reach_success(page)
    order_id = expect_paid_page(page, amount=shown)
    screenshot(page, f"{slug}-3-success")
    expect_paid_order_page(page, order_id=order_id, item_name=item.name, amount=shown)
    screenshot(page, f"{slug}-4-paid-order")

    assert (paid_id, paid_currency) == (session_id, slug)
    session = session_object(session_id)
    assert session.account == sandbox_account(currency)
    assert session.account != sandbox_account("USD" if currency == "EUR" else "EUR")
    assert session.data["payment_status"] == "paid"
    assert session.data["status"] == "complete"
    assert session.data["amount_total"] == minor
    assert session.data["currency"] == slug
    assert session.data["metadata"]["order_id"] == str(order_id)
    assert session.data["customer_details"]["email"] == "buyer@example.com"
    assert checkout_sessions().count() == 1


def test_declined_card_says_so_and_the_buyer_can_pay_with_another_card(page):
    item = make_item(name="Stoneware mug", price="24.00", currency="EUR")
    page.goto(f"/item/{item.pk}")
    session_id = click_buy_and_reach_checkout(page)
    checkout_url = page.url

    pay(page, CARD_DECLINED)

    expect(page.locator("#card-error")).to_be_visible()
    expect(page.locator("#card-error")).to_have_text("Your card was declined.")
    assert page.url == checkout_url
    expect_checkout_page(page, item_name=item.name, amount="€24.00")
    screenshot(page, "decline-1-card-declined")
    session = session_object(session_id)
    assert session.data["status"] == "open"
    assert session.data["payment_status"] == "unpaid"
    assert not SandboxObject.objects.filter(object="payment_intent").exists()

    paid_id, _ = pay_and_reach_success(page, CARD_PAYS)

    order_id = expect_paid_page(page, amount="€24.00")
    screenshot(page, "decline-2-paid-with-another-card")
    expect_paid_order_page(page, order_id=order_id, item_name=item.name, amount="€24.00")
    assert paid_id == session_id
    session.refresh_from_db()
    assert session.data["payment_status"] == "paid"
    assert session.account == sandbox_account("EUR")
    assert SandboxObject.objects.filter(object="payment_intent").count() == 1


def test_buy_button_is_busy_while_in_flight_and_a_double_click_buys_once(page):
    item = make_item(name="Desk lamp", price="19.99", currency="USD")
    buy_requests = []
    page.on("request", lambda request: "/buy/" in request.url and buy_requests.append(request))
    in_flight = {}

    def hold_then_continue(route: Route) -> None:
        if not in_flight:  # the first /buy (a second one is the bug this test looks for)
            # The shop has not answered yet: this is what the buyer sees meanwhile.
            button = page.locator("#buy-button")
            in_flight.update(
                button.evaluate(
                    "b => ({disabled: b.disabled, busy: b.getAttribute('aria-busy'),"
                    " label: b.textContent})"
                )
            )
            screenshot(page, "busy-1-buy-in-flight")
            # An impatient buyer clicks again (a synthetic click reaches even a disabled button).
            button.dispatch_event("click")
        route.continue_()

    page.route(BUY_ROUTE, hold_then_continue)
    page.goto(f"/item/{item.pk}")

    page.locator("#buy-button").dblclick()
    page.wait_for_url(CHECKOUT_URL)

    assert in_flight == {"disabled": True, "busy": "true", "label": "Redirecting to checkout…"}
    expect_checkout_page(page, item_name=item.name, amount="$19.99")
    assert len(buy_requests) == 1
    assert checkout_sessions().count() == 1
    assert checkout_sessions().get().id == checkout_session_id(page)
    assert requests_of("USD").filter(method="POST", path="/v1/checkout/sessions").count() == 1
    assert Order.objects.count() == 1


def test_buy_error_is_shown_in_words_and_the_button_comes_back(page):
    item = make_item(name="Wool scarf", price="24.00", currency="EUR")
    page.route(
        BUY_ROUTE,
        lambda route: route.fulfill(
            status=502,
            content_type="application/json",
            body=json.dumps({"error": PROVIDER_ERROR}),
        ),
    )
    page.goto(f"/item/{item.pk}")
    button, error = page.locator("#buy-button"), page.locator("#buy-error")
    expect(error).to_be_hidden()

    button.click()

    expect(error).to_be_visible()
    expect(error).to_have_text(PROVIDER_ERROR)
    expect(button).to_be_enabled()
    expect(button).to_have_text("Buy")
    expect(button).to_have_attribute("aria-busy", "false")
    screenshot(page, "error-1-provider-error")

    page.unroute(BUY_ROUTE)
    page.route(BUY_ROUTE, lambda route: route.abort("internetdisconnected"))
    button.click()

    expect(error).to_have_text(NETWORK_ERROR)
    expect(error).to_be_visible()
    expect(button).to_be_enabled()
    expect(button).to_have_text("Buy")
    screenshot(page, "error-2-network-failure")
    assert page.url.endswith(f"/item/{item.pk}")
    assert not checkout_sessions().exists()


def test_a_real_provider_outage_is_shown_and_buying_again_works(page, monkeypatch):
    """No mocked response: the shop's own /buy answers the sandbox's outage."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.001)
    item = make_item(name="Tea towel", price="19.99", currency="USD")
    page.goto(f"/item/{item.pk}")
    button, error = page.locator("#buy-button"), page.locator("#buy-error")

    with sandbox_outage("server_error"):
        button.click()
        expect(error).to_be_visible()
        expect(error).to_contain_text("payment provider could not process")
        expect(button).to_be_enabled()

    assert not checkout_sessions().exists()
    session_id = click_buy_and_reach_checkout(page)
    expect_checkout_page(page, item_name=item.name, amount="$19.99")
    assert session_object(session_id).account == sandbox_account("USD")


def test_stripe_js_without_redirect_to_checkout_falls_back_to_the_session_url(page):
    """Stripe.js dropped redirectToCheckout in 2025; the shop then follows `session.url`."""
    item = make_item(name="Pocket notebook", price="19.99", currency="USD")
    replaced = []

    def stripe_js_of_2025(route: Route) -> None:
        replaced.append(route.request.url)
        route.fulfill(content_type="text/javascript", body=STRIPE_JS_WITHOUT_REDIRECT)

    buy_answers = []

    def record_buy_answer(route: Route) -> None:
        response = route.fetch()
        buy_answers.append(response.json())
        route.fulfill(response=response)

    page.route("**/static/sandbox/stripe.js*", stripe_js_of_2025)
    page.route(BUY_ROUTE, record_buy_answer)
    page.goto(f"/item/{item.pk}")
    assert page.evaluate("typeof Stripe('pk_test_probe').redirectToCheckout") == "undefined"

    session_id = click_buy_and_reach_checkout(page)

    assert len(replaced) == 1
    [answer] = buy_answers
    assert answer["id"] == session_id
    assert page.url == answer["url"]
    # The page built Stripe with its currency's publishable key, then used the session URL.
    used_key = page.evaluate("sessionStorage.getItem('replaced-stripe-js-key')")
    assert used_key == "pk_test_sandbox_usd"
    expect_checkout_page(page, item_name=item.name, amount="$19.99")


@pytest.mark.parametrize(("version", "has_redirect"), [("current", False), ("legacy", True)])
def test_buy_reaches_checkout_with_todays_stripe_js_and_with_the_old_one(
    page, settings, version, has_redirect
):
    """The sandbox's Stripe.js is either today's (no redirectToCheckout: the shop follows the
    session's URL) or the pre-2025 one (redirectToCheckout): Buy works with both."""
    settings.STRIPE_SANDBOX_JS_VERSION = version
    item = make_item(name="Pocket notebook", price="19.99", currency="USD")

    page.goto(f"/item/{item.pk}")
    probe = page.evaluate("typeof Stripe('pk_test_probe').redirectToCheckout")
    session_id = click_buy_and_reach_checkout(page)

    assert probe == ("function" if has_redirect else "undefined")
    assert checkout_sessions().get().id == session_id
    expect_checkout_page(page, item_name=item.name, amount="$19.99")


def test_cancel_on_the_checkout_page_returns_to_the_shop_and_charges_nothing(page):
    item = make_item(name="Canvas apron", price="24.00", currency="EUR")
    page.goto(f"/item/{item.pk}")
    session_id = click_buy_and_reach_checkout(page)

    page.locator("#cancel-link").click()
    page.wait_for_url(CANCEL_URL)

    assert CANCEL_URL.search(page.url).group(1) == str(item.pk)
    expect(page.locator("h1")).to_have_text("Payment cancelled")
    expect(page.locator("main")).to_contain_text("nothing was charged")
    expect(page.get_by_role("link", name=f"Back to {item.name}")).to_be_visible()
    screenshot(page, "cancel-1-cancelled")
    session = session_object(session_id)
    assert session.data["payment_status"] == "unpaid"
    assert session.data["status"] == "open"
    assert not SandboxObject.objects.filter(object="payment_intent").exists()


@pytest.fixture
def bfcache_page(browser, live_server):
    """A tab in a Chromium with the back/forward cache on, as in every buyer's browser.

    Playwright turns the cache off by default (`--disable-back-forward-cache`).
    """
    chromium = browser.browser_type.launch(
        executable_path=require_chromium(),
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    try:
        context = chromium.new_context(base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        yield context.new_page()
    finally:
        chromium.close()


def test_back_from_the_checkout_page_leaves_a_usable_buy_button(bfcache_page):
    page = bfcache_page
    item = make_item(name="Ceramic bowl", price="24.00", currency="EUR")
    page.goto(f"/item/{item.pk}")
    page.evaluate("window.sameDocument = true")
    click_buy_and_reach_checkout(page)

    # The browser's Back button. (page.go_back() waits for a load event that a page restored
    # from the cache never fires.)
    page.evaluate("setTimeout(() => history.back(), 0)")
    page.wait_for_function(f"location.pathname === '/item/{item.pk}'")
    if not page.evaluate("window.sameDocument === true"):
        pytest.skip("Chromium loaded the item page afresh instead of from its back/forward cache")
    screenshot(page, "back-1-item-page-after-back")

    button = page.locator("#buy-button")
    expect(button).to_be_enabled()
    expect(button).to_have_text("Buy")
    expect(button).to_have_attribute("aria-busy", "false")

    # And it works: the buyer can go to the checkout again.
    click_buy_and_reach_checkout(page)
    expect_checkout_page(page, item_name=item.name, amount="€24.00")
