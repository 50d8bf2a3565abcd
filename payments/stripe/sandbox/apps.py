from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "payments.stripe.sandbox"
    label = "sandbox"
    verbose_name = "Stripe sandbox"
