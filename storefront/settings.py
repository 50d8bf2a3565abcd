"""Settings for the storefront, all variable parts read from the environment.

Every variable is documented in `.env.example`. A `.env` file beside `manage.py` is read when
present; real environment variables win over it.
"""

import importlib.util
import os
import re
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

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
_PRODUCTION = not (DEBUG or TESTING)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not _PRODUCTION and not SECRET_KEY:
    # Good enough for a laptop or a test run. In production a missing or weak key is a system
    # check error (storefront.plumbing.checks): gunicorn's workers and the release step refuse to
    # start, while offline commands (makemigrations, shell) still run, as in stock Django.
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Render names the service's public host; the shop answers on it without further set-up.
if _render_host := env.str("RENDER_EXTERNAL_HOSTNAME", default=""):
    ALLOWED_HOSTS.append(_render_host)
    CSRF_TRUSTED_ORIGINS.append(f"https://{_render_host}")

# --- HTTPS behind the platform's proxy ------------------------------------------------------
# Heroku's and Render's routers end TLS and say so in X-Forwarded-Proto (which they set
# themselves, overwriting any the client sent): trust it. Serve the app only behind such a
# proxy (docker-compose publishes it on localhost only).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours stand in front of the app, each appending to X-Forwarded-For the
# address it was connected from: 1 on Heroku and Render (their router), 0 with nothing in front
# (docker-compose, a laptop). The client is the entry that many from the right; with 0 the
# header is ignored (storefront.plumbing.client_address). Never more than there are: a client would
# then choose its own address (and its throttle bucket) by sending the header itself.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_PRODUCTION)
# Platform health checks come over plain HTTP (patterns match the path without its "/").
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Browsers remember "HTTPS only" for this many seconds; 0 turns HSTS off. The preload flag
# alone submits nothing: joining the browsers' preload list is a separate, manual step.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_PRODUCTION)
# No Referer to other sites (Stripe's pages included). Django's defaults already send nosniff,
# X-Frame-Options: DENY and Cross-Origin-Opener-Policy: same-origin.
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "djmoney",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "currencies",
    "payments",
    "payments.stripe",
    "payments.bank_transfer",
    "payments.payparts",
    "storefront",
]
# django-migration-linter (`make lint`: migrations since the last release must not break it) is
# a development tool, in requirements-dev.txt only: its app is installed where it is.
if importlib.util.find_spec("django_migration_linter") is not None:
    INSTALLED_APPS.append("django_migration_linter")

MIDDLEWARE = [
    # First, so its time is the whole request's; only with SERVER_TIMING=1.
    "storefront.plumbing.server_timing.ServerTimingMiddleware",
    # REMOTE_ADDR becomes the client's address (TRUSTED_PROXY_COUNT) before anything reads it.
    "storefront.plumbing.client_address.ClientAddressMiddleware",
    "storefront.plumbing.logging.RequestIdMiddleware",
    # A NUL anywhere in the path or query: 400 before any view or query sees it.
    "storefront.plumbing.nul_guard.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy and Content-Security-Policy on every response (see below).
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # A provider's notification is answered here, ahead of what serves browsers (the page
    # policy, static files, sessions, CSRF, users, messages): it uses none of them, and gets
    # the headers they would add, built once (payments.middleware).
    "payments.middleware.NotificationMiddleware",
    "csp.middleware.CSPMiddleware",
    # /healthz, ahead of the ALLOWED_HOSTS check (CommonMiddleware): platform probes use
    # internal Host headers.
    "storefront.plumbing.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The signed cookies naming a buyer's orders (storefront.shop.access), instead of session rows.
    "storefront.shop.access.OrderCookiesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# What a page may load, and from where (django-csp). No inline script or style anywhere, so
# 'self' is all the shop needs, plus exactly what Stripe.js documents for Checkout and the
# Payment Element: its script and frames from js.stripe.com, 3-D Secure frames from
# hooks.stripe.com, and its API calls. The sandbox's stand-ins are served by the shop itself.
_STRIPE_JS = ["https://js.stripe.com", "https://*.js.stripe.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", *_STRIPE_JS],
        "frame-src": [*_STRIPE_JS, "https://hooks.stripe.com"],
        "connect-src": ["'self'", "https://api.stripe.com"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The JSON API (Django REST framework; DESIGN.md, "The JSON API"; docs/api.md). JSON in and out
# whatever the client's Accept says, one error shape (sitewide.api_errors), nothing allowed
# unless a view says who may call it, and drf-spectacular's OpenAPI schema as the contract.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "sitewide.api_errors.AlwaysJson",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "EXCEPTION_HANDLER": "sitewide.api_errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Storefront API",
    "DESCRIPTION": (
        "The shop's JSON endpoints: starting a payment (`/buy/...`), the bank's signed "
        "transfer notifications, and organisations' balances. Every error is "
        '`{"error": "<message>"}`, with `"fields": {"<name>": ["<message>", ...]}` when a '
        "request's fields are wrong. A guide with working commands: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Assets from drf-spectacular-sidecar, served by the shop: no CDN (the CSP allows none).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No call to swagger.io's validator (the page would ask another site about our schema).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # The committed schema (docs/openapi.yaml) must come out the same on every run.
    "SORT_OPERATIONS": True,
    "SORT_OPERATION_PARAMETERS": True,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "PREPROCESSING_HOOKS": ["storefront.plumbing.api_docs.one_spelling_per_route"],
}

# Browser features no page of the shop uses are off, for it and for any frame it embeds;
# `payment` stays open to Stripe's frames (wallets such as Apple Pay and Google Pay).
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "usb": [],
    "payment": ["self", "https://js.stripe.com"],
}

# `Server-Timing: app;dur=..., provider;dur=...` on responses (storefront.plumbing.server_timing):
# the request's time and the part spent waiting for payment providers. Off: it tells outsiders
# timings.
SERVER_TIMING = env.bool("SERVER_TIMING", default=False)

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
# Seconds a connection is kept open between requests. In production, 60: opening one per
# request (0) was all of /healthz's cost and a fifth of /item's. Each gunicorn thread keeps its
# own, so a site holds WEB_CONCURRENCY x GUNICORN_THREADS connections (8 by default) per
# instance: keep that within PostgreSQL's max_connections (see docs/deploy.md). Laptops and
# test runs default to 0 (runserver starts a thread per request).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if _PRODUCTION else 0)
# A kept-open connection is tested before each request reuses it (after a database restart).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
# The connection budget (storefront.W010, docs/deploy.md): how many connections the database
# allows this site (small managed plans: about 20), and what opens them at most at once. Every
# gunicorn thread holds one (kept CONN_MAX_AGE seconds, or for its request), so does every
# Celery pool process; beat, a release step's migrate and a one-off command take a few more.
# The Procfile's web command reads WEB_CONCURRENCY and GUNICORN_THREADS too; WEB_INSTANCES
# and WORKER_INSTANCES say how many of each service run (keep them equal to the platform's).
DATABASE_MAX_CONNECTIONS = env.int("DATABASE_MAX_CONNECTIONS", default=20)
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=2)
GUNICORN_THREADS = env.int("GUNICORN_THREADS", default=4)
WEB_INSTANCES = env.int("WEB_INSTANCES", default=1)
WORKER_INSTANCES = env.int("WORKER_INSTANCES", default=1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads write at once (a webhook arriving while the buyer's page loads): let a
    # writer take the lock when its transaction starts and others wait for it, instead of
    # failing. Tests use a file too, since in-memory SQLite fails such waits at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"storefront-test-{os.getpid()}.sqlite3")
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # MySQL and MariaDB as Django advises: strict mode (a value that does not fit is refused,
    # never truncated or zeroed), utf8mb4 (all of Unicode; MySQL's "utf8" stops at three
    # bytes) and READ COMMITTED. DATABASE_URL's own options (?charset=...&init_command=...)
    # win over these; the check storefront.E010 refuses a connection left without them.
    _mysql = DATABASES["default"].setdefault("OPTIONS", {})
    _mysql.setdefault("charset", "utf8mb4")
    _mysql.setdefault(
        "init_command",
        "SET sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    )
    _mysql.setdefault("isolation_level", "read committed")
    # The test database as a production one should be created (docs/databases.md).
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Tests log users in hundreds of times: a deliberately slow hash (PBKDF2's 1,000,000 rounds) would
# be most of their time. Only test runs, never a shop, use the fast one.
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (the build step) and WhiteNoise serves from.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# One line per record on stdout (what Heroku and Render collect), each with the request's id
# (storefront.plumbing.logging); JSON in production, plain text on a laptop. Stripe secrets are
# redacted from every record, whichever logger it comes from.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "storefront.plumbing.logging.RequestIdFilter"},
        "redact_secrets": {"()": "storefront.plumbing.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {"()": "storefront.plumbing.logging.JsonLineFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id", "redact_secrets"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # runserver logs every request itself; gunicorn (production) does not, so ours does there.
    "loggers": {"storefront.requests": {"level": "WARNING" if DEBUG else "INFO"}},
    # The stripe library logs request lines at INFO, with Stripe's request ids; keep them,
    # they never carry keys.
}

# --- Error reporting (storefront.plumbing.error_reporting)
# ------------------------------------------

# Sentry, when SENTRY_DSN is set (nothing is sent otherwise): errors of requests and of tasks,
# no personal data, Stripe secrets scrubbed as the logs scrub them. Without it, ADMINS (comma-
# separated addresses) get each server error by e-mail, Django's own fallback.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
ADMINS = [("", address) for address in env.list("ADMINS", default=[])]
if SENTRY_DSN and not TESTING:
    from storefront.plumbing.error_reporting import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        # Render and Heroku name the commit being run; Sentry groups errors by it.
        release=os.environ.get("RENDER_GIT_COMMIT") or os.environ.get("SOURCE_VERSION", ""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
elif ADMINS:
    LOGGING["filters"]["require_debug_false"] = {"()": "django.utils.log.RequireDebugFalse"}
    LOGGING["handlers"]["mail_admins"] = {
        "class": "django.utils.log.AdminEmailHandler",
        "level": "ERROR",
        "filters": ["require_debug_false", "redact_secrets"],
    }
    # Server errors reach the admins; every record still reaches the console through the root.
    LOGGING["loggers"]["django.request"] = {"handlers": ["mail_admins"], "propagate": True}

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

# --- Bank transfers -------------------------------------------------------------------------

# Organisations pay by bank transfer into one bank account, in BANK_TRANSFER_CURRENCY (below).
# Their bank signs each notification with BANK_WEBHOOK_SECRET; without it, the sandbox bank's
# secret is used where the sandbox is allowed (DEBUG, tests, or BANK_SANDBOX=1), and a
# production site running the rail refuses to start.
BANK_WEBHOOK_SECRET = env.str("BANK_WEBHOOK_SECRET", default="")
# Comma-separated addresses the bank posts from (the client's address: TRUSTED_PROXY_COUNT);
# empty: any, signature only.
BANK_WEBHOOK_ALLOWED_IPS = env.list("BANK_WEBHOOK_ALLOWED_IPS", default=[])
# The bearer token of GET /api/organizations/<inn>/balance/ (staff sessions need none).
BANK_API_TOKEN = env.str("BANK_API_TOKEN", default="")
BANK_SANDBOX = env.bool("BANK_SANDBOX", default=DEBUG or TESTING)
# The bank details buyers copy onto their transfer (and the invoice shows).
BANK_PAYEE = {
    "name": env.str("BANK_PAYEE_NAME", default=""),
    "inn": env.str("BANK_PAYEE_INN", default=""),
    "account": env.str("BANK_PAYEE_ACCOUNT", default=""),
    "bank": env.str("BANK_PAYEE_BANK", default=""),
    "bic": env.str("BANK_PAYEE_BIC", default=""),
    "correspondent_account": env.str("BANK_PAYEE_CORRESPONDENT_ACCOUNT", default=""),
}

# --- PrivatBank "Pay in parts" ----------------------------------------------------------------

# UAH orders paid in instalments (payments.payparts). The store's id and password come from the
# bank; without them the offline sandbox bank takes the payments where it is allowed (DEBUG,
# tests, or PAYPARTS_SANDBOX=1), and a production site running the rail refuses to start.
PAYPARTS_API_STORE_ID = env.str("PAYPARTS_API_STORE_ID", default="")
PAYPARTS_API_PASSWORD = env.str("PAYPARTS_API_PASSWORD", default="")
PAYPARTS_API_URL = env.str("PAYPARTS_API_URL", default="https://payparts2.privatbank.ua/ipp/v2/")
PAYPARTS_API_REDIRECT_URL = env.str(
    "PAYPARTS_API_REDIRECT_URL", default="https://payparts2.privatbank.ua/ipp/v2/payment"
)
# The buyer chooses 2 to this many parts (the bank allows up to 25).
PAYPARTS_PARTS_COUNT_MAX = env.int("PAYPARTS_PARTS_COUNT_MAX", default=6)
# II instant instalment, PP pay in parts, PB, IA: as agreed with the bank.
PAYPARTS_MERCHANT_TYPE = env.str("PAYPARTS_MERCHANT_TYPE", default="PP")
PAYPARTS_SANDBOX = env.bool("PAYPARTS_SANDBOX", default=DEBUG or TESTING)
if PAYPARTS_SANDBOX:
    # Like Stripe's: its models, pages and admin exist only where it may run.
    INSTALLED_APPS.insert(
        INSTALLED_APPS.index("payments.payparts") + 1, "payments.payparts.sandbox"
    )

# --- Payments -------------------------------------------------------------------------------

# The rails this site takes money on, in the order their buttons appear (payments.rails). A
# line removed turns a rail off; its past payments stay readable in the admin.
# The bank-transfer rail is on by default wherever a bank is configured or sandboxed; listed
# explicitly without BANK_WEBHOOK_SECRET, production refuses to start (a deploy check).
PAYMENT_RAILS = env.list(
    "PAYMENT_RAILS",
    default=["payments.stripe.rail.StripeRail"]
    + (
        ["payments.bank_transfer.rail.BankTransferRail"]
        if BANK_SANDBOX or BANK_WEBHOOK_SECRET or BANK_PAYEE["account"]
        else []
    )
    + (
        ["payments.payparts.rail.PayPartsRail"]
        if PAYPARTS_SANDBOX or PAYPARTS_API_STORE_ID or PAYPARTS_API_PASSWORD
        else []
    ),
)
# The currency bank transfers arrive in. While the bank-transfer rail runs, the shop sells in it
# (currencies.offered) through that rail only: it is kept out of SHOP_CURRENCIES, so it gets
# no Stripe account (STRIPE_ACCOUNTS) and no Stripe button.
BANK_TRANSFER_CURRENCY = env.str("BANK_TRANSFER_CURRENCY", default="RUB").upper()
# Likewise UAH while the Pay in parts rail runs: PrivatBank takes it, Stripe does not here.
PAYPARTS_CURRENCY = "UAH"
# Currencies that one rail alone takes, by the rail's dotted path: offered while that rail runs
# (currencies.offered), and kept out of SHOP_CURRENCIES, so they get no Stripe account.
RAIL_CURRENCIES = {
    "payments.bank_transfer.rail.BankTransferRail": BANK_TRANSFER_CURRENCY,
    "payments.payparts.rail.PayPartsRail": PAYPARTS_CURRENCY,
}
SHOP_CURRENCIES = [
    code
    for code in SHOP_CURRENCIES
    if code not in {RAIL_CURRENCIES[path] for path in PAYMENT_RAILS if path in RAIL_CURRENCIES}
]
# What a succeeded payment fulfils, by the kind of its reference ("order-5" → "order").
PAYMENT_FULFILMENT = {"order": "storefront.shop.services.order_mark_paid"}
PAYMENT_FULFILMENT_FACTS = {"order": "storefront.shop.services.order_payment_facts"}
PAYMENT_REFUNDED = {"order": "storefront.shop.services.order_refunded"}

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
STRIPE_SANDBOX = env.bool("STRIPE_SANDBOX", default=DEBUG or TESTING)
if STRIPE_SANDBOX:
    # A true plug-in: its models, pages and admin exist only where it may run.
    INSTALLED_APPS.insert(INSTALLED_APPS.index("payments.stripe") + 1, "payments.stripe.sandbox")
# A web worker cannot wait for ever: (connect, read) seconds per attempt, and retries of network
# errors and 409/5xx answers, which Stripe's idempotency keys make safe.
STRIPE_TIMEOUT = (
    env.float("STRIPE_CONNECT_TIMEOUT", default=3.0),
    env.float("STRIPE_READ_TIMEOUT", default=10.0),
)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Where accounts with keys send their API requests: Stripe's own (empty), or another base such
# as Stripe's mock server (`http://127.0.0.1:12111`), a recording proxy or a regional endpoint.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="").rstrip("/")
# How the sandbox sends its webhook events: "thread" (after commit, in the background, to the
# shop's own endpoint) or "off" (recorded only; `manage.py sandbox_events resend` sends one).
STRIPE_SANDBOX_WEBHOOKS = env.str("STRIPE_SANDBOX_WEBHOOKS", default="thread")
# Which Stripe.js the sandbox's stub behaves as: "current" (no redirectToCheckout, as Stripe.js
# is since 2025: the shop follows the session's URL) or "legacy" (with it).
STRIPE_SANDBOX_JS_VERSION = env.str("STRIPE_SANDBOX_JS_VERSION", default="current")
# How long a Checkout Session takes payment, in minutes: Stripe allows 30 to 1440 (24 hours).
# Short, so an abandoned checkout closes (and its order can be cancelled) soon.
CHECKOUT_EXPIRES_MINUTES = env.int("CHECKOUT_EXPIRES_MINUTES", default=30)

# The seller named on invoices; the address's lines are separated by "\n" (or real newlines).
SHOP_NAME = env.str("SHOP_NAME", default="Storefront")
SHOP_ADDRESS = env.str("SHOP_ADDRESS", default="").replace("\\n", "\n")

# --- E-mail: receipts and refund notices (storefront.documents.mail)
# -------------------------------------

# Where buyers' e-mails go out: smtp+tls://user:password@smtp.example.com:587 (STARTTLS),
# smtp+ssl://user:password@smtp.example.com:465, or consolemail:// (the default: written to the
# log, nothing sent; a production site warns, see storefront.plumbing.checks). Tests use Django's
# locmem.
EMAIL_URL_SET = bool(env.str("EMAIL_URL", default=""))
globals().update(
    {
        name: value
        for name, value in env.email_url("EMAIL_URL", default="consolemail://").items()
        if value not in (None, "")
    }
)
# The console backend names each attachment rather than printing it as base64 (a receipt's PDF
# buried the server's log under 600 lines of it): storefront.plumbing.mail_console.
if globals().get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    EMAIL_BACKEND = "storefront.plumbing.mail_console.EmailBackend"
# Seconds one mail server may take before a send counts as failed (and is retried).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SHOP_NAME} <shop@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# The shop's public address, for links in e-mails (they have no request to take it from) and
# for the sandboxes' commands that post to the shop. Unset: Render's own host, or in
# development the address `make run` serves on (the Makefile passes MAKE_RUN_URL to its
# processes, so `PORT=8801 make run` links to port 8801), else port 8000.
SHOP_URL = env.str(
    "SHOP_URL",
    default=f"https://{_render_host}"
    if _render_host
    else env.str("MAKE_RUN_URL", default="http://127.0.0.1:8000"),
)

# --- Background work and the shared cache: Celery on Redis (storefront.celery) ----------------

# Redis is the broker that hands tasks to the worker processes, and the cache every process
# shares (the throttle counts there). Unset (a laptop, `make run`): no broker, the tasks run
# eagerly in the process that queued them, once its transaction commits, and the cache is each
# process's memory. The test suite ignores it: tests that need Redis start their own processes
# on TEST_REDIS_URL.
REDIS_URL = "" if TESTING else env.str("REDIS_URL", default="")
# rediss:// (TLS): the server's certificate is checked ("required") unless this says "none",
# which Heroku Redis's self-signed certificate needs.
REDIS_SSL_CERT_REQS = env.str("REDIS_SSL_CERT_REQS", default="required")
if REDIS_URL.startswith("rediss://") and "ssl_cert_reqs=" not in REDIS_URL:
    REDIS_URL += ("&" if "?" in REDIS_URL else "?") + f"ssl_cert_reqs={REDIS_SSL_CERT_REQS}"
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, keeping its redis clients (storefront.plumbing.redis_cache).
            "BACKEND": "storefront.plumbing.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request a second, not a hang: the throttle
            # then lets it through and /healthz says the cache is degraded.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
# Without Redis, the in-memory broker is only there for eager tasks (their arguments go through
# JSON as they would to a worker); nothing is queued on it.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# An eager task that raises is the caller's error (the on_commit hooks that queue tasks log it).
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queueing happens after the paying transaction commits, in the request: a Redis that does not
# answer costs it seconds, not a minute (the owed row stays, for the stranded-mail sweep).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# A task is acknowledged when it has finished, not when it was handed out: a worker killed
# mid-task (a deploy's SIGKILL, a crash) leaves it to be delivered again, and each task's guard
# (OrderMail's claim in the database, reconcile's lock in Redis) keeps a second delivery from
# doing the work twice. One task reserved at a time per process, so a long one holds back no other.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes per worker (prefork pool); each holds a database connection of its own.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
# Seconds a task may run before its process is killed (the soft limit, three quarters of it,
# raises inside the task first). A mail claim older than this is a dead worker's.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT * 3 // 4)
# Seconds after which Redis hands a task that was delivered but never acknowledged (its worker
# was killed) to another worker. Longer than any task runs and any retry waits.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS |= {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # How often a worker looks for such tasks (kombu's default: every 100 seconds).
    "unacked_restore_interval": min(10, max(1, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
# Log lines keep this site's format and request ids (storefront.plumbing.logging), in the worker
# too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# celery beat's schedule (one beat process per site). Each run expires when the next is due, so
# a worker back after an outage runs one, not a backlog. Without a beat (`make run`):
# `python manage.py periodic_tasks_run` runs each once.
CELERY_BEAT_SCHEDULE = {
    "payments-reconcile": {
        "task": "payments.tasks.payments_reconcile_task",
        "schedule": 3600,
        "kwargs": {"since_hours": 24},
        "options": {"expires": 3600},
    },
    # Redeliveries counted in the cache, into their events' rows (payments.redeliveries).
    "payments-redeliveries-fold": {
        "task": "payments.tasks.notification_redeliveries_fold_task",
        "schedule": 300,
        "options": {"expires": 300},
    },
    "orders-expire": {
        "task": "storefront.tasks.orders_expire_task",
        "schedule": 3600,
        "kwargs": {"untouched_days": 2},
        "options": {"expires": 3600},
    },
    "order-mails-resend": {
        "task": "storefront.tasks.order_mails_resend_task",
        "schedule": 300,
        "options": {"expires": 300},
    },
    "sessions-clear": {
        "task": "storefront.tasks.sessions_clear_task",
        "schedule": 86400,
        "options": {"expires": 86400},
    },
}

# Items per catalogue page (`/?page=2`): a page costs the same however large the catalogue.
SHOP_CATALOGUE_PAGE_SIZE = 24
# The catalogue's and item pages are kept as rendered, in each process's memory, until what they
# show changes (storefront.plumbing.page_cache). Whether a kept page is current is asked of the
# shared cache, so it is on where there is one (REDIS_URL) and in tests (one process); off on a
# laptop (DEBUG: edited templates show at once) and where processes share no cache.
SHOP_PAGE_CACHE = TESTING or (bool(REDIS_URL) and not DEBUG)
# How long a process trusts the page version it last read from the shared cache (seconds): a
# change made in another process shows there this much later at most; 0 asks on every request.
SHOP_PAGE_VERSION_SECONDS = 0.25

# How many payments one client may start (/buy/..., the pay pages) per window before a 429
# (storefront.plumbing.throttle; the window slides, and is every limit below's).
SHOP_START_LIMIT = env.int("SHOP_START_LIMIT", default=30)
SHOP_START_WINDOW_SECONDS = env.int("SHOP_START_WINDOW_SECONDS", default=60)
# How many return pages (where a provider sends the buyer back) one client may open per window.
SHOP_RETURN_LIMIT = env.int("SHOP_RETURN_LIMIT", default=60)
# How many new orders (POST /order/add/ with no open order) one client may make per window.
SHOP_ORDER_LIMIT = env.int("SHOP_ORDER_LIMIT", default=20)

# Which way the Buy and Pay buttons go: "checkout" (Stripe Checkout) or "payment_element" (the
# card form on our own page). The other way stays offered beside it.
SHOP_PAYMENT_FLOW = env.str("SHOP_PAYMENT_FLOW", default="checkout")
if SHOP_PAYMENT_FLOW not in ("checkout", "payment_element"):
    raise ImproperlyConfigured(
        f"SHOP_PAYMENT_FLOW must be checkout or payment_element, not {SHOP_PAYMENT_FLOW!r}."
    )
