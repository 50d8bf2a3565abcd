"""E-mail: where receipts and refund notices go out (storefront.documents.mail), who they come
from, and the shop's public address that links in them point to."""

from storefront.settings.environment import env
from storefront.settings.security import render_host
from storefront.settings.shop import SHOP_NAME

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
    default=f"https://{render_host}"
    if render_host
    else env.str("MAKE_RUN_URL", default="http://127.0.0.1:8000"),
)
