"""Amounts as their buyers read them: the page's own way where it has a symbol for the
currency, the currency's own country's way where it has none."""

from decimal import Decimal

import pytest

from currencies.formatting import currency_symbol, format_money, home_locale

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("8.75", "USD", "$8.75"),
        ("14.50", "EUR", "€14.50"),
        ("3.00", "GBP", "£3.00"),
        ("1500", "JPY", "¥1,500"),
        # An English page has no symbol for these: CLDR would write "RUB2,500.00".
        ("2500.00", "RUB", f"2{NBSP}500,00{NBSP}₽"),
        ("3600.00", "UAH", f"3{NBSP}600,00{NBSP}₴"),
        ("1000", "ISK", f"1.000{NBSP}kr."),
    ],
)
def test_each_currency_reads_as_its_buyers_write_it(amount, currency, shown):
    assert format_money(Decimal(amount), currency) == shown


def test_no_amount_is_written_with_a_bare_iso_code_where_a_symbol_exists():
    for currency in ("RUB", "UAH", "USD", "EUR", "JPY"):
        assert currency not in format_money(Decimal("10"), currency)


def test_a_page_in_another_language_keeps_its_own_way_where_it_has_a_symbol():
    assert format_money(Decimal("14.5"), "EUR", locale="de_DE") == f"14,50{NBSP}€"


def test_a_currency_of_no_one_country_keeps_the_page_locale():
    assert home_locale("EUR") is None and home_locale("XOF") is None
    assert format_money(Decimal("14.50"), "EUR") == "€14.50"


def test_the_symbol_is_the_one_the_amount_is_written_with():
    assert currency_symbol("RUB") == "₽"
    assert currency_symbol("USD") == "$"
    assert currency_symbol("UAH") in format_money(Decimal("1"), "UAH")
