from django.apps import AppConfig
from django.core import checks


class PayPartsRailConfig(AppConfig):
    """The Pay in parts rail: its templates, script, checks and signals."""

    name = "payments.payparts"
    label = "payments_payparts"
    verbose_name = "PrivatBank Pay in parts"

    def ready(self) -> None:
        from payments.models import ReceivedNotification
        from payments.payparts.checks import check_payparts_store
        from payments.payparts.receivers import invalid_callback_announce
        from payments.signals import notification_rejected

        # Tagged `deploy`, as Stripe's: `check --deploy`, the release step and every worker.
        checks.register(check_payparts_store, checks.Tags.security, deploy=True)
        notification_rejected.connect(
            invalid_callback_announce, sender=ReceivedNotification, dispatch_uid="payparts-invalid"
        )
