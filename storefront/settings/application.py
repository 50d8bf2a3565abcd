"""The Django project itself: its apps (the sandboxes' where they may run), middleware, URLconf,
templates, the JSON API (REST framework, drf-spectacular), passwords, locale and static files."""

import importlib.util
from pathlib import Path

from storefront.settings.environment import BASE_DIR, DEBUG, TESTING, env
from storefront.settings.payment_rails import PAYPARTS_SANDBOX, STRIPE_SANDBOX

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
    # A true plug-in: its models, pages and admin exist only where it may run.
    *(["payments.stripe.sandbox"] if STRIPE_SANDBOX else []),
    "payments.bank_transfer",
    "payments.payparts",
    # Like Stripe's: its models, pages and admin exist only where it may run.
    *(["payments.payparts.sandbox"] if PAYPARTS_SANDBOX else []),
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
    # Permissions-Policy and Content-Security-Policy on every response (settings.security).
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
