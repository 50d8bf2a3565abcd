from django.apps import AppConfig
from django.core import checks


class BankTransferConfig(AppConfig):
    """The bank-transfer rail: organisations, their ledger, its webhook, API and checks."""

    name = "payments.bank_transfer"
    label = "payments_bank_transfer"
    verbose_name = "Bank transfers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments.bank_transfer.checks import check_bank_transfer

        # Tagged `deploy`, like Stripe's: `check --deploy`, the release step and every gunicorn
        # worker run it; makemigrations does not.
        checks.register(check_bank_transfer, checks.Tags.security, deploy=True)
