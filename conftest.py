"""Project-wide test set-up: every test talks to the offline Stripe sandbox, never the network.

Also here, for every app's tests: `pay_order` (an order paid the way a buyer pays it, on the
shop's default rail: Stripe, in its sandbox) and the real-browser fixtures `browser` and `page`
(Debian's Chromium driven by Playwright; helpers in `storefront/tests/browser.py`).
"""

import pytest
from playwright.sync_api import sync_playwright

from storefront.tests.browser import CHROMIUM_ARGS, TIMEOUT_MS, require_chromium


@pytest.fixture(autouse=True)
def stripe_sandbox(settings):
    """USD and EUR accounts without keys, the sandbox allowed: whatever a developer's .env says.

    Real keys in a local .env must never make a test reach Stripe.
    """
    settings.SHOP_CURRENCIES = ["EUR", "USD"]
    settings.STRIPE_ACCOUNTS = {
        code: {"secret_key": "", "publishable_key": "", "webhook_secret": ""}
        for code in settings.SHOP_CURRENCIES
    }
    settings.STRIPE_SANDBOX = True
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    return settings


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with empty counters (storefront.throttle counts in the cache) and no
    memory of an earlier test's cache outage (during one, the throttle lets calls through)."""
    from django.core.cache import cache

    from storefront import throttle

    cache.clear()
    throttle.cache_outage = throttle.CacheOutage()


@pytest.fixture
def offer_currency(settings):
    """Add a currency to the shop, on the sandbox: `offer_currency("JPY")`."""

    def offer(code: str) -> None:
        settings.SHOP_CURRENCIES = sorted({*settings.SHOP_CURRENCIES, code})
        settings.STRIPE_ACCOUNTS = {
            **settings.STRIPE_ACCOUNTS,
            code: {"secret_key": "", "publishable_key": "", "webhook_secret": ""},
        }

    return offer


@pytest.fixture
def pay_order():
    """`pay_order(order)` pays `order` in one sandbox checkout, as a buyer would, and confirms it
    as the return page does; returns the payment (the order is refreshed: paid)."""
    from payments.stripe.tests.checkout_tools import order_paid
    from storefront.models import Order

    def pay(order):
        payment = order_paid(order)
        assert order.status == Order.Status.PAID, payment.flag
        return payment

    return pay


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module: the system's, never a downloaded one."""
    executable = require_chromium()
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an asyncio loop "running" in this thread for as long as
        # it is started, so Django would refuse every ORM call here, the test bodies' and the
        # database fixtures' alike (their flush runs after function-scoped fixtures are gone).
        # The shop itself runs in the live server's thread, untouched by this.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture
def page(browser, live_server, monkeypatch):
    """A tab in a fresh browser context (no cookies or storage from other tests) on the shop.

    Relative URLs (`page.goto("/item/1")`) go to the live server. An uncaught JavaScript error
    or a Content-Security-Policy violation on any page fails the test.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1024, "height": 768})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    js_errors = []
    tab.on("pageerror", lambda error: js_errors.append(f"{tab.url}: {error}"))
    # The Content-Security-Policy is enforced in these tests as in production: anything it
    # refuses (an inline script or style, a script from elsewhere) is reported to the console.
    tab.on(
        "console",
        lambda message: (
            js_errors.append(f"{tab.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield tab
    finally:
        # A route handler still running (a test failed half-way) must not fail the next test.
        tab.unroute_all(behavior="ignoreErrors")
        context.close()
    if js_errors:
        pytest.fail("JavaScript errors in the page:\n" + "\n".join(js_errors), pytrace=False)


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} ({database['NAME']})"
