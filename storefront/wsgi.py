"""WSGI entry point (gunicorn storefront.wsgi).

The app refuses to serve a configuration that cannot work, with a message naming the variable
to set:
- a missing or weak SECRET_KEY with DEBUG off is refused by the settings themselves, so every
  command refuses it too;
- everything else the system checks call an error, notably a currency with no Stripe keys and
  no STRIPE_SANDBOX=1 (payments.E002) or half a Stripe account, is refused here. `runserver`
  and `migrate` (the release step) run the checks themselves; gunicorn does not, so this
  module runs them before the first request, in each worker (it takes a few milliseconds).
"""

import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")

application = get_wsgi_application()


def refuse_misconfiguration() -> None:
    """Raise ImproperlyConfigured listing every system check error (and its hint), if any."""
    errors = [
        message
        for message in checks.run_checks(include_deployment_checks=False)
        if message.is_serious() and not message.is_silenced()
    ]
    if errors:
        raise ImproperlyConfigured(
            "The shop cannot start with this configuration:\n"
            + "\n".join(
                f"  {message.id}: {message.msg}" + (f" {message.hint}" if message.hint else "")
                for message in errors
            )
        )


refuse_misconfiguration()
