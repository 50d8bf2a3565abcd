"""Where this shop serves, for a sandbox provider posting to it from a command (the sandbox
bank's transfer, the Stripe sandbox's disputes): one answer for every rail, `SHOP_URL`.

`SHOP_URL` is the address of the links in buyers' e-mails too; under `make run` it follows the
port the server runs on (storefront/settings/mail.py), and a command in another terminal of a
shop served elsewhere is given the same address (`SHOP_URL=http://127.0.0.1:8801`).
"""

from urllib.parse import urlsplit

from django.conf import settings


def shop_origin() -> str:
    """`scheme://host[:port]` of SHOP_URL (a path it ends with is not part of an origin)."""
    parts = urlsplit(settings.SHOP_URL)
    return f"{parts.scheme}://{parts.netloc}"
