"""What the shop tells its operators: log records on stdout (storefront.plumbing.logging), and
errors sent to Sentry or, without it, e-mailed to ADMINS (storefront.plumbing.error_reporting)."""

import os

from storefront.settings.environment import DEBUG, TESTING, env

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
