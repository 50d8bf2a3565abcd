"""System checks of the "Pay in parts" rail: no production site that offers it without a
store to take the money."""

from django.conf import settings
from django.core.checks import Error

from payments.payparts import NAME, config
from payments.rails import all_rails


def check_payparts_store(app_configs=None, **kwargs) -> list:
    if NAME not in all_rails():
        return []
    password, store_id = settings.PAYPARTS_API_PASSWORD, settings.PAYPARTS_API_STORE_ID
    if bool(password) != bool(store_id):
        missing = "PAYPARTS_API_PASSWORD" if not password else "PAYPARTS_API_STORE_ID"
        return [
            Error(
                "The PrivatBank store is only partly configured.",
                hint=f"Set {missing}.",
                id="payments_payparts.E002",
            )
        ]
    if not config.configured() and not settings.PAYPARTS_SANDBOX:
        return [
            Error(
                "The Pay in parts rail is on, but no PrivatBank store is configured.",
                hint="Set PAYPARTS_API_STORE_ID and PAYPARTS_API_PASSWORD; or PAYPARTS_SANDBOX=1 "
                "for the offline sandbox bank (demo sites only); or take "
                "payments.payparts.rail.PayPartsRail out of PAYMENT_RAILS.",
                id="payments_payparts.E001",
            )
        ]
    if config.merchant_type() not in config.MERCHANT_TYPES:
        return [
            Error(
                f"PAYPARTS_MERCHANT_TYPE must be one of {', '.join(config.MERCHANT_TYPES)}.",
                id="payments_payparts.E003",
            )
        ]
    return []
