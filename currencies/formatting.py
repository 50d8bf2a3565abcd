"""How amounts are shown to people: `$19.99`, `€24.00`, `¥1,500`, `2 500,00 ₽`, `3 600,00 ₴`.

An amount is written as the page's language writes its currency where that language has a
symbol for it (an English page: `$`, `€`, `£`, `¥`). Where it has none, CLDR would fall back to
the bare ISO code ("RUB2,500.00"), which no buyer writes: the amount is then written as the
currency's own country writes it (roubles as in Russia, hryvnias as in Ukraine), symbol,
separators and placement alike. Both come from Babel's copy of CLDR; nothing is hand-written.
"""

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import format_currency, get_currency_symbol
from django.utils.translation import get_language, to_locale

# Prices are shown with the symbols an English-speaking buyer expects ("$" for USD, "€" for EUR),
# whatever the server's own locale.
DEFAULT_LOCALE = "en_US"


def page_locale() -> str:
    """The locale of the language being served (`en_US` unless a page says otherwise)."""
    language = get_language()
    locale = to_locale(language) if language else DEFAULT_LOCALE
    return locale if "_" in locale else DEFAULT_LOCALE


def format_money(amount: Decimal, currency: str, *, locale: str | None = None) -> str:
    """Format an amount in its currency with CLDR's symbol and digits for that currency."""
    currency = currency.upper()
    return _formatted(amount, currency, buyers_locale(currency, locale or page_locale()))


def currency_symbol(currency: str, *, locale: str | None = None) -> str:
    """The symbol `format_money` writes for `currency` (`₽` for RUB on an English page)."""
    currency = currency.upper()
    return get_currency_symbol(currency, buyers_locale(currency, locale or page_locale()))


@lru_cache(maxsize=256)
def buyers_locale(currency: str, page_locale: str) -> str:
    """The locale an amount in `currency` is written in on a page in `page_locale`: the page's
    own where it has a symbol for the currency, else the currency's home country's."""
    if get_currency_symbol(currency, page_locale) != currency:
        return page_locale
    return home_locale(currency) or page_locale


@lru_cache(maxsize=256)
def home_locale(currency: str) -> str | None:
    """The locale of the country whose own currency `currency` is (`RUB` → `ru_RU`, `UAH` →
    `uk_UA`), in its most spoken official language; None for a currency of no one country."""
    territory = currency[:2]  # ISO 4217 codes of national currencies start with the country's
    in_use = [
        code
        for code, _start, end, tender in get_global("territory_currencies").get(territory, [])
        if end is None and tender
    ]
    if currency not in in_use:
        return None
    languages = get_global("territory_languages").get(territory, {})
    official = [
        (facts.get("population_percent") or 0, language)
        for language, facts in languages.items()
        if facts.get("official_status") in ("official", "de_facto_official")
    ]
    for _share, language in sorted(official, reverse=True):
        try:
            return str(Locale.parse(f"{language}_{territory}"))
        except (UnknownLocaleError, ValueError):
            continue
    return None


# Babel parses the locale's pattern on every call (a third of a catalogue page's time once);
# pages show the same few prices over and over. Equal amounts format alike, so caching on the
# value is exact.
@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)
