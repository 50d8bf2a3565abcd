from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "payments.stripe.sandbox"
    label = "sandbox"
    verbose_name = "Stripe sandbox"

    def ready(self) -> None:
        from payments.stripe.sandbox import intents  # noqa: F401  (adds the PaymentIntent routes)
