"""Which currencies this shop sells in: settings.SHOP_CURRENCIES (each taken by its own Stripe
account), BANK_TRANSFER_CURRENCY while the bank-transfer rail runs and PAYPARTS_CURRENCY (UAH)
while the Pay in parts rail runs (each taken by that rail only: it has no Stripe account)."""

from django.conf import settings

from currencies.minor_units import STRIPE_CURRENCIES

# Every currency Stripe can charge in, for model choices. Kept static so that migrations do not
# change when the environment offers another currency; what is *offered* is checked separately.
CURRENCY_CHOICES = [(code, code) for code in sorted(STRIPE_CURRENCIES)]


# Named, not imported: money rules know no payment code.
BANK_TRANSFER_RAIL = "payments.bank_transfer.rail.BankTransferRail"
PAYPARTS_RAIL = "payments.payparts.rail.PayPartsRail"


def offered_currencies() -> list[str]:
    """Return the upper-case codes the shop currently sells in."""
    codes = set(settings.SHOP_CURRENCIES)
    if BANK_TRANSFER_RAIL in settings.PAYMENT_RAILS:
        codes.add(settings.BANK_TRANSFER_CURRENCY.upper())
    if PAYPARTS_RAIL in settings.PAYMENT_RAILS:
        codes.add(settings.PAYPARTS_CURRENCY)
    return sorted(codes)


def is_offered(currency: str) -> bool:
    return currency.upper() in offered_currencies()
