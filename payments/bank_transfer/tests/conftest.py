"""Fixtures of the bank-transfer tests: the rail on, a known secret and token, a payee."""

import pytest

from payments.bank_transfer.tests.bank_tools import PAYEE, SECRET, TOKEN


@pytest.fixture(autouse=True)
def bank(settings):
    settings.PAYMENT_RAILS = [
        "payments.stripe.rail.StripeRail",
        "payments.bank_transfer.rail.BankTransferRail",
    ]
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_WEBHOOK_SECRET = SECRET
    settings.BANK_WEBHOOK_ALLOWED_IPS = []
    settings.BANK_API_TOKEN = TOKEN
    settings.BANK_SANDBOX = False
    settings.BANK_PAYEE = dict(PAYEE)
    return settings
