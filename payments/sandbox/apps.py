from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "payments.sandbox"
    label = "sandbox"
    verbose_name = "Stripe sandbox"

    def ready(self) -> None:
        from payments.sandbox import intents  # noqa: F401  (adds the PaymentIntent routes)
