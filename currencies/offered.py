"""Which currencies this shop sells in: settings.SHOP_CURRENCIES (each taken by its own Stripe
account), and settings.RAIL_CURRENCIES of the rails that run (each taken by that rail only, as
RUB by bank transfer: it has no Stripe account). Rails are named by their dotted paths, never
imported: money rules know no payment code."""

from django.conf import settings

from currencies.minor_units import STRIPE_CURRENCIES

# Every currency Stripe can charge in, for model choices. Kept static so that migrations do not
# change when the environment offers another currency; what is *offered* is checked separately.
CURRENCY_CHOICES = [(code, code) for code in sorted(STRIPE_CURRENCIES)]


def offered_currencies() -> list[str]:
    """Return the upper-case codes the shop currently sells in: Stripe's accounts' currencies,
    and each currency that a running rail alone takes (settings.RAIL_CURRENCIES)."""
    codes = set(settings.SHOP_CURRENCIES)
    codes.update(
        code for path, code in settings.RAIL_CURRENCIES.items() if path in settings.PAYMENT_RAILS
    )
    return sorted(codes)


def is_offered(currency: str) -> bool:
    return currency.upper() in offered_currencies()


def offered_choices(choices, *, keep: str = "") -> list[tuple[str, str]]:
    """`choices` (a currency field's, every currency Stripe has) narrowed to what a form should
    offer: the currencies the shop sells in, a blank choice if there was one, and `keep` (the
    currency a row already has, though no longer offered, so that saving it changes nothing)."""
    wanted = {*offered_currencies(), keep.upper()} - {""}
    return [(code, label) for code, label in choices if code == "" or code in wanted]
