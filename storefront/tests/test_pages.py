"""The catalogue and item pages as a buyer sees them."""

import pytest
from django.urls import reverse

from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db


def test_catalogue_lists_every_item_with_its_price_in_its_currency(client):
    make_item(name="Notebook", price="19.99", currency="USD")
    make_item(name="Tote bag", price="24.00", currency="EUR")

    page = client.get("/").content.decode()

    assert "Notebook" in page and "$19.99" in page
    assert "Tote bag" in page and "€24.00" in page


def test_empty_catalogue_says_so(client):
    assert "Nothing for sale yet" in client.get("/").content.decode()


def test_item_page_shows_name_description_price_and_buy_button(client):
    item = make_item(name="Tote bag", description="Washed linen.", price="24.00", currency="EUR")

    response = client.get(f"/item/{item.pk}")
    page = response.content.decode()

    assert response.status_code == 200
    assert "Tote bag" in page and "Washed linen." in page and "€24.00" in page
    assert 'id="buy-button"' in page and ">Buy</button>" in page
    assert f'data-buy-url="{reverse("storefront:item_pay_json", args=[item.pk])}"' in page


def test_item_page_carries_the_publishable_key_of_its_currency_and_no_secret(client):
    # The conftest's sandbox accounts: pk_test_sandbox_eur, sk_test_sandbox_eur, ...
    eur_item = make_item(currency="EUR")

    page = client.get(f"/item/{eur_item.pk}").content.decode()

    assert 'data-publishable-key="pk_test_sandbox_eur"' in page
    assert "pk_test_sandbox_usd" not in page
    assert "sk_test_sandbox_eur" not in page and "sk_" not in page
    assert "whsec_sandbox_eur" not in page


def test_item_page_never_renders_a_real_secret_key(client, settings):
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "USD": {
            "secret_key": "sk_test_realLookingSecret0001",
            "publishable_key": "pk_test_realLookingPublic0001",
            "webhook_secret": "whsec_realLookingSecret0001",
        },
    }
    item = make_item(currency="USD")

    page = client.get(f"/item/{item.pk}").content.decode()

    assert "pk_test_realLookingPublic0001" in page
    assert "sk_test_realLookingSecret0001" not in page
    assert "whsec_realLookingSecret0001" not in page
    assert "https://js.stripe.com/v3/" in page  # real keys load the real Stripe.js


def test_sandbox_pages_say_they_are_a_sandbox(client):
    item = make_item()

    assert "Sandbox mode" in client.get(f"/item/{item.pk}").content.decode()


@pytest.mark.parametrize("path", ["/item/999", "/item/abc", "/item/"])
def test_missing_item_page_is_404(client, path):
    make_item()

    assert client.get(path).status_code == 404


def test_item_in_a_currency_without_an_account_explains_instead_of_offering_buy(client, settings):
    item = make_item(currency="EUR")
    settings.STRIPE_SANDBOX = False  # production without EUR keys

    page = client.get(f"/item/{item.pk}").content.decode()

    assert "Payments in EUR are not available right now" in page
    assert 'id="buy-button"' not in page


def test_cancel_page_says_nothing_was_charged_and_links_back(client):
    item = make_item(name="Tote bag")

    page = client.get(f"/cancel/?item={item.pk}").content.decode()

    assert "nothing was charged" in page
    assert f'href="{item.get_absolute_url()}"' in page


def test_item_page_says_which_taxes_come_on_top_or_are_included(client):
    from storefront.tests.factories import make_tax

    make_tax(
        display_name="Sales tax", percentage="8.875", currency="USD", applies_to_new_orders=True
    )
    make_tax(
        display_name="VAT",
        percentage="19",
        inclusive=True,
        currency="EUR",
        applies_to_new_orders=True,
    )
    usd, eur = make_item(currency="USD"), make_item(currency="EUR")

    assert "plus Sales tax 8.875%" in client.get(f"/item/{usd.pk}").content.decode()
    eur_page = client.get(f"/item/{eur.pk}").content.decode()
    assert "incl. VAT 19%" in eur_page and "Sales tax" not in eur_page


@pytest.mark.parametrize("spelling", ["/item/{pk}", "/item/{pk}/"])
def test_the_item_page_answers_with_and_without_the_trailing_slash(client, spelling):
    item = make_item(name="Linen tote")

    response = client.get(spelling.format(pk=item.pk))

    assert response.status_code == 200
    assert "Linen tote" in response.content.decode()
    assert item.get_absolute_url() == f"/item/{item.pk}/"  # the site's own spelling


@pytest.mark.parametrize("spelling", ["/buy/{pk}", "/buy/{pk}/"])
def test_buy_answers_json_with_and_without_the_trailing_slash(client, spelling):
    item = make_item()

    response = client.get(spelling.format(pk=item.pk))

    assert response.status_code == 200
    assert response.json()["id"] and response.json()["url"]


def test_every_page_names_its_icon_and_favicon_ico_finds_it(client):
    page = client.get("/").content.decode()
    icon = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg"' in page
    assert icon.status_code == 302 and icon["Location"] == "/static/favicon.svg"


def test_with_one_live_account_the_sandbox_is_said_per_currency_never_site_wide(client, settings):
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "USD": {
            "secret_key": "sk_live_realLookingSecret0001",
            "publishable_key": "pk_live_realLookingPublic0001",
            "webhook_secret": "whsec_realLookingSecret0001",
        },
    }
    usd, eur = make_item(currency="USD"), make_item(currency="EUR")

    usd_page = client.get(usd.get_absolute_url()).content.decode()
    eur_page = client.get(eur.get_absolute_url()).content.decode()
    catalogue = client.get("/").content.decode()

    for page in (usd_page, eur_page, catalogue):
        assert "Sandbox mode" not in page  # no banner beside a live key
    assert "simulated" not in usd_page
    assert 'class="sandbox-tag" data-rail="stripe"' in eur_page


def test_with_every_account_sandboxed_the_banner_says_so_and_no_tag_repeats_it(client):
    page = client.get(make_item(currency="EUR").get_absolute_url()).content.decode()

    assert "Sandbox mode" in page
    assert "sandbox-tag" not in page


def test_the_catalogue_is_paged(client, settings):
    settings.SHOP_CATALOGUE_PAGE_SIZE = 3
    items = [make_item(name=f"Item {n:02}", price=f"{n}.50") for n in range(1, 8)]

    first = client.get("/").content.decode()
    second = client.get("/?page=2").content.decode()
    last = client.get("/?page=3").content.decode()

    # Each page: its items, each linked with its price; links to the other pages.
    assert [item.name in first for item in items] == [True] * 3 + [False] * 4
    assert [item.name in second for item in items] == [False] * 3 + [True] * 3 + [False]
    assert [item.name in last for item in items] == [False] * 6 + [True]
    assert f'href="{items[0].get_absolute_url()}"' in first and "$1.50" in first
    assert 'href="?page=2"' in first and 'href="?page=3"' in first and 'rel="next"' in first
    assert 'href="?page=1"' in second and 'rel="prev"' in second and 'rel="next"' in second
    assert 'rel="next"' not in last
    # Past the end: the last page; not a number: the first.
    assert items[6].name in client.get("/?page=99").content.decode()
    assert items[0].name in client.get("/?page=x").content.decode()


def test_a_small_catalogue_has_no_page_links(client):
    make_item(name="Notebook")

    assert 'id="catalogue-pages"' not in client.get("/").content.decode()


def test_a_catalogue_page_costs_the_same_queries_however_many_items(
    client, settings, django_assert_num_queries
):
    settings.SHOP_CATALOGUE_PAGE_SIZE = 5
    settings.SHOP_PAGE_CACHE = False  # what rendering it costs (a kept page: test_page_cache)
    for _ in range(6):
        make_item()
    client.get("/")  # the session and CSRF cookies, as a returning buyer has them
    with django_assert_num_queries(2) as small:
        client.get("/?page=2")
    for _ in range(60):
        make_item()
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/?page=2")
