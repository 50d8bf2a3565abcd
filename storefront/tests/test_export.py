"""CSV export of orders: one row per line, the figures Checkout charged, per currency's decimals."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from payments.models import Payment
from storefront.backoffice.exports import BOM, HEADER, csv_rows, orders_csv_response
from storefront.models import Order
from storefront.tests.factories import make_discount, make_item, make_order, make_tax

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(BOM.encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def three_orders(offer_currency, pay_order):
    """A paid USD order, a paid EUR order and an open JPY order, with awkward names."""
    offer_currency("JPY")
    usd = make_order(
        (make_item(name="Field Notes Notebook", price="19.99"), 2),
        (make_item(name='Mug, "enamel"', price="12.50"), 1),
        discount=make_discount(name="Welcome", percent_off="10"),
        taxes=(make_tax(display_name="Sales tax", percentage="8.875"),),
    )
    eur = make_order(
        (make_item(name="Sac en lin, édition €", price="24.00", currency="EUR"), 1),
        (make_item(name="Ceramic Dripper", price="38.00", currency="EUR"), 1),
        discount=make_discount(name="Five euros off", amount_off="5.00", currency="EUR"),
        taxes=(make_tax(display_name="VAT", percentage="19", inclusive=True),),
    )
    jpy = make_order(
        (make_item(name="手ぬぐい Tenugui", price="1500", currency="JPY"), 3),
        (make_item(name="Chopsticks", price="800", currency="JPY"), 1),
        discount=make_discount(name="Fifteen", percent_off="15"),
        taxes=(make_tax(display_name="Consumption tax", percentage="8"),),
    )
    usd_payment = pay_order(usd)
    eur_payment = pay_order(eur)
    return usd, eur, jpy, usd_payment, eur_payment


def test_every_line_of_usd_eur_and_jpy_orders_with_the_charged_figures(three_orders):
    usd, eur, jpy, usd_payment, eur_payment = three_orders
    date = {o.pk: f"{o.created:%Y-%m-%d %H:%M:%S}" for o in (usd, eur, jpy)}
    usd_pi, eur_pi = usd_payment.provider_payment_ref, eur_payment.provider_payment_ref
    assert usd_pi.startswith("pi_") and eur_pi.startswith("pi_")

    rows = read_csv(orders_csv_response(Order.objects.all()))

    # fmt: off
    assert rows == [
        ["order_id", "date", "status", "currency", "item", "quantity", "unit_price",
         "line_total", "discount", "tax", "order_total", "payment_id", "refunded", "state",
         "email"],
        # 39.98 − 4.00 = 35.98, + 8.875 % = 3.19 -> 39.17; 12.50 − 1.25 = 11.25, + 1.00 -> 12.25.
        [str(usd.pk), date[usd.pk], "paid", "USD", "Field Notes Notebook", "2", "19.99",
         "39.17", "4.00", "3.19", "51.42", usd_pi, "0.00", "paid", "buyer@example.com"],
        [str(usd.pk), date[usd.pk], "paid", "USD", 'Mug, "enamel"', "1", "12.50",
         "12.25", "1.25", "1.00", "51.42", usd_pi, "0.00", "paid", "buyer@example.com"],
        # €5 spread over 24 and 38: 1.94 + 3.06; VAT 19/119 of 22.06 and 34.94, included.
        [str(eur.pk), date[eur.pk], "paid", "EUR", "Sac en lin, édition €", "1", "24.00",
         "22.06", "1.94", "3.52", "57.00", eur_pi, "0.00", "paid", "buyer@example.com"],
        [str(eur.pk), date[eur.pk], "paid", "EUR", "Ceramic Dripper", "1", "38.00",
         "34.94", "3.06", "5.58", "57.00", eur_pi, "0.00", "paid", "buyer@example.com"],
        # Yen have no decimals: 4500 − 675 = 3825, + 8 % = 306; 800 − 120 = 680, + 54.
        [str(jpy.pk), date[jpy.pk], "open", "JPY", "手ぬぐい Tenugui", "3", "1500",
         "4131", "675", "306", "4865", "", "0", "open", ""],
        [str(jpy.pk), date[jpy.pk], "open", "JPY", "Chopsticks", "1", "800",
         "734", "120", "54", "4865", "", "0", "open", ""],
    ]
    # fmt: on


def test_lines_add_up_to_the_order(three_orders):
    rows = read_csv(orders_csv_response(Order.objects.all()))[1:]

    for order_id in {row[0] for row in rows}:
        lines = [row for row in rows if row[0] == order_id]
        assert sum(Decimal(row[7]) for row in lines) == Decimal(lines[0][10])
        assert len({row[10] for row in lines}) == 1


def test_the_response_is_a_streamed_utf8_download():
    make_order((make_item(price="1.00"), 1))

    response = orders_csv_response(Order.objects.all(), filename="orders.csv")

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbforder_id,date,status,")
    assert body.count(b"\r\n") == 2  # header and one line, with the CSV standard's line ends


def test_the_header_is_stable_even_for_no_orders():
    assert read_csv(orders_csv_response(Order.objects.none())) == [HEADER]
    assert HEADER == [
        "order_id",
        "date",
        "status",
        "currency",
        "item",
        "quantity",
        "unit_price",
        "line_total",
        "discount",
        "tax",
        "order_total",
        "payment_id",
        "refunded",
        "state",
        "email",
    ]


def test_the_payment_that_fulfilled_the_order_is_named_not_a_flagged_second_one(three_orders):
    usd, *_ = three_orders
    fulfilling = Payment.objects.get(reference=f"order-{usd.pk}")
    Payment.objects.create(
        rail="stripe",
        account="pk_test_sandbox_usd",
        reference=usd.payment_reference,
        provider_ref="pi_second_one",
        amount_expected=5142,
        amount_received=5142,
        currency="USD",
        status=Payment.Status.SUCCEEDED,
        attention_note="already paid: refund this payment",
    )

    rows = read_csv(orders_csv_response(Order.objects.filter(pk=usd.pk)))

    assert {row[11] for row in rows[1:]} == {fulfilling.provider_payment_ref}


def test_many_orders_cost_a_bounded_number_of_queries(django_assert_max_num_queries):
    item = make_item(price="2.50")
    tax = make_tax(percentage="5")
    for _ in range(450):  # three batches
        make_order((item, 2), taxes=(tax,))

    # Five per batch of 200, whatever the batch holds: orders, lines, taxes, the paying
    # payments, and where each order's money stands (refunds, disputes).
    with django_assert_max_num_queries(15):
        rows = list(csv_rows(Order.objects.all()))

    assert len(rows) == 451
    assert rows[1][7] == "5.25"


def test_the_admin_action_exports_the_selected_orders_only(admin_client, three_orders):
    _, eur, jpy, *_ = three_orders

    response = admin_client.post(
        reverse("admin:storefront_order_changelist"),
        {"action": "export_csv", "_selected_action": [str(eur.pk), str(jpy.pk)]},
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = read_csv(response)
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == [str(eur.pk)] * 2 + [str(jpy.pk)] * 2


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
     "\tTabbed", "\rReturned"],
)  # fmt: skip
def test_a_name_a_spreadsheet_would_run_is_exported_as_text(name):
    make_order((make_item(name=name), 1))

    rows = read_csv(orders_csv_response(Order.objects.all()))

    assert rows[1][HEADER.index("item")] == "'" + name


def test_ordinary_names_and_figures_are_exported_as_they_are():
    make_order((make_item(name="Linen tote - 5% off", price="24.00", currency="EUR"), 2))

    row = read_csv(orders_csv_response(Order.objects.all()))[1]

    assert row[HEADER.index("item")] == "Linen tote - 5% off"
    assert row[HEADER.index("unit_price")] == "24.00"
