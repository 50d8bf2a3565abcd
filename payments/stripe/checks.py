"""System checks of the Stripe rail: no production site with a currency that cannot take money,
no Checkout lifetime Stripe would refuse."""

from django.conf import settings
from django.core.checks import Error, Warning

from currencies.minor_units import STRIPE_CURRENCIES
from payments.rails import all_rails
from payments.stripe import NAME


def _variables(code: str) -> str:
    return ", ".join(
        f"STRIPE_{code}_{name}" for name in ("SECRET_KEY", "PUBLISHABLE_KEY", "WEBHOOK_SECRET")
    )


def check_stripe_accounts(app_configs=None, **kwargs) -> list:
    if NAME not in all_rails():
        return []  # the site does not take money through Stripe
    problems = []
    for code in settings.SHOP_CURRENCIES:
        if code not in STRIPE_CURRENCIES:
            problems.append(
                Error(
                    f"Stripe does not support the currency {code}.",
                    hint="Remove it from SHOP_CURRENCIES.",
                    id="payments.E001",
                )
            )
            continue
        keys = settings.STRIPE_ACCOUNTS[code]
        if not any(keys.values()):
            if not settings.STRIPE_SANDBOX:
                problems.append(
                    Error(
                        f"No Stripe account is configured for {code}.",
                        hint=f"Set {_variables(code)}; or STRIPE_SANDBOX=1 to take {code} "
                        "payments in the offline sandbox (demo sites only).",
                        id="payments.E002",
                    )
                )
            continue
        missing = [
            f"STRIPE_{code}_{name.upper()}"
            for name in ("secret_key", "publishable_key")
            if not keys[name]
        ]
        if missing:
            problems.append(
                Error(
                    f"The Stripe account for {code} is only partly configured.",
                    hint="Set " + " and ".join(missing) + ".",
                    id="payments.E003",
                )
            )
            continue
        secret_live = keys["secret_key"].startswith(("sk_live_", "rk_live_"))
        publishable_live = keys["publishable_key"].startswith("pk_live_")
        if secret_live != publishable_live:
            problems.append(
                Error(
                    f"The {code} secret and publishable keys are not both test or both live keys.",
                    hint=f"Take both from the same mode of the {code} Stripe dashboard.",
                    id="payments.E004",
                )
            )
        if not keys["webhook_secret"]:
            problems.append(
                Warning(
                    f"STRIPE_{code}_WEBHOOK_SECRET is not set: {code} payments cannot be "
                    "confirmed by webhook.",
                    id="payments.W001",
                )
            )
    return problems


# Stripe's bounds on a Checkout Session's `expires_at`, in minutes from its creation.
CHECKOUT_EXPIRES_RANGE = (30, 24 * 60)


def check_checkout_expiry(app_configs=None, **kwargs) -> list:
    low, high = CHECKOUT_EXPIRES_RANGE
    minutes = settings.CHECKOUT_EXPIRES_MINUTES
    if isinstance(minutes, int) and low <= minutes <= high:
        return []
    return [
        Error(
            f"CHECKOUT_EXPIRES_MINUTES is {minutes!r}: Stripe takes a Checkout Session's "
            f"expiry {low} to {high} minutes after it is made.",
            hint=f"Set CHECKOUT_EXPIRES_MINUTES to a whole number from {low} to {high}.",
            id="payments.E005",
        )
    ]
