"""The catalogue past its numbered pages, as a buyer pages through it: every item once, in
order, by Next and by Previous, the last page by Last; queries bounded whatever its size."""

import re

import pytest

from storefront.shop import catalogue
from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(settings, monkeypatch):
    """Pages of 2, the first 2 numbered: 11 items make 2 numbered pages and 7 more."""
    settings.SHOP_CATALOGUE_PAGE_SIZE = 2
    monkeypatch.setattr(catalogue, "NUMBERED_PAGES", 2)
    # Names repeat (the order is by name, then pk), and are made out of order.
    names = ["Mug", "Apron", "Mug", "Cap", "Zine", "Mug", "Bag", "Pen", "Apron", "Hat", "Cup"]
    items = [make_item(name=name) for name in names]
    return sorted(items, key=lambda item: (item.name, item.pk))


def items_on(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/item/(\d+)/"', page)]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_next_walks_every_item_once_in_order_and_previous_walks_back(client, small_pages):
    seen, pages, path = [], [], "/"
    while path:
        page = client.get(path if path.startswith("/") else f"/{path}").content.decode()
        seen += items_on(page)
        pages.append(page)
        path = link(page, "next")
    assert seen == [item.pk for item in small_pages]
    assert len(pages) == 6 and all(len(items_on(page)) == 2 for page in pages[:-1])
    # Past the numbered pages: links to the first and the last page, and no count of them.
    assert 'href="?page=1"' in pages[3] and 'href="?page=last"' in pages[3]
    assert 'href="?page=3"' not in pages[0]

    back, path = [], link(pages[-1], "prev")
    while path:
        page = client.get(f"/{path}").content.decode()
        back = items_on(page) + back
        path = link(page, "prev")
    assert back + items_on(pages[-1]) == seen


def test_last_is_the_catalogues_end_and_a_page_past_the_numbered_ones_the_last_of_them(
    client, small_pages
):
    last = client.get("/?page=last").content.decode()
    beyond = client.get("/?page=99").content.decode()

    assert items_on(last) == [item.pk for item in small_pages[-2:]]
    assert link(last, "next") is None and link(last, "prev")
    assert items_on(beyond) == [item.pk for item in small_pages[2:4]]
    assert '<span class="current" aria-current="page">2</span>' in beyond


def test_a_cursor_naming_no_item_shows_the_first_page(client, small_pages):
    for query in ("?after=999999", "?before=abc", "?after="):
        assert items_on(client.get(f"/{query}").content.decode()) == [
            item.pk for item in small_pages[:2]
        ]


def test_pages_past_the_numbered_ones_cost_the_same_queries_however_many_items(
    client, small_pages, settings, django_assert_max_num_queries
):
    settings.SHOP_PAGE_CACHE = False  # what rendering them costs, every time
    client.get("/")
    middle = small_pages[5].pk
    for path in (f"/?after={middle}", f"/?before={middle}", "/?page=last", "/?page=2"):
        with django_assert_max_num_queries(2):
            client.get(path)
    for _ in range(40):
        make_item(name="More")
    for path in (f"/?after={middle}", f"/?before={middle}", "/?page=last", "/?page=2"):
        with django_assert_max_num_queries(2):
            client.get(path)
