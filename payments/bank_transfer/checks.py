"""System check of the bank-transfer rail: no production site that runs it unable to
authenticate its bank or to tell buyers where to pay."""

from django.core.checks import Error

from payments.bank_transfer import NAME, config
from payments.rails import all_rails


def check_bank_transfer(app_configs=None, **kwargs) -> list:
    if NAME not in all_rails() or config.sandbox_allowed():
        return []  # the rail is off, or the sandbox bank stands in for a real one
    problems = []
    if not config.webhook_secret():
        problems.append(
            Error(
                "The bank-transfer rail is on but BANK_WEBHOOK_SECRET is not set: no bank "
                "notification could be authenticated.",
                hint="Set BANK_WEBHOOK_SECRET to the secret your bank signs with; or take "
                "payments.bank_transfer.rail.BankTransferRail out of PAYMENT_RAILS; or "
                "BANK_SANDBOX=1 on a demo site.",
                id="payments.E020",
            )
        )
    if config.payee() is None:
        problems.append(
            Error(
                "The bank-transfer rail is on but BANK_PAYEE_ACCOUNT is not set: buyers would "
                "not know where to pay.",
                hint="Set BANK_PAYEE_NAME, BANK_PAYEE_INN, BANK_PAYEE_ACCOUNT, BANK_PAYEE_BANK, "
                "BANK_PAYEE_BIC and BANK_PAYEE_CORRESPONDENT_ACCOUNT.",
                id="payments.E021",
            )
        )
    return problems
