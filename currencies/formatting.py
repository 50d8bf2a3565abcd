"""How amounts are shown to people: `$19.99`, `€24.00`, `¥1,500`."""

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from django.utils.translation import get_language, to_locale

# Prices are shown with the symbols an English-speaking buyer expects ("$" for USD, "€" for EUR),
# whatever the server's own locale.
DEFAULT_LOCALE = "en_US"


def format_money(amount: Decimal, currency: str, *, locale: str | None = None) -> str:
    """Format an amount in its currency with CLDR's symbol and digits for that currency."""
    if locale is None:
        language = get_language()
        locale = to_locale(language) if language else DEFAULT_LOCALE
        if "_" not in locale:
            locale = DEFAULT_LOCALE
    return _formatted(amount, currency.upper(), locale)


# Babel parses the locale's pattern on every call (a third of a catalogue page's time once);
# pages show the same few prices over and over. Equal amounts format alike, so caching on the
# value is exact.
@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)
