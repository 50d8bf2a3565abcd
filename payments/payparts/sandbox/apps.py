from django.apps import AppConfig


class PayPartsSandboxConfig(AppConfig):
    name = "payments.payparts.sandbox"
    label = "payparts_sandbox"
    verbose_name = "PrivatBank sandbox"
