"""Reading the environment: the `.env` file, empty variables, and what kind of run this is.

Every other settings module imports `env` and the flags from here, so the environment is read
(and its empty variables dropped) before any of them reads a variable. `production` is not a
setting (lowercase: Django never sees it), only what the others compute their defaults from.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# READ_ENV_FILE=0 ignores .env (the deploy tests run the app in an environment of their own).
if env.bool("READ_ENV_FILE", default=True) and (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)
# An empty variable (`DATABASE_URL=` as in .env.example) means "use the default", not "".
for _name in [name for name, value in os.environ.items() if value == ""]:
    if _name.startswith(("STRIPE_", "SECURE_", "BANK_", "PAYPARTS_")) or _name in {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DATABASE_URL",
        "CONN_MAX_AGE",
        "DATABASE_MAX_CONNECTIONS",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "WEB_INSTANCES",
        "WORKER_INSTANCES",
        "SERVER_TIMING",
        "STATIC_ROOT",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "SENTRY_DSN",
        "SENTRY_ENVIRONMENT",
        "SENTRY_TRACES_SAMPLE_RATE",
        "ADMINS",
        "SHOP_CURRENCIES",
        "SHOP_PAYMENT_FLOW",
        "SHOP_START_LIMIT",
        "SHOP_START_WINDOW_SECONDS",
        "SHOP_RETURN_LIMIT",
        "SHOP_ORDER_LIMIT",
        "TRUSTED_PROXY_COUNT",
        "CHECKOUT_EXPIRES_MINUTES",
        "PAYMENT_RAILS",
        "SHOP_NAME",
        "SHOP_ADDRESS",
        "SHOP_URL",
        "EMAIL_URL",
        "EMAIL_TIMEOUT",
        "DEFAULT_FROM_EMAIL",
        "SERVER_EMAIL",
        "REDIS_URL",
        "REDIS_SSL_CERT_REQS",
        "CELERY_WORKER_CONCURRENCY",
        "CELERY_TASK_TIME_LIMIT",
        "CELERY_VISIBILITY_TIMEOUT",
    }:
        del os.environ[_name]

DEBUG = env.bool("DEBUG", default=False)
# pytest sets PYTEST_VERSION while it runs: tests need neither a real key nor collected statics.
TESTING = "PYTEST_VERSION" in os.environ
# Production: what a platform runs. Laptops (DEBUG=1) and test runs get plain-HTTP defaults.
production = not (DEBUG or TESTING)
