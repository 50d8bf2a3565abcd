"""Who is asking: the client's address, trusted only as far as the deployment's own proxies.

A proxy in front of the app (Heroku's router, Render's) appends the address it was connected
from to `X-Forwarded-For`; everything to the left of what the proxies appended is whatever the
client chose to send. With `TRUSTED_PROXY_COUNT` proxies declared (0 when nothing is in front,
as under docker-compose; 1 on Heroku and Render), the client is the Nth entry from the right:

- 0 proxies: `REMOTE_ADDR` as the server saw it; the header is ignored.
- N proxies, N or more entries: the Nth from the right.
- N proxies, fewer entries (the request passed fewer proxies than declared): the leftmost
  entry, the farthest address a proxy of ours wrote; with no header at all, `REMOTE_ADDR`.
- An entry that is not an IP address: `REMOTE_ADDR` as the server saw it (no client can pick
  a bucket of its own by sending garbage).

`ClientAddressMiddleware` writes the result to `request.META["REMOTE_ADDR"]` before anything
else reads it, so the throttle (storefront.plumbing.throttle), the bank's address allow-list
(`BANK_WEBHOOK_ALLOWED_IPS`) and the logs all read one value. The address the server saw is
kept in `request.META["storefront.peer_address"]`.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PEER_ADDRESS = "storefront.peer_address"


def _ip(text: str) -> str | None:
    """`text` as a canonical IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(*, peer: str, forwarded: str, trusted_proxies: int) -> str:
    """The client's address, given the connection's `peer`, the `X-Forwarded-For` header and
    how many proxies of ours are in front (see the module's docstring for the rule)."""
    entries = [entry.strip() for entry in forwarded.split(",")] if forwarded.strip() else []
    if trusted_proxies <= 0 or not entries:
        return peer
    chosen = entries[-trusted_proxies] if len(entries) >= trusted_proxies else entries[0]
    return _ip(chosen) or peer


class ClientAddressMiddleware:
    """Set `REMOTE_ADDR` to the client's address under `TRUSTED_PROXY_COUNT`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        request.META[PEER_ADDRESS] = peer
        request.META["REMOTE_ADDR"] = client_address(
            peer=peer,
            forwarded=request.META.get("HTTP_X_FORWARDED_FOR", ""),
            trusted_proxies=settings.TRUSTED_PROXY_COUNT,
        )
        return self.get_response(request)
