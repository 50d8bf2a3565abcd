"""Settings for the storefront, all variable parts read from the environment.

Every variable is documented in `.env.example`. A `.env` file beside `manage.py` is read when
present; real environment variables win over it.
"""

import os
import re
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)
# An empty variable (`DATABASE_URL=` as in .env.example) means "use the default", not "".
for _name in [name for name, value in os.environ.items() if value == ""]:
    if _name.startswith("STRIPE_") or _name in {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "DATABASE_URL",
        "CONN_MAX_AGE",
        "LOG_LEVEL",
        "SHOP_CURRENCIES",
    }:
        del os.environ[_name]

DEBUG = env.bool("DEBUG", default=False)
# pytest sets PYTEST_VERSION while it runs: tests need neither a real key nor collected statics.
TESTING = "PYTEST_VERSION" in os.environ
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and (DEBUG or TESTING):
    # Good enough for a laptop or a test run; production refuses to start without a real key.
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "djmoney",
    "currencies",
    "payments",
    "payments.sandbox",
    "storefront",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "storefront.urls"
WSGI_APPLICATION = "storefront.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "payments.context_processors.sandbox",
            ],
        },
    },
]

# SQLite file beside manage.py unless DATABASE_URL says otherwise (dj-database-url syntax).
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", engine=None
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The stripe library logs request lines at INFO; keep them, they never carry keys.
}

# --- The shop -------------------------------------------------------------------------------

# Currencies the shop sells in. Any currency with Stripe keys in the environment is added, so
# setting STRIPE_JPY_SECRET_KEY (and its two companions) is all it takes to sell in JPY.
_KEYED_CURRENCIES = {
    match.group(1)
    for name in os.environ
    if (
        match := re.fullmatch(
            r"STRIPE_([A-Z]{3})_(?:SECRET_KEY|PUBLISHABLE_KEY|WEBHOOK_SECRET)", name
        )
    )
}
SHOP_CURRENCIES = sorted(
    {code.upper() for code in env.list("SHOP_CURRENCIES", default=["USD", "EUR"])}
    | _KEYED_CURRENCIES
)

# --- Stripe ---------------------------------------------------------------------------------

# One Stripe account per currency. A currency without keys runs on the offline sandbox, which
# is allowed by default only when DEBUG is on; STRIPE_SANDBOX=1 allows it explicitly (demo
# deployments), STRIPE_SANDBOX=0 forbids it.
STRIPE_ACCOUNTS = {
    code: {
        "secret_key": env.str(f"STRIPE_{code}_SECRET_KEY", default=""),
        "publishable_key": env.str(f"STRIPE_{code}_PUBLISHABLE_KEY", default=""),
        "webhook_secret": env.str(f"STRIPE_{code}_WEBHOOK_SECRET", default=""),
    }
    for code in SHOP_CURRENCIES
}
STRIPE_SANDBOX = env.bool("STRIPE_SANDBOX", default=DEBUG)
# A web worker cannot wait for ever: (connect, read) seconds per attempt, and retries of network
# errors and 409/5xx answers, which Stripe's idempotency keys make safe.
STRIPE_TIMEOUT = (
    env.float("STRIPE_CONNECT_TIMEOUT", default=3.0),
    env.float("STRIPE_READ_TIMEOUT", default=10.0),
)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
