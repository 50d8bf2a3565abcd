"""Kept pages (storefront.plumbing.page_cache) as buyers and the merchant see them: a change made in
the admin shows on the next view, no browser gets another's CSRF token, messages or cart, the forms
of a kept page post, and a kept page is answered without a query."""

import http.client
import logging
import re
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from storefront.models import Item, Order, Tax
from storefront.plumbing import page_cache
from storefront.tests.factories import make_item, make_tax
from storefront.tests.page_text import page_text
from storefront.tests.worker_tools import (
    app_env,
    free_port,
    procfile,
    procfile_process,
    redis_or_skip,
    wait_until,
)

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT = re.compile(r'name="next" value="([^"]*)"')


def tokens(page: str) -> set[str]:
    return set(TOKEN.findall(page))


def without_tokens(page: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', page)


def item_form(item: Item, **changes) -> dict:
    """The admin's item form as the merchant saves it."""
    return {
        "name": item.name,
        "description": item.description,
        "price_0": str(item.price.amount),
        "price_1": item.currency,
        **changes,
    }


def tax_form(tax, **changes) -> dict:
    data = {
        "display_name": tax.display_name,
        "percentage": str(tax.percentage),
        "jurisdiction": tax.jurisdiction,
        "description": tax.description,
        "currency": tax.currency,
        **changes,
    }
    for flag in ("inclusive", "applies_to_new_orders"):
        if changes.get(flag, getattr(tax, flag)):
            data[flag] = "on"
        else:
            data.pop(flag, None)
    return data


def saved(response) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]


# --- What the merchant changes shows on the next view ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_items_new_price_and_name_show_on_its_page_and_the_catalogue(admin_client):
    item = make_item(name="Linen tote", price="24.00", currency="EUR")
    buyer = Client()
    assert "€24.00" in buyer.get(item.get_absolute_url()).content.decode()
    assert "Linen tote" in buyer.get("/").content.decode()

    change = reverse("admin:storefront_item_change", args=[item.pk])
    saved(admin_client.post(change, item_form(item, name="Hemp tote", price_0="26.50")))

    page = buyer.get(item.get_absolute_url()).content.decode()
    catalogue = buyer.get("/").content.decode()
    assert "€26.50" in page and "Hemp tote" in page and "€24.00" not in page
    assert "Hemp tote" in catalogue and "€26.50" in catalogue and "Linen tote" not in catalogue
    assert "€26.50" in Client().get(item.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_new_or_deleted_item_shows_on_the_next_view(admin_client):
    kept = make_item(name="Apron")
    buyer = Client()
    assert "Mug" not in page_text(buyer.get("/"))

    add = reverse("admin:storefront_item_add")
    form = {"name": "Mug", "description": "", "price_0": "9.00", "price_1": "USD"}
    saved(admin_client.post(add, form))
    mug = Item.objects.get(name="Mug")
    assert "Mug" in buyer.get("/").content.decode()
    assert buyer.get(mug.get_absolute_url()).status_code == 200

    delete = reverse("admin:storefront_item_delete", args=[mug.pk])
    saved(admin_client.post(delete, {"post": "yes"}))
    assert "Mug" not in page_text(buyer.get("/"))
    assert buyer.get(mug.get_absolute_url()).status_code == 404
    # The admin list's bulk delete too.
    assert buyer.get(kept.get_absolute_url()).status_code == 200
    changelist = reverse("admin:storefront_item_changelist")
    bulk = {"action": "delete_selected", "_selected_action": [kept.pk], "post": "yes"}
    saved(admin_client.post(changelist, bulk))
    assert buyer.get(kept.get_absolute_url()).status_code == 404
    assert "Nothing for sale yet" in buyer.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_changed_added_or_deleted_tax_shows_on_the_item_page(admin_client):
    tax = make_tax(display_name="VAT", percentage="19", inclusive=True, currency="EUR")
    item = make_item(currency="EUR")
    buyer = Client()
    assert "VAT" not in page_text(buyer.get(item.get_absolute_url()))  # not applied

    change = reverse("admin:storefront_tax_change", args=[tax.pk])
    saved(admin_client.post(change, tax_form(tax, applies_to_new_orders=True)))
    assert "incl. VAT 19%" in buyer.get(item.get_absolute_url()).content.decode()

    tax.applies_to_new_orders = True
    saved(admin_client.post(change, tax_form(tax, percentage="20")))
    assert "incl. VAT 20%" in buyer.get(item.get_absolute_url()).content.decode()

    add = reverse("admin:storefront_tax_add")
    extra = {"display_name": "Eco fee", "percentage": "2", "currency": "EUR"}
    saved(admin_client.post(add, extra | {"applies_to_new_orders": "on"}))
    assert "plus Eco fee 2%" in buyer.get(item.get_absolute_url()).content.decode()

    delete = reverse("admin:storefront_tax_delete", args=[tax.pk])
    saved(admin_client.post(delete, {"post": "yes"}))
    page = page_text(buyer.get(item.get_absolute_url()))
    assert "VAT" not in page and "plus Eco fee 2%" in page


@pytest.mark.django_db(transaction=True)
def test_a_buy_now_order_gets_the_taxes_its_page_shows_after_each_admin_change(admin_client):
    """The taxes for new orders are kept with the pages (a /buy reads none): an admin's change
    applies to the next order as it shows on the next page, never an order behind its page."""
    tax = make_tax(display_name="VAT", percentage="19", inclusive=True, currency="EUR")
    item = make_item(price="24.00", currency="EUR")

    def bought() -> list[tuple[str, str]]:
        buyer = Client()
        assert buyer.get(f"/buy/{item.pk}").status_code == 200
        order = Order.objects.latest("pk")
        return sorted((t.display_name, str(t.percentage.normalize())) for t in order.taxes.all())

    assert bought() == []  # the tax is not applied to new orders yet
    assert bought() == []  # and kept so

    change = reverse("admin:storefront_tax_change", args=[tax.pk])
    saved(admin_client.post(change, tax_form(tax, applies_to_new_orders=True)))
    assert bought() == [("VAT", "19")]

    tax.applies_to_new_orders = True
    add = reverse("admin:storefront_tax_add")
    extra = {"display_name": "Eco fee", "percentage": "2", "currency": "EUR"}
    saved(admin_client.post(add, extra | {"applies_to_new_orders": "on"}))
    assert bought() == [("Eco fee", "2"), ("VAT", "19")]

    delete = reverse("admin:storefront_tax_delete", args=[tax.pk])
    saved(admin_client.post(delete, {"post": "yes"}))
    assert bought() == [("Eco fee", "2")]
    assert "plus Eco fee 2%" in Client().get(item.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_buy_now_order_is_charged_the_price_its_page_shows_after_an_admin_change(admin_client):
    """The item a /buy sells is kept with the pages too: the price saved in the admin is the
    next order's, as it is the next page's."""
    item = make_item(price="24.00", currency="EUR")

    def bought() -> tuple[str, int]:
        assert Client().get(f"/buy/{item.pk}").status_code == 200
        order = Order.objects.latest("pk")
        return str(order.lines.get().unit_price.amount), order.priced_total

    assert bought() == ("24.00", 2400)
    assert bought() == ("24.00", 2400)  # kept

    change = reverse("admin:storefront_item_change", args=[item.pk])
    saved(admin_client.post(change, item_form(item, price_0="26.50")))
    assert bought() == ("26.50", 2650)


@pytest.mark.django_db(transaction=True)
def test_an_item_deleted_behind_the_pages_back_is_refused_not_a_500(client):
    """A kept item deleted from a shell (the pages not told): the database refuses the new
    order's line, nothing is left of it, and from then on nothing kept is trusted."""
    item = make_item(price="24.00", currency="EUR", name="Linen tote")
    assert Client().get(f"/buy/{item.pk}").status_code == 200  # the item is kept now
    Order.objects.all().delete()
    Item.objects.filter(pk=item.pk).delete()  # a shell: no admin, no shop_pages_changed

    refused = Client().get(f"/buy/{item.pk}")
    assert refused.status_code == 409
    assert refused.json()["error"] == "Linen tote is no longer sold."
    assert not Order.objects.exists()
    assert Client().get(f"/buy/{item.pk}").status_code == 404
    assert client.get(f"/item/{item.pk}/").status_code == 404  # its kept page dropped too


def buy_now(item) -> int:
    return Client().get(f"/buy/{item.pk}").status_code


def add_to_a_new_order(item) -> int:
    return Client().post("/order/add/", {"item": item.pk, "quantity": 1}).status_code


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("order_made", "status"), [(buy_now, 200), (add_to_a_new_order, 302)])
def test_a_tax_deleted_behind_the_pages_back_leaves_the_next_order_without_it(order_made, status):
    """The kept taxes for new orders name a tax deleted from a shell: the next order (bought
    now, or added to) is made again with the taxes as they are now, neither refused nor a 500."""
    tax = make_tax(
        display_name="VAT",
        percentage="19",
        inclusive=True,
        currency="EUR",
        applies_to_new_orders=True,
    )
    item = make_item(price="24.00", currency="EUR")
    assert order_made(item) == status
    assert list(Order.objects.latest("pk").taxes.all()) == [tax]
    Tax.objects.filter(pk=tax.pk).delete()  # a shell

    assert order_made(item) == status
    order = Order.objects.latest("pk")
    assert not order.taxes.exists()
    assert order.lines.get().quantity == 1
    # A buy-now order is priced as it is made, without the deleted tax (an added one is not yet).
    assert order.priced_total == (2400 if order_made is buy_now else None)
    assert Order.objects.count() == 2  # nothing half-made left by the refused try


def test_a_tax_change_made_in_another_process_applies_to_the_next_buy_now(settings):
    """Another process's admin save replaces the page version in the shared cache: this
    process's kept taxes are out of date with it, as its kept pages are."""
    from django.core.cache import cache

    settings.SHOP_PAGE_VERSION_SECONDS = 0  # read the version at every request
    tax = make_tax(display_name="VAT", percentage="19", inclusive=True, currency="EUR")
    item = make_item(price="24.00", currency="EUR")
    assert Client().get(f"/buy/{item.pk}").status_code == 200
    assert not Order.objects.latest("pk").taxes.exists()

    tax.applies_to_new_orders = True
    tax.save()  # as the other process's admin did, which then replaced the version:
    cache.set(page_cache.VERSION_KEY, "changed-elsewhere", timeout=None)

    assert Client().get(f"/buy/{item.pk}").status_code == 200
    assert list(Order.objects.latest("pk").taxes.all()) == [tax]


def test_a_currency_offered_or_withdrawn_shows_on_the_next_view(client, settings, offer_currency):
    settings.SHOP_CURRENCIES = [*settings.SHOP_CURRENCIES, "JPY"]  # sold, no account yet
    item = make_item(price="500", currency="JPY")
    assert 'id="buy-button"' not in client.get(item.get_absolute_url()).content.decode()

    offer_currency("JPY")
    assert 'id="buy-button"' in client.get(item.get_absolute_url()).content.decode()

    settings.STRIPE_SANDBOX = False  # production without JPY keys: not available any more
    page = client.get(item.get_absolute_url()).content.decode()
    assert 'id="buy-button"' not in page and "not available" in page


def test_load_demo_shows_its_catalogue_at_once(client, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    assert "Nothing for sale yet" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", verbosity=0)

    assert "Nothing for sale yet" not in client.get("/").content.decode()


def test_a_change_made_outside_the_admin_shows_once_said(
    client, django_capture_on_commit_callbacks
):
    item = make_item(price="10.00")
    assert "$10.00" in client.get(item.get_absolute_url()).content.decode()

    Item.objects.filter(pk=item.pk).update(price="12.00")  # a shell, a data fix
    assert "$10.00" in client.get(item.get_absolute_url()).content.decode()  # still kept
    with django_capture_on_commit_callbacks(execute=True):
        page_cache.shop_pages_changed()

    assert "$12.00" in client.get(item.get_absolute_url()).content.decode()


def test_the_version_changes_only_when_the_change_commits(
    admin_client, django_capture_on_commit_callbacks
):
    item = make_item(price="10.00")
    client = Client()
    client.get(item.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=False) as pending:
        saved(
            admin_client.post(
                reverse("admin:storefront_item_change", args=[item.pk]),
                item_form(item, price_0="11.00"),
            )
        )
    # Not yet committed (here: never): pages rendered meanwhile may still be kept as they were.
    assert len(pending) == 1
    assert "$10.00" in client.get(item.get_absolute_url()).content.decode()
    pending[0]()
    assert "$11.00" in client.get(item.get_absolute_url()).content.decode()


# --- Nothing of one browser reaches another --------------------------------------------------


def test_each_browser_gets_its_own_csrf_token_in_a_kept_page(django_assert_num_queries):
    item = make_item(name="Linen tote")
    first, second = Client(), Client()

    page_one = first.get(item.get_absolute_url())
    with django_assert_num_queries(0):  # the kept page
        page_two = second.get(item.get_absolute_url())

    one, two = page_one.content.decode(), page_two.content.decode()
    cookie_one = page_one.cookies["csrftoken"].value
    cookie_two = page_two.cookies["csrftoken"].value
    assert cookie_one != cookie_two
    (token_one,), (token_two,) = tokens(one), tokens(two)
    assert _unmask_cipher_token(token_one) == cookie_one
    assert _unmask_cipher_token(token_two) == cookie_two
    assert token_one not in two and cookie_one not in two
    assert without_tokens(one) == without_tokens(two)  # the same page otherwise


def test_a_returning_browser_keeps_its_csrf_cookie(client):
    item = make_item()
    first = client.get(item.get_absolute_url())
    cookie = first.cookies["csrftoken"].value

    again = client.get(item.get_absolute_url())

    (token,) = tokens(again.content.decode())
    assert _unmask_cipher_token(token) == cookie
    assert client.cookies["csrftoken"].value == cookie


def test_a_browser_with_an_order_gets_the_same_page_as_anyone(django_assert_num_queries):
    item, other = make_item(name="Linen tote"), make_item(name="Mug")
    shopper = Client()
    shopper.post("/order/add/", {"item": other.pk, "quantity": 2})
    order = Order.objects.get()
    shopper.get("/order/")  # its message shown
    newcomer = Client()
    newcomer_page = newcomer.get(item.get_absolute_url()).content.decode()

    with django_assert_num_queries(0):  # no session read, no cart looked up
        response = shopper.get(item.get_absolute_url())
    page = response.content.decode()

    assert without_tokens(page) == without_tokens(newcomer_page)
    assert f"/order/{order.pk}/" not in page and order.access_key not in page
    assert "sessionid" not in response.cookies  # the session is not saved again


def test_a_browsers_messages_are_its_own_and_never_kept(client):
    eur, usd = make_item(currency="EUR"), make_item(name="Dollar mug", currency="USD")
    client.post("/order/add/", {"item": eur.pk, "quantity": 1})
    Client().get(usd.get_absolute_url())  # someone else's view keeps the page

    # An item in another currency cannot join the order: back to its page, saying why.
    refused = client.post(
        "/order/add/", {"item": usd.pk, "quantity": 1, "next": usd.get_absolute_url()}
    )
    assert refused.status_code == 302 and refused["Location"] == usd.get_absolute_url()
    with_message = client.get(usd.get_absolute_url()).content.decode()
    others = Client().get(usd.get_absolute_url()).content.decode()
    again = client.get(usd.get_absolute_url()).content.decode()

    assert 'role="alert"' in with_message and "EUR" in with_message
    assert "Dollar mug" in others and 'class="messages"' not in others
    assert 'class="messages"' not in again  # said once


# --- The forms of a kept page work ---------------------------------------------------------


def form_fields(page: str) -> dict:
    """The hidden fields of the page's (first) Add to order form."""
    (token,) = tokens(page)  # every form of a page carries the same
    return {"csrfmiddlewaretoken": token, "next": NEXT.search(page)[1]}


def test_a_new_browser_adds_to_its_order_from_a_kept_page():
    item = make_item(name="Linen tote")
    Client().get(item.get_absolute_url())  # kept
    buyer = Client(enforce_csrf_checks=True)

    page = buyer.get(item.get_absolute_url()).content.decode()
    fields = form_fields(page)
    added = buyer.post("/order/add/", {"item": item.pk, "quantity": 2, **fields})

    assert fields["next"] == item.get_absolute_url()
    assert added.status_code == 302 and added["Location"] == reverse("storefront:cart")
    assert Order.objects.get().lines.get().quantity == 2


def test_a_browser_with_an_order_adds_from_a_kept_catalogue_page(settings):
    settings.SHOP_CATALOGUE_PAGE_SIZE = 2
    items = [make_item(name=f"Item {n}") for n in range(1, 5)]
    Client().get("/?page=2")  # kept
    buyer = Client(enforce_csrf_checks=True)
    first = buyer.get("/").content.decode()
    buyer.post("/order/add/", {"item": items[0].pk, "quantity": 1, **form_fields(first)})
    buyer.get(reverse("storefront:cart"))  # where it is told what was added

    page = buyer.get("/?page=2&utm_source=mail").content.decode()
    fields = form_fields(page)
    added = buyer.post("/order/add/", {"item": items[2].pk, "quantity": 1, **fields})

    # Each browser's own address, as it asked for it, escaped as the template escapes it.
    assert fields["next"] == "/?page=2&amp;utm_source=mail"
    assert added.status_code == 302
    order = Order.objects.get()
    assert sorted(line.item_id for line in order.lines.all()) == [items[0].pk, items[2].pk]


def test_a_kept_page_answers_with_the_same_headers_as_a_rendered_one(settings):
    item = make_item()

    rendered = Client().get(item.get_absolute_url())
    kept = Client().get(item.get_absolute_url())

    for response in (rendered, kept):
        assert response.status_code == 200
    for name in (
        "Content-Type",
        "Content-Security-Policy",
        "Permissions-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Vary",
    ):
        assert kept.get(name) == rendered.get(name), name
    assert "nonce" not in kept["Content-Security-Policy"]
    assert set(kept.cookies) == set(rendered.cookies) == {"csrftoken"}


# --- Queries ---------------------------------------------------------------------------------


def test_a_kept_page_costs_no_query_and_a_rendered_one_its_own(
    client, settings, django_assert_num_queries
):
    settings.SHOP_CATALOGUE_PAGE_SIZE = 5
    item = make_item()
    for _ in range(12):
        make_item()
    make_tax(currency="USD", applies_to_new_orders=True)

    with django_assert_num_queries(2):  # the item and its taxes
        client.get(item.get_absolute_url())
    with django_assert_num_queries(2):  # the bounded count and the page's items
        client.get("/?page=2")
    with django_assert_num_queries(0):
        client.get(item.get_absolute_url())
    with django_assert_num_queries(0):
        client.get("/?page=2")
    with django_assert_num_queries(0):
        Client().get("/?page=2")


def test_without_the_page_cache_every_view_renders(client, settings, django_assert_num_queries):
    settings.SHOP_PAGE_CACHE = False
    item = make_item()
    client.get(item.get_absolute_url())

    with django_assert_num_queries(2):
        client.get(item.get_absolute_url())


# --- The shared cache down -------------------------------------------------------------------


def test_with_the_shared_cache_down_pages_are_rendered_and_it_is_said_once(
    settings, caplog, django_assert_num_queries
):
    item = make_item(name="Linen tote")
    Client().get(item.get_absolute_url())  # kept while the cache answered
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    with caplog.at_level(logging.WARNING, logger="storefront.plumbing.page_cache"):
        first = Client().get(item.get_absolute_url())
        with django_assert_num_queries(2):  # not asked again for a while: rendered
            second = Client().get(item.get_absolute_url())

    assert first.status_code == second.status_code == 200
    assert "Linen tote" in second.content.decode() and tokens(second.content.decode())
    said = [r for r in caplog.records if r.name == "storefront.plumbing.page_cache"]
    assert len(said) == 1 and "ConnectionError" in said[0].getMessage()


# --- Several processes, as a deployed shop runs ----------------------------------------------


class Visitor:
    """A browser of its own against one app process: its cookies, plain HTTP/1.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            connection.close()

    def get(self, path: str) -> str:
        status, text = self.request("GET", path)
        assert status == 200, (status, text[:500])
        return text

    def admin_login(self, username: str, password: str) -> None:
        page = self.get("/admin/login/")
        status, _ = self.request(
            "POST",
            "/admin/login/",
            {"username": username, "password": password, **csrf_field(page), "next": "/admin/"},
        )
        assert status == 302 and "sessionid" in self.cookies

    def admin_save(self, path: str, form: dict) -> None:
        page = self.get(path)
        status, text = self.request("POST", path, {**form, **csrf_field(page), "_save": "Save"})
        assert status == 302, text[:2000]


def csrf_field(page: str) -> dict:
    return {"csrfmiddlewaretoken": TOKEN.search(page)[1]}


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """The static files as the build step collects them (production settings serve the hashed
    names of its manifest)."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = app_env(root.parent, STATIC_ROOT=str(root))
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    return root


@contextmanager
def two_app_processes(tmp_path, static_root, **env_changes):
    """Two instances of the Procfile's web command (one gunicorn worker each) on the test's
    database, each with its own memory: their ports."""
    env = app_env(tmp_path, STATIC_ROOT=str(static_root), **env_changes)
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            command = procfile()["web"].replace("0.0.0.0:$PORT", "127.0.0.1:$PORT")
            web = stack.enter_context(
                procfile_process(
                    "web",
                    {**env, "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"},
                    tmp_path,
                    command=command,
                )
            )
            wait_until(lambda p=port: _serving(p), timeout=30, what=f"gunicorn:\n{web.output()}")
        yield ports


def _serving(port: int) -> bool:
    try:
        return Visitor(port).request("GET", "/healthz")[0] == 200
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_a_change_saved_through_one_process_shows_on_the_others_kept_pages(tmp_path, static_root):
    redis_or_skip()
    merchant_login = ("merchant", "a long local passphrase")
    user = get_user_model().objects.create_superuser(merchant_login[0], "", None)
    # Hashed as the app processes check it (the tests' own hasher is MD5, for speed).
    user.password = PBKDF2PasswordHasher().encode(merchant_login[1], "salt", iterations=1000)
    user.save()
    item = make_item(name="Linen tote", price="24.00", currency="EUR")

    with two_app_processes(tmp_path, static_root) as (admin_side, shop_side):
        buyer = Visitor(shop_side)
        assert "€24.00" in buyer.get(item.get_absolute_url())
        # Kept there: a row changed behind the shop's back (no shop_pages_changed) is not seen.
        Item.objects.filter(pk=item.pk).update(description="Changed behind its back.")
        assert "behind its back" not in buyer.get(item.get_absolute_url())

        merchant = Visitor(admin_side)
        merchant.admin_login(*merchant_login)
        change = reverse("admin:storefront_item_change", args=[item.pk])
        item.refresh_from_db()
        merchant.admin_save(change, item_form(item, price_0="26.50"))

        # Within the quarter second the other process trusts the version it read.
        def new_price_shown() -> str | None:
            page = buyer.get(item.get_absolute_url())
            return page if "€26.50" in page else None

        page = wait_until(new_price_shown, timeout=10, what="the new price on the other side")
        assert "€24.00" not in page and "behind its back" in page


@pytest.mark.django_db(transaction=True)
def test_without_a_shared_cache_no_process_keeps_pages(tmp_path, static_root):
    item = make_item(name="Linen tote", price="24.00", currency="EUR")

    with two_app_processes(tmp_path, static_root, REDIS_URL="") as (one, other):
        assert "€24.00" in Visitor(one).get(item.get_absolute_url())
        Item.objects.filter(pk=item.pk).update(price="26.50")

        # No process could learn of another's change: each renders every page.
        assert "€26.50" in Visitor(one).get(item.get_absolute_url())
        assert "€26.50" in Visitor(other).get(item.get_absolute_url())
