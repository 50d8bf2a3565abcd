"""Who may reach the shop and what its pages may do: the secret key, hosts, HTTPS behind the
platform's proxy, the client's address, cookies, the Content-Security-Policy and the
Permissions-Policy."""

from storefront.settings.environment import env, production

SECRET_KEY = env.str("SECRET_KEY", default="")
if not production and not SECRET_KEY:
    # Good enough for a laptop or a test run. In production a missing or weak key is a system
    # check error (storefront.plumbing.checks): gunicorn's workers and the release step refuse to
    # start, while offline commands (makemigrations, shell) still run, as in stock Django.
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Render names the service's public host; the shop answers on it without further set-up.
# Not a setting (lowercase): the mail settings take the shop's address from it.
render_host = env.str("RENDER_EXTERNAL_HOSTNAME", default="")
if render_host:
    ALLOWED_HOSTS.append(render_host)
    CSRF_TRUSTED_ORIGINS.append(f"https://{render_host}")

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
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=production)
# Platform health checks come over plain HTTP (patterns match the path without its "/").
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Browsers remember "HTTPS only" for this many seconds; 0 turns HSTS off. The preload flag
# alone submits nothing: joining the browsers' preload list is a separate, manual step.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if production else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=production)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=production)
# No Referer to other sites (Stripe's pages included). Django's defaults already send nosniff,
# X-Frame-Options: DENY and Cross-Origin-Opener-Policy: same-origin.
SECURE_REFERRER_POLICY = "same-origin"

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
