"""The sandbox as the `stripe` library's HTTP client.

`stripe.StripeClient(key, http_client=SandboxHTTPClient())` sends every request here instead
of to api.stripe.com. Everything above this class (parameter encoding, headers, idempotency
keys, retries, error parsing into `stripe.*Error`) is the library's own code, so the shop's
gateway runs byte for byte as it does against Stripe.

`sandbox_outage()` makes the next requests fail the way a network or Stripe outage does, so
tests (and a curious developer) can see what the shop does then.
"""

import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import stripe
from django.conf import settings

from payments.stripe.sandbox import server

_outage_global: dict[str, object] = {"kind": None, "keys": None}
OUTAGE_KINDS = ("unreachable", "server_error")


@contextmanager
def sandbox_outage(
    kind: str = "unreachable", *, secret_keys: tuple[str, ...] | None = None
) -> Iterator[None]:
    """Within the block, every sandbox request fails: no answer at all, or a Stripe 500.

    With `secret_keys`, only the requests made with those keys fail: one account is down, the
    others answer. It applies to all threads (a live-server test runs the shop in another
    thread).
    """
    if kind not in OUTAGE_KINDS:
        raise ValueError(f"kind must be one of {OUTAGE_KINDS}")
    previous = dict(_outage_global)
    _outage_global.update(kind=kind, keys=secret_keys)
    try:
        yield
    finally:
        _outage_global.update(previous)


def _out(headers: Mapping[str, str]) -> str | None:
    """The outage this request meets, if any."""
    kind, keys = _outage_global["kind"], _outage_global["keys"]
    if not kind:
        return None
    if keys is not None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if auth.removeprefix("Bearer ").strip() not in keys:
            return None
    return kind


class SandboxHTTPClient(stripe.HTTPClient):
    """A `stripe.HTTPClient` that answers from the sandbox instead of the network."""

    name = "sandbox"

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        if not (settings.DEBUG or settings.STRIPE_SANDBOX):
            # Production without an explicit STRIPE_SANDBOX=1 must never take fake payments.
            raise stripe.APIConnectionError(
                "The Stripe sandbox is disabled (DEBUG is off and STRIPE_SANDBOX is not set).",
                should_retry=False,
            )
        if isinstance(post_data, bytes):
            post_data = post_data.decode()
        kind = _out(headers or {})
        if kind:
            response = server.outage_response(kind, method, url, headers or {})
            if response is None:
                raise stripe.APIConnectionError(
                    "Sandbox outage: the connection to the API timed out.", should_retry=True
                )
        else:
            response = server.handle_request(method, url, headers or {}, post_data)
        return json.dumps(response.body), response.status, response.headers

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        body, status, headers = self.request(method, url, headers, post_data)
        return io.BytesIO(body.encode()), status, headers

    def close(self) -> None:
        """Nothing to close: there is no connection."""
