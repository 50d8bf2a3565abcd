"""PDF invoices: what they say, read back from the file, and who may download them."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from storefront.documents.invoices import invoice_money, order_invoice_pdf
from storefront.models import Order
from storefront.tests.backoffice_tools import pdf_text, render_first_page
from storefront.tests.browser import ARTIFACTS
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seller(settings):
    settings.SHOP_NAME = "Kraft & Linen GmbH"
    settings.SHOP_ADDRESS = "Torstraße 1\n10119 Berlin\nGermany"


@pytest.fixture
def usd_order():
    """2 × $19.99 + $12.50, 10 % off, 8.875 % sales tax on top: $51.42 (the demo's USD order)."""
    return make_order(
        (make_item(name="Field Notes Notebook", price="19.99"), 2),
        (make_item(name="Enamel Camp Mug", price="12.50"), 1),
        discount=make_discount(name="Welcome 10% off", percent_off="10"),
        taxes=(make_tax(display_name="Sales tax", percentage="8.875"),),
    )


@pytest.fixture
def eur_order():
    """€24.00 + €38.00 − €5.00, 19 % VAT included: €57.00 (the demo's EUR order)."""
    return make_order(
        (make_item(name="Linen Tote Bag", price="24.00", currency="EUR"), 1),
        (make_item(name="Ceramic Pour-Over Dripper", price="38.00", currency="EUR"), 1),
        discount=make_discount(name="Five euros off", amount_off="5.00", currency="EUR"),
        taxes=(make_tax(display_name="VAT", percentage="19", inclusive=True),),
    )


def test_paid_usd_invoice_has_seller_number_lines_discount_tax_total_and_payment(
    usd_order, pay_order
):
    payment = pay_order(usd_order)

    text = pdf_text(order_invoice_pdf(order=usd_order))

    assert "Kraft & Linen GmbH" in text
    assert "Torstraße 1" in text and "10119 Berlin" in text
    assert "Invoice" in text and "Pro-forma" not in text
    assert f"Order number: {usd_order.pk}" in text
    assert "Field Notes Notebook" in text and "Enamel Camp Mug" in text
    assert "$19.99" in text and "$39.98" in text and "$12.50" in text
    assert "Subtotal" in text and "$52.48" in text
    assert "Discount: Welcome 10% off" in text and "−$5.25" in text
    assert "Sales tax 8.875% (added)" in text and "$4.19" in text
    assert "Total" in text and "$51.42" in text
    assert f"Paid on {usd_order.paid_at:%-d %B %Y}" in text
    assert payment.provider_payment_ref.startswith("pi_")
    assert payment.provider_payment_ref in text
    assert "All amounts in USD." in text


def test_eur_invoice_shows_euro_and_minus_signs_and_the_included_vat(eur_order, pay_order):
    pay_order(eur_order)

    data = order_invoice_pdf(order=eur_order)
    text = pdf_text(data)

    # 500 spread over 2400 and 3800: 194 + 306; VAT 19/119 of 2206 and 3494: 352 + 558.
    assert "€24.00" in text and "€38.00" in text
    assert "Discount: Five euros off" in text and "−€5.00" in text
    assert "VAT 19% (included)" in text and "€9.10" in text
    assert "€57.00" in text
    assert "■" not in text
    # The font is embedded (a subset of Bitstream Vera), so every viewer draws the same glyphs.
    fonts = {
        font["/BaseFont"]
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("Vera" in name or "Invoice" in name for name in fonts), fonts


def test_jpy_invoice_has_no_decimals(offer_currency, pay_order):
    offer_currency("JPY")
    order = make_order((make_item(name="Tenugui towel", price="1500", currency="JPY"), 3))
    pay_order(order)

    text = pdf_text(order_invoice_pdf(order=order))

    assert "¥1,500" in text and "¥4,500" in text
    assert "¥4,500.00" not in text


def test_a_currency_symbol_the_font_lacks_is_written_as_its_code():
    assert invoice_money(150000, "INR") == "INR\u00a01,500.00"
    assert invoice_money(4500, "JPY") == "¥4,500"
    assert invoice_money(-500, "EUR") == "-€5.00"
    # Roubles are written as in Russia; the font has no ₽, so the code stands where it was.
    assert invoice_money(250000, "RUB") == "2\u00a0500,00\u00a0RUB"


def test_an_unpaid_order_gets_a_pro_forma_invoice(usd_order):
    text = pdf_text(order_invoice_pdf(order=usd_order))

    assert "Pro-forma invoice" in text
    assert "Not paid yet." in text
    assert "This is not a receipt" in text
    assert "$51.42" in text


def test_seller_defaults_without_settings(settings, usd_order):
    settings.SHOP_NAME = ""
    settings.SHOP_ADDRESS = ""

    assert "Storefront" in pdf_text(order_invoice_pdf(order=usd_order))


# --- The buyer's link -------------------------------------------------------------------


def invoice_url(order: Order, key: str | None = None) -> str:
    url = reverse("storefront:order_invoice", args=[order.pk])
    return url if key is None else f"{url}?key={key}"


def test_the_buyer_downloads_the_invoice_of_a_paid_order_with_its_key(client, usd_order, pay_order):
    pay_order(usd_order)

    response = client.get(invoice_url(usd_order, usd_order.access_key))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="invoice-order-{usd_order.pk}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    assert "$51.42" in pdf_text(response.content)


@pytest.mark.parametrize("key", [None, "", "wrong", "demo-usd-order", "ñ-not-ascii", "x" * 500])
def test_the_invoice_link_is_refused_without_the_right_key(client, usd_order, key, pay_order):
    pay_order(usd_order)

    response = client.get(invoice_url(usd_order, key))

    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_another_orders_key_opens_nothing(client, usd_order, eur_order, pay_order):
    pay_order(usd_order)
    pay_order(eur_order)

    response = client.get(invoice_url(usd_order, eur_order.access_key))

    assert response.status_code == 404


def test_not_even_the_buyers_own_browser_or_staff_get_it_without_the_key(
    client, admin_client, usd_order, pay_order
):
    # The browser that paid remembers the order (it may see its page), but the invoice link
    # is the key: one rule for everyone. Staff use the admin's invoice button.
    pay_order(usd_order)
    session = client.session
    session["order_ids"] = [usd_order.pk]
    session.save()

    assert client.get(invoice_url(usd_order)).status_code == 404
    assert admin_client.get(invoice_url(usd_order)).status_code == 404


def test_no_invoice_for_an_unpaid_order_even_with_its_key(client, usd_order):
    response = client.get(invoice_url(usd_order, usd_order.access_key))

    assert response.status_code == 404
    assert b"not paid" in response.content


def test_no_invoice_for_an_order_that_does_not_exist(client):
    assert client.get("/order/99999/invoice.pdf?key=anything").status_code == 404


def test_the_invoice_rendered_to_png_for_a_person_to_look_at(eur_order, pay_order):
    """Saved as test-artifacts/invoice-eur.png (gitignored)."""
    pay_order(eur_order)
    data = order_invoice_pdf(order=eur_order)

    png = render_first_page(data, ARTIFACTS / "invoice-eur.png")

    assert png.stat().st_size > 10_000
    assert png.read_bytes().startswith(b"\x89PNG")


def test_a_long_invoice_runs_onto_pages_each_headed_by_the_tables_header(pay_order):
    names = [f"Item number {n:03d}" for n in range(99)]  # Checkout takes 100 lines at most
    long_name = "A very long item name that goes on and on, longer than its column ever is"
    order = make_order(
        *[(make_item(name=name, price="1.00"), 1) for name in names],
        (make_item(name=long_name, price="2.00"), 1),
    )
    pay_order(order)

    pages = PdfReader(io.BytesIO(order_invoice_pdf(order=order))).pages
    texts = [page.extract_text() for page in pages]

    assert len(pages) >= 3
    assert all(text.count("Quantity") == 1 and "Unit price" in text for text in texts)
    whole = "\n".join(texts)
    assert [name for name in names if whole.count(name) != 1] == []
    # The long name is wrapped within its column, every word kept.
    assert " ".join(whole.split()).count(long_name) == 1
    assert "$101.00" in texts[-1] and "Paid on" in texts[-1]


def test_letters_beyond_ascii_are_embedded_for_each_invoice(pay_order):
    """Each document embeds the glyphs it uses (the font's subsets are reused from one
    invoice to the next where they are the same, and made afresh where they are not)."""
    plain = make_order((make_item(name="Plain mug", price="3.00"), 1))
    polish = make_order((make_item(name="Łuk, ćma, čaj, šal, žal", price="4.00"), 1))
    pay_order(plain)
    pay_order(polish)

    assert "Plain mug" in pdf_text(order_invoice_pdf(order=plain))
    assert "Łuk, ćma, čaj, šal, žal" in pdf_text(order_invoice_pdf(order=polish))
    assert "Plain mug" in pdf_text(order_invoice_pdf(order=plain))
