"""System checks of the shop's own: a production site needs a real SECRET_KEY.

Tagged `deploy`, like Django's own security checks: `check --deploy`, the release step and
every gunicorn worker (storefront/wsgi.py) run them; offline commands do not need a key.
"""

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

INSECURE_PREFIX = "django-insecure-"
HINT = (
    "With DEBUG off, set SECRET_KEY to a long random string (50 characters or more), e.g. the "
    'output of: python -c "import secrets; print(secrets.token_urlsafe(64))"'
)


def check_secret_key(app_configs=None, **kwargs) -> list:
    if settings.DEBUG or settings.TESTING:
        return []
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal to read an empty key
        key = ""
    if not key:
        return [Error("SECRET_KEY is not set.", hint=HINT, id="storefront.E001")]
    # The same bar as Django's security.W009, made an error.
    if len(key) < 50 or len(set(key)) < 5 or key.startswith(INSECURE_PREFIX):
        return [
            Error(
                "SECRET_KEY is not a real secret key (too short or a placeholder).",
                hint=HINT,
                id="storefront.E001",
            )
        ]
    return []
