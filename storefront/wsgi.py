"""WSGI entry point (gunicorn storefront.wsgi).

The app refuses to serve a configuration that cannot work, with a message naming the variable
to set:
every system check error, deployment checks included: notably a missing or weak SECRET_KEY with
DEBUG off (storefront.E001) and a currency with no Stripe keys and no STRIPE_SANDBOX=1
(payments.E002) or half a Stripe account. The release step runs `check --deploy` first for the
same reason; gunicorn runs no checks, so this module runs them before the first request, in
each worker (it takes a few milliseconds).
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
        for message in checks.run_checks(include_deployment_checks=True)
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
