"""Fixtures every app's tests share about the site, registered through the root conftest's
`pytest_plugins`: a cache emptied for each test, and the real-browser fixtures `browser` and
`page` (Debian's Chromium driven by Playwright; helpers in `storefront/tests/browser.py`)."""

import threading
import time

import pytest
from playwright.sync_api import sync_playwright

from storefront.tests.browser import CHROMIUM_ARGS, TIMEOUT_MS, require_chromium


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with empty counters (storefront.plumbing.throttle counts in the cache), no
    kept pages (storefront.plumbing.page_cache) and no memory of an earlier test's cache outage
    (during one, the throttle lets calls through and pages are rendered every time)."""
    from django.core.cache import cache

    from storefront.plumbing import page_cache, throttle

    cache.clear()
    page_cache.pages_forget()
    throttle.cache_outage = throttle.CacheOutage()
    page_cache.outage = page_cache.new_outage()


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
    running_before = set(threading.enumerate())
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
        _calls_to_the_server_finished(running_before)
    if js_errors:
        pytest.fail("JavaScript errors in the page:\n" + "\n".join(js_errors), pytrace=False)


#: How long a browser test's end waits for the calls still made to the live server.
SETTLE_SECONDS = 15.0


def _calls_to_the_server_finished(running_before: set[threading.Thread]) -> None:
    """Wait (up to SETTLE_SECONDS) for the daemon threads the test started to end: the
    sandboxes' webhook deliveries and callbacks (a decline shown in the page is also an event
    the Stripe sandbox is still delivering) and the live server's threads answering them. One
    still in a query when the database is emptied for the next test holds a lock the TRUNCATE
    waits for, while the TRUNCATE holds one it waits for: a deadlock on PostgreSQL. Idle pool
    workers (asyncio's, not daemons) and a refund's delayed settlement (a Timer, seconds
    away) are not waited for."""
    deadline = time.monotonic() + SETTLE_SECONDS
    for thread in threading.enumerate():
        if thread in running_before or not thread.daemon or isinstance(thread, threading.Timer):
            continue
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
