"""The sandbox's API server: answers Stripe API requests as Stripe would, from the database.

`handle_request` is called by the sandbox HTTP client (`client.SandboxHTTPClient`) with what the
`stripe` library would have sent over the wire (method, URL, headers, form-encoded body) and
returns what Stripe would have answered (status, JSON body, headers: `Request-Id`,
`Stripe-Version`, `Idempotency-Key`). Objects are shaped like Stripe's own published examples
(`shared/stripe/fixtures3.json`): same fields, same id prefixes, same nesting.

What the sandbox models, like Stripe:
- accounts: every secret key is its own account (`acct_...` derived from the key); an object
  created with one key is invisible to another (`resource_missing`); test keys only: no key,
  a publishable key or a live key is a 401 (`_authenticate`);
- idempotency: a POST replayed with the same `Idempotency-Key` and the same parameters gets the
  first answer again (`Idempotent-Replayed: true`), with other parameters an
  `idempotency_error`; a request refused by validation is not saved against its key; of two
  simultaneous requests with one key, the second gets a 409 (`_replay`, and the unique
  constraint on `SandboxRequest`);
- validation: unknown and missing parameters, empty strings, non-integers (`params`),
  unsupported currencies, amounts that break the currency's minor-unit rules (`objects`),
  totals under Stripe's minimum charge or over its maximum, line items in several currencies;
- Checkout Sessions (`checkout_sessions`, `line_items`): create, retrieve (with
  `expand[]=line_items`), list line items, expire; a coupon (`discounts`) and tax rates per line
  (`line_items[][tax_rates]`), with the amounts computed as Stripe computes them (`pricing`);
  paid on the sandbox's hosted page (`hosted_checkout`, with test `cards`);
- coupons (`coupons`) and tax rates (`tax_rates`): create, retrieve;
- PaymentIntents (`payment_intents`): create, retrieve; confirmed in the browser as Stripe.js
  does it (`payment_confirmation`);
- Charges (`charges`): one per succeeded PaymentIntent, `GET /v1/charges/{id}`; refunds
  (`refunds`): `POST /v1/refunds` (over-refunds refused as Stripe refuses them, the test cards'
  refunds settling later), `GET /v1/refunds[/{id}]`, each sending `refund.*` and
  `charge.refunded`; a refund made "in the dashboard" (`manage.py sandbox_refund`);
- events (`events`): a paid or expired Checkout Session, a succeeded or failed PaymentIntent
  records an Event, sent signed to the account's webhook endpoint; `GET /v1/events/{id}` reads
  it, `GET /v1/events` lists them (`events_list`: newest first, paged, filtered by time, type
  and whether delivery succeeded);
- disputes (`disputes`): opened by the test card 4000 0000 0000 0259 or by hand
  (`manage.py sandbox_dispute`); `GET /v1/disputes/{id}`, evidence by `POST /v1/disputes/{id}`
  (`winning_evidence`/`losing_evidence` decide it, as in Stripe's test mode), accepted by
  `POST .../close`; each change sends its `charge.dispute.*` event;
- time: before answering any request of an account, its Checkout Sessions past `expires_at`
  expire (`checkout_sessions.sessions_expire_due`), as Stripe's would have by then;
- outages (`outage_response`, switched on by `client.sandbox_outage`): no answer at all, or
  Stripe's 500, and nothing created.

Every request is recorded as a `SandboxRequest` (account, the key's last four characters, never
the key; parameters, status, answer), errors and outages included (all but the 409 of a lost
idempotency race): that is what the tests read to prove which account was asked what. A
request runs in one transaction with its record, so an error leaves no half-made object behind.

The route table (`ROUTES`) is built here from the handlers of the resource modules; a handler
takes the account, the decoded parameters and the path's groups, and returns a `Response` or
raises `ApiError` (`objects`). The resource modules never import this one.
"""

import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from payments.stripe.sandbox.charges import retrieve_charge
from payments.stripe.sandbox.checkout_sessions import (
    create_checkout_session,
    expire_checkout_session,
    list_checkout_line_items,
    list_checkout_sessions,
    retrieve_checkout_session,
    sessions_expire_due,
)
from payments.stripe.sandbox.coupons import create_coupon, retrieve_coupon
from payments.stripe.sandbox.disputes import close_dispute, retrieve_dispute, update_dispute
from payments.stripe.sandbox.events import retrieve_event
from payments.stripe.sandbox.events_list import list_events
from payments.stripe.sandbox.models import SandboxRequest
from payments.stripe.sandbox.objects import (
    API_VERSION,
    SANDBOX_SECRET_KEY_PREFIX,
    ApiError,
    Response,
    account_id_for_key,
    new_id,
)
from payments.stripe.sandbox.params import ParamError, decode_form
from payments.stripe.sandbox.payment_intents import (
    create_payment_intent,
    retrieve_payment_intent,
)
from payments.stripe.sandbox.refunds import create_refund, list_refunds, retrieve_refund
from payments.stripe.sandbox.tax_rates import create_tax_rate, retrieve_tax_rate

# The secret keys this sandbox issues: one per currency (`sk_test_sandbox_usd`).
ISSUED_KEY = re.compile(re.escape(SANDBOX_SECRET_KEY_PREFIX) + r"[a-z]{3}")

Handler = Callable[..., Response]
ROUTES: list[tuple[str, str, Handler]] = [
    ("post", r"/v1/checkout/sessions", create_checkout_session),
    ("get", r"/v1/checkout/sessions", list_checkout_sessions),
    ("get", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)", retrieve_checkout_session),
    ("get", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)/line_items", list_checkout_line_items),
    ("post", r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)/expire", expire_checkout_session),
    ("post", r"/v1/coupons", create_coupon),
    ("get", r"/v1/coupons/([^/]+)", retrieve_coupon),
    ("post", r"/v1/tax_rates", create_tax_rate),
    ("get", r"/v1/tax_rates/([^/]+)", retrieve_tax_rate),
    ("get", r"/v1/events", list_events),
    ("get", r"/v1/events/(evt_[A-Za-z0-9]+)", retrieve_event),
    ("post", r"/v1/payment_intents", create_payment_intent),
    ("get", r"/v1/payment_intents/(pi_[A-Za-z0-9]+)", retrieve_payment_intent),
    ("get", r"/v1/charges/(ch_[A-Za-z0-9]+)", retrieve_charge),
    ("post", r"/v1/refunds", create_refund),
    ("get", r"/v1/refunds", list_refunds),
    ("get", r"/v1/refunds/(re_[A-Za-z0-9]+)", retrieve_refund),
    ("get", r"/v1/disputes/(dp_[A-Za-z0-9]+)", retrieve_dispute),
    ("post", r"/v1/disputes/(dp_[A-Za-z0-9]+)", update_dispute),
    ("post", r"/v1/disputes/(dp_[A-Za-z0-9]+)/close", close_dispute),
]
# Handlers that are also given the request's secret key (keyword `api_key`).
KEYED_HANDLERS: set[Handler] = {create_checkout_session}


def _route(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if route_method == method and match:
            return handler, match.groups()
    raise ApiError(
        404,
        f"Unrecognized request URL ({method.upper()}: {path}). The sandbox answers only the "
        "Stripe API calls this shop makes.",
    )


def _api_key(headers: Mapping[str, str]) -> str:
    auth = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    return auth.removeprefix("Bearer ").strip()


def _authenticate(headers: Mapping[str, str]) -> tuple[str, str]:
    key = _api_key(headers)
    if not key:
        raise ApiError(401, "You did not provide an API key.")
    if key.startswith(("pk_test_", "pk_live_")):
        raise ApiError(401, "This API call cannot be made with a publishable API key.")
    if not ISSUED_KEY.fullmatch(key):
        # Like Stripe, a key it never issued is refused: the sandbox issues one test key per
        # currency (payments.stripe.accounts); a live key here is a configuration mistake.
        raise ApiError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
    return account_id_for_key(key), key[-4:]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _error_response(exc: ApiError, request_id: str) -> Response:
    body = dict(exc.body)
    body["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
    return Response(exc.status, {"error": body})


def handle_request(method: str, url: str, headers: Mapping[str, str], body: str | None) -> Response:
    """Answer one API request; record it; honour `Idempotency-Key` like Stripe."""
    request_id = new_id("req_", 14)
    parts = urlsplit(url)
    method = method.lower()
    account, last4, params = "", "", {}
    idempotency_key = _header(headers, "Idempotency-Key") if method == "post" else None
    try:
        account, last4 = _authenticate(headers)
        # What Stripe's clock would have done by now, whatever this request is; committed on
        # its own, so a request refused below does not undo it.
        sessions_expire_due(account)
        try:
            params = decode_form(body if method == "post" else parts.query)
        except ParamError as exc:
            raise ApiError.from_param_error(exc) from exc
        handler, args = _route(method, parts.path)
        if idempotency_key:
            replay = _replay(account, idempotency_key, method, parts.path, params, request_id)
            if replay is not None:
                return replay
        keyed = {"api_key": _api_key(headers)} if handler in KEYED_HANDLERS else {}
        with transaction.atomic():
            response = handler(account, params, *args, **keyed)
            _record(
                account, last4, method, parts.path, params, idempotency_key, response, request_id
            )
    except ApiError as exc:
        response = _error_response(exc, request_id)
        _record(account, last4, method, parts.path, params, idempotency_key, response, request_id)
    except IntegrityError:
        # Another request with the same idempotency key won the race and is being answered.
        response = _error_response(
            ApiError(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                "going through). Please try again later.",
                type="idempotency_error",
            ),
            request_id,
        )
    response.headers.update(_standard_headers(request_id, idempotency_key))
    return response


def outage_response(
    kind: str, method: str, url: str, headers: Mapping[str, str]
) -> Response | None:
    """Record an attempt made during a simulated outage and answer it as the outage would.

    "unreachable": no answer at all (None; the client raises a connection error);
    "server_error": Stripe's 500 `api_error`. Either way nothing is created.
    """
    request_id = new_id("req_", 14)
    try:
        account, last4 = _authenticate(headers)
    except ApiError:
        account, last4 = "", ""
    path = urlsplit(url).path
    if kind == "unreachable":
        response = None
        recorded = Response(0, {})
    else:
        response = recorded = _error_response(
            ApiError(500, "An unknown error occurred", type="api_error"), request_id
        )
        response.headers.update(_standard_headers(request_id, None))
    _record(account, last4, method, path, {}, None, recorded, request_id)
    return response


def _standard_headers(request_id: str, idempotency_key: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Request-Id": request_id,
        "Stripe-Version": API_VERSION,
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def _record(account, last4, method, path, params, idempotency_key, response, request_id) -> None:
    SandboxRequest.objects.create(
        account=account,
        key_last4=last4,
        method=method.upper(),
        path=path,
        params=params,
        idempotency_key=idempotency_key,
        status_code=response.status,
        response=response.body,
        request_id=request_id,
    )


def _replay(account, key, method, path, params, request_id) -> Response | None:
    original = SandboxRequest.objects.filter(
        account=account, idempotency_key=key, replayed=False, status_code__lt=400
    ).first()
    if original is None:
        return None
    if original.path != path or original.params != params:
        response = _error_response(
            ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            ),
            request_id,
        )
        replayed = False
    else:
        response = Response(original.status_code, original.response)
        response.headers["Idempotent-Replayed"] = "true"
        replayed = True
    SandboxRequest.objects.create(
        account=account,
        key_last4=original.key_last4,
        method=method.upper(),
        path=path,
        params=params,
        idempotency_key=key,
        replayed=replayed,
        status_code=response.status,
        response=response.body,
        request_id=request_id,
    )
    return response
