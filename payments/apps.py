from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from payments.checks import check_rails
        from payments.rails import routes_reload

        checks.register(check_rails)
        setting_changed.connect(routes_reload)
