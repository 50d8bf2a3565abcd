"""Which currencies this shop sells in (from settings.SHOP_CURRENCIES)."""

from django.conf import settings

from currencies.minor_units import STRIPE_CURRENCIES

# Every currency Stripe can charge in, for model choices. Kept static so that migrations do not
# change when the environment offers another currency; what is *offered* is checked separately.
CURRENCY_CHOICES = [(code, code) for code in sorted(STRIPE_CURRENCIES)]


def offered_currencies() -> list[str]:
    """Return the upper-case codes the shop currently sells in."""
    return list(settings.SHOP_CURRENCIES)


def is_offered(currency: str) -> bool:
    return currency.upper() in settings.SHOP_CURRENCIES
