"""The one module that talks to PrivatBank's "Pay in parts" API.

Two calls, both signed and both answered with a signed message that is verified before any of
it is believed: `payment_create` (returns the token the buyer's redirect needs) and
`payment_state` (how a payment stands). Whatever goes wrong (a rule broken before sending, no
answer, a refusal, an answer we cannot verify) leaves here as `PaymentError` with a message a
buyer may read; `requests` errors never do.

The transport underneath is swappable, exactly like Stripe's HTTP client: a configured store
goes over the network (`requests`, bounded timeouts), the sandbox store through the sandbox
bank's transport, which answers in-process. Everything above the transport (validation,
encoding, signatures, verification) is the same code in both cases.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from django.utils.module_loading import import_string

from payments.errors import PaymentError
from payments.payparts import config
from payments.payparts.bank_json import bank_json
from payments.payparts.create_request import CreateRequest, RequestInvalid
from payments.payparts.signatures import (
    create_response_signature,
    signature_matches,
    state_request_signature,
    state_response_signature,
)

logger = logging.getLogger(__name__)

# (connect, read) seconds: a web worker waits no longer than this for the bank.
TIMEOUT = (3.05, 15)
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "UTF-8",
    "Content-Type": "application/json; charset=UTF-8",
}
UNREACHABLE_MESSAGE = "We could not reach PrivatBank. Please try again in a minute."
UNVERIFIED_MESSAGE = "PrivatBank's answer could not be verified. Please try again later."
SANDBOX_TRANSPORT = "payments.payparts.sandbox.transport.SandboxTransport"


class TransportError(Exception):
    """No answer at all (connection refused, timed out)."""


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST `body`; return the status and the raw answer. Raises TransportError."""


class RequestsTransport:
    """The network, through `requests`."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise TransportError(type(exc).__name__) from exc
        return response.status_code, response.content


def transport_for(store: config.Store) -> Transport:
    return import_string(SANDBOX_TRANSPORT)() if store.sandbox else RequestsTransport()


@dataclass(frozen=True)
class PaymentStateAnswer:
    order_id: str
    payment_state: str
    message: str


def _call(store: config.Store, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST `body` to `{api_url}{endpoint}`; return the answer as a JSON object."""
    url = store.api_url.rstrip("/") + "/" + endpoint
    payload = bank_json(body)
    try:
        status, raw = transport_for(store).post(url, payload, dict(HEADERS))
    except TransportError as exc:
        logger.warning("payparts %s: no answer (%s)", endpoint, exc)
        raise PaymentError(UNREACHABLE_MESSAGE, status=503) from exc
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if status >= 500 or not isinstance(answer, dict):
        logger.warning("payparts %s: HTTP %s, not a JSON answer", endpoint, status)
        raise PaymentError(UNREACHABLE_MESSAGE, status=503)
    return answer


def _text(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    return value if isinstance(value, str) else ""


def payment_create(store: config.Store, request: CreateRequest) -> str:
    """Create the payment at the bank; return its token, once its answer is verified.

    Raises PaymentError: 400 for a request that breaks the bank's rules (nothing is sent),
    502 for a refusal or an answer whose signature does not hold, 503 for no answer.
    """
    try:
        request.validate()
    except RequestInvalid as exc:
        raise PaymentError(f"Paying in parts is not possible: {exc.message}", status=400) from exc
    answer = _call(store, "payment/create", request.body(store.password))
    state = _text(answer, "state")
    detail = _text(answer, "token") if state == "SUCCESS" else _text(answer, "message")
    expected = create_response_signature(
        password=store.password,
        state=state,
        store_id=store.store_id,
        order_id=request.order_id,
        token_or_message=detail,
    )
    if not signature_matches(expected, answer.get("signature")) or (
        _text(answer, "orderId") not in ("", request.order_id)
    ):
        logger.error("payparts create %s: the answer's signature does not hold", request.order_id)
        raise PaymentError(UNVERIFIED_MESSAGE, status=502)
    if state != "SUCCESS" or not detail:
        logger.warning("payparts create %s refused: %s", request.order_id, detail)
        raise PaymentError(
            f"PrivatBank refused the payment: {detail or 'no reason given'}.", status=502
        )
    return detail


def payment_state(store: config.Store, order_id: str) -> PaymentStateAnswer:
    """Ask the bank how the payment `order_id` stands; the answer is verified. Raises
    PaymentError (502 refused or unverifiable, 503 no answer)."""
    signature = state_request_signature(
        password=store.password, store_id=store.store_id, order_id=order_id
    )
    body = {"storeId": store.store_id, "orderId": order_id, "signature": signature}
    answer = _call(store, "payment/state", body)
    state = _text(answer, "state")
    payment_state_ = _text(answer, "paymentState")
    message = _text(answer, "message")
    expected = state_response_signature(
        password=store.password,
        state=state,
        store_id=store.store_id,
        order_id=order_id,
        payment_state=payment_state_,
        message=message,
    )
    if not signature_matches(expected, answer.get("signature")):
        logger.error("payparts state %s: the answer's signature does not hold", order_id)
        raise PaymentError(UNVERIFIED_MESSAGE, status=502)
    if state != "SUCCESS":
        raise PaymentError(
            f"PrivatBank could not say how this payment stands: {message or state}.", status=502
        )
    return PaymentStateAnswer(order_id=order_id, payment_state=payment_state_, message=message)
