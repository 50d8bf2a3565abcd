"""Every request the shop makes to a provider, as the sandboxes receive it: Stripe's (through
the `stripe` library's HTTP client, `SandboxHTTPClient`) and PrivatBank's Pay in parts (the
client's `SandboxTransport`).

Each call is kept with the ids it names (`/v1/checkout/sessions/cs_test_1` names `cs_test_1`;
`payment/state` names its `orderId`) and the shop request that caused it. An id is *issued*
when a call of ours created it (a POST to a collection, a `payment/create` the bank accepted)
or an answer about an issued object carried it (a session's PaymentIntent): a call naming any
other id was made for a stranger's id, which no request from outside may cause.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest

from payments.payparts.sandbox.transport import SandboxTransport
from payments.stripe.sandbox.client import SandboxHTTPClient

# Stripe's collections as the shop's gateway uses them; the segment after one is an object id.
STRIPE_COLLECTIONS = sorted(
    [
        "checkout/sessions",
        "payment_intents",
        "refunds",
        "coupons",
        "tax_rates",
        "charges",
        "disputes",
        "customers",
        "payment_methods",
        "events",
    ],
    key=len,
    reverse=True,
)
# Parameters whose value is the id of another object (a refund's payment, a discount's coupon).
ID_PARAMETERS = ("payment_intent", "charge", "coupon", "customer", "session", "tax_rates")
# Keys whose values in an answer are ids the shop may use next.
ID_KEYS = ("id", "payment_intent", "latest_charge", "charge", "coupon")


@dataclass(frozen=True)
class ProviderCall:
    provider: str
    method: str
    path: str
    named: tuple[str, ...]
    cause: str

    def __str__(self) -> str:
        return f"{self.provider} {self.method} {self.path} named {self.named} by {self.cause!r}"


@dataclass
class ProviderCalls:
    calls: list[ProviderCall] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)
    cause: str = ""

    @contextmanager
    def caused_by(self, cause: str) -> Iterator[list[ProviderCall]]:
        """Attribute the calls made within the block to `cause`; yields the list of them."""
        start, self.cause = len(self.calls), cause
        made: list[ProviderCall] = []
        try:
            yield made
        finally:
            made += self.calls[start:]
            self.cause = ""

    def strangers(self, calls: list[ProviderCall] | None = None) -> list[ProviderCall]:
        """The calls that named an id the shop never issued: none of its calls made it or
        learned it, and it is not an object the sandboxes hold for the shop's accounts (an
        object the provider made of one of ours, like the PaymentIntent of a session paid on
        the sandbox's page)."""
        found = []
        for call in self.calls if calls is None else calls:
            unknown = set(call.named) - self.issued
            if unknown and unknown - _held_by_sandboxes(unknown):
                found.append(call)
        return found

    def _record(self, provider: str, method: str, path: str, named: tuple[str, ...]) -> bool:
        call = ProviderCall(provider, method, path, tuple(n for n in named if n), self.cause)
        self.calls.append(call)
        return not (set(call.named) - self.issued)

    def _learn(self, answer: object) -> None:
        """Remember the ids an answer about our own objects carries."""
        if isinstance(answer, dict):
            for key, value in answer.items():
                if key in ID_KEYS and isinstance(value, str) and value:
                    self.issued.add(value)
                else:
                    self._learn(value)
        elif isinstance(answer, list):
            for value in answer:
                self._learn(value)


def _held_by_sandboxes(ids: set[str]) -> set[str]:
    from payments.payparts.sandbox.models import InstalmentPlan
    from payments.stripe.sandbox.models import SandboxObject

    return set(SandboxObject.objects.filter(id__in=ids).values_list("id", flat=True)) | set(
        InstalmentPlan.objects.filter(order_id__in=ids).values_list("order_id", flat=True)
    )


def _stripe_named(path: str, post_data: object, query: str) -> tuple[tuple[str, ...], bool]:
    """The ids a Stripe request names, and whether it creates an object (POST to a
    collection)."""
    rest = path.removeprefix("/v1/")
    named: list[str] = []
    creates = False
    for collection in STRIPE_COLLECTIONS:
        if rest == collection:
            creates = True
            break
        if rest.startswith(collection + "/"):
            named.append(rest[len(collection) + 1 :].split("/")[0])
            break
    else:
        named.append(f"unknown path {path}")
    text = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
    for key, value in parse_qsl(f"{text}&{query}", keep_blank_values=True):
        if key.split("[")[0] in ID_PARAMETERS or key.endswith(("[coupon]", "[tax_rates][]")):
            named.append(value)
    return tuple(named), creates


def provider_calls_recorded(monkeypatch: pytest.MonkeyPatch) -> ProviderCalls:
    """Record every provider request the shop makes from now on (until `monkeypatch` undoes
    it, at the end of the test)."""
    recorder = ProviderCalls()
    stripe_request = SandboxHTTPClient.request
    payparts_post = SandboxTransport.post

    def stripe_recorded(client, method, url, headers, post_data=None, **kwargs):
        parts = urlsplit(url)
        named, creates = _stripe_named(parts.path, post_data, parts.query)
        ours = recorder._record("stripe", method.upper(), parts.path, named)
        body, status, answer_headers = stripe_request(
            client, method, url, headers, post_data, **kwargs
        )
        if status == 200 and (ours or creates):
            recorder._learn(json.loads(body))
        return body, status, answer_headers

    def payparts_recorded(transport, url, body, headers):
        data = json.loads(body)
        endpoint = urlsplit(url).path.rsplit("/", 2)[-2:]
        creates = endpoint == ["payment", "create"]
        named = () if creates else (str(data.get("orderId", "")),)
        recorder._record("payparts", "POST", "/".join(endpoint), named)
        status, raw = payparts_post(transport, url, body, headers)
        answer = json.loads(raw)
        if creates and answer.get("state") == "SUCCESS":
            recorder.issued.add(str(data.get("orderId")))
        return status, raw

    monkeypatch.setattr(SandboxHTTPClient, "request", stripe_recorded)
    monkeypatch.setattr(SandboxTransport, "post", payparts_recorded)
    return recorder
