"""Settings for the storefront, all variable parts read from the environment.

Every variable is documented in `.env.example`. A `.env` file beside `manage.py` is read when
present; real environment variables win over it.

`DJANGO_SETTINGS_MODULE` is this package, `storefront.settings`. Its settings live in one module
per concern, each saying what it owns:

- `environment`: the `.env` file, empty variables, `DEBUG`, `TESTING`, `BASE_DIR`;
- `security`: `SECRET_KEY`, hosts, HTTPS behind the proxy, `TRUSTED_PROXY_COUNT`, cookies,
  the Content-Security-Policy and the Permissions-Policy;
- `application`: `INSTALLED_APPS`, `MIDDLEWARE`, URLconf, templates, the JSON API
  (`REST_FRAMEWORK`, `SPECTACULAR_SETTINGS`), `SERVER_TIMING`, passwords, locale, static files;
- `databases`: `DATABASES`, `CONN_MAX_AGE` and the connection budget;
- `payment_rails`: `SHOP_CURRENCIES`, `PAYMENT_RAILS` and fulfilment, `BANK_*`, `PAYPARTS_*`,
  `STRIPE_*`, `CHECKOUT_EXPIRES_MINUTES`;
- `shop`: `SHOP_NAME`, `SHOP_ADDRESS`, the catalogue's pages and their cache, the limits per
  client, `SHOP_PAYMENT_FLOW`;
- `mail`: `EMAIL_*`, `DEFAULT_FROM_EMAIL`, `SERVER_EMAIL`, `SHOP_URL`;
- `background`: `REDIS_URL`, `CACHES`, `CELERY_*` and beat's schedule;
- `reporting`: `LOGGING`, Sentry and `ADMINS`.

A module that needs another's value imports it by name from that module (so `environment` is
always read first). This package then takes every UPPERCASE name of each module, as Django
itself takes a settings module's; lowercase names (`env`, `production`, `render_host`) are the
modules' own. Two modules giving one setting different values is an error, not an override.
"""

from django.core.exceptions import ImproperlyConfigured

from storefront.settings import (
    application,
    background,
    databases,
    environment,
    mail,
    payment_rails,
    reporting,
    security,
    shop,
)

_composed: dict[str, object] = {}
for _module in (
    environment,
    security,
    application,
    databases,
    payment_rails,
    shop,
    mail,
    background,
    reporting,
):
    for _name, _value in vars(_module).items():
        if not _name.isupper():
            continue
        if _name in _composed and _composed[_name] is not _value:
            raise ImproperlyConfigured(
                f"{_name} is set in two settings modules; {_module.__name__} is the second."
            )
        _composed[_name] = _value
globals().update(_composed)
del _composed, _module, _name, _value
