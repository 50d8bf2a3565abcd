"""Every page says what it may load (Content-Security-Policy) and which browser features it may
use (Permissions-Policy); the browser enforces both, and the browser tests fail on any refusal."""

import pytest

from storefront.tests.browser import CHROMIUM_ARGS, TIMEOUT_MS, require_chromium
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_pages_allow_exactly_the_shop_and_stripe_js_and_nothing_inline(client):
    item = make_item(currency="USD")

    response = client.get(f"/item/{item.pk}")
    policy = _directives(response["Content-Security-Policy"])

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert policy["frame-src"] == [
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_pages_turn_off_the_browser_features_the_shop_does_not_use(client):
    header = client.get("/")["Permissions-Policy"]

    assert "camera=()" in header and "microphone=()" in header and "geolocation=()" in header
    assert 'payment=(self "https://js.stripe.com")' in header


@pytest.mark.browser
def test_the_browser_refuses_an_inline_script_and_says_so(live_server):
    """The policy is enforced, and a refusal reaches the console, where the browser tests'
    `page` fixture fails on it (conftest)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    make_item(currency="USD", name="Notebook")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            tab = browser.new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            console = []
            tab.on("console", lambda message: console.append(message.text))
            tab.goto(f"{live_server.url}/")
            with pytest.raises(PlaywrightError, match="violates the following Content Security"):
                tab.add_script_tag(content="window.injected = true;")
            tab.wait_for_timeout(200)
            injected = tab.evaluate("window.injected === true")
        finally:
            browser.close()

    assert injected is False
    assert any("Content Security Policy" in text for text in console), console
