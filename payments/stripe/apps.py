from django.apps import AppConfig
from django.core import checks


class StripeRailConfig(AppConfig):
    """The Stripe rail: its remembered coupons and tax rates, templates, scripts and checks."""

    name = "payments.stripe"
    label = "payments_stripe"
    verbose_name = "Stripe"

    def ready(self) -> None:
        from payments.stripe.checks import check_checkout_expiry, check_stripe_accounts

        # Tagged `deploy`: what a production site must have. `check --deploy`, the release step
        # and every gunicorn worker (storefront/wsgi.py) run it; makemigrations does not.
        checks.register(check_stripe_accounts, checks.Tags.security, deploy=True)
        # Everywhere: a lifetime Stripe refuses would refuse every checkout.
        checks.register(check_checkout_expiry)
