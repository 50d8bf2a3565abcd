"""Kept pages in a real browser (storefront.plumbing.page_cache): a buyer whose catalogue and item
pages were rendered for someone else adds to its order from both and pays with Buy."""

import pytest
from playwright.sync_api import expect

from payments.stripe.tests.shop.checkout_pages import click_buy_and_reach_checkout
from storefront.models import Order
from storefront.tests.factories import make_item

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375], ids=["wide", "phone"])
def test_a_buyer_adds_and_buys_from_pages_kept_for_someone_else(browser, live_server, page, width):
    notebook = make_item(name="Field notebook", price="19.99", currency="USD")
    pencil = make_item(name="Brass pencil", price="8.75", currency="USD")
    someone = browser.new_context(base_url=live_server.url)
    try:
        earlier = someone.new_page()
        earlier.goto(notebook.get_absolute_url())
        earlier.goto("/")  # both pages kept now, with that browser's token spliced out
    finally:
        someone.close()
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(notebook.get_absolute_url())
    page.get_by_role("button", name="Add to order").click()
    expect(page.locator(".messages")).to_contain_text("Added 1 × Field notebook")
    page.goto("/")
    card = page.locator("li.card", has_text="Brass pencil")
    card.get_by_role("button", name="Add to order").click()

    expect(page.locator(".messages")).to_contain_text("Added 1 × Brass pencil")
    order = Order.objects.get()
    assert sorted(line.item_id for line in order.lines.all()) == [notebook.pk, pencil.pk]
    page.goto(notebook.get_absolute_url())
    assert click_buy_and_reach_checkout(page)
