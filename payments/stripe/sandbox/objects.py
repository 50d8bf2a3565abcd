"""What every part of the sandbox's API shares: ids, accounts, answers, errors, lookups, checks.

- Ids look like Stripe's (`new_id`): a type prefix (`cs_test_`, `pi_`, `txr_`, `evt_`, `req_`)
  and random letters and digits.
- Accounts: every secret key is its own account, `acct_...` derived from the key
  (`account_id_for_key`), so an object created with one key is invisible to another
  (`get_object` answers `resource_missing`, as Stripe does). A sandbox key
  (`sk_test_sandbox_usd`) also names its account's webhook secret (`whsec_sandbox_usd`) and
  currency (`webhook_secret_for_key`, `webhook_currency`), which is where its events go.
- Answers: a handler returns a `Response` (status, JSON body, headers) or raises `ApiError`,
  which carries Stripe's error body (`type`, `message`, `code`, `doc_url`, `param`); the server
  (`server`) wraps it in `{"error": ...}` with the request's log URL.
- Parameters are parsed by the specs of `params` (`parse_params`); a `ParamError` becomes
  Stripe's 400 with the offending `param`. `check_currency` and `check_amount` are the checks
  every amount in a currency goes through (Stripe's currencies, their minor-unit rules).
- Decimals (`percent_off`, `percentage`) are shown as JSON numbers (`json_number`) and kept
  exact as strings (`plain_decimal`) in the object's `private` data; amounts are computed from
  the strings, never from the floats.

Nothing here imports a resource module or the server: they import this.
"""

import hashlib
import secrets
import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from currencies.minor_units import STRIPE_CURRENCIES, CurrencyError, check_minor_amount
from payments.stripe.accounts import SANDBOX_KEY_PREFIXES
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.params import ListOf, Obj, ParamError, Str

API_VERSION = "2026-10-28.endive"
# Stripe refuses charges above eight digits of minor units (999,999.99 USD).
MAXIMUM_AMOUNT = 99_999_999
SANDBOX_SECRET_KEY_PREFIX = SANDBOX_KEY_PREFIXES["secret_key"]  # "sk_test_sandbox_"
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return a Stripe-looking id: `cs_test_a1YS...`, `pi_3Pga...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def account_id_for_key(api_key: str) -> str:
    """The sandbox account a secret key belongs to: stable, and reveals nothing of the key."""
    return "acct_" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def webhook_secret_for_key(api_key: str) -> str:
    """The webhook secret of a sandbox key's account: `sk_test_sandbox_usd` → `whsec_sandbox_usd`.

    The same derivation as `payments.stripe.accounts` uses to hand sandbox accounts their keys.
    """
    return "whsec_" + api_key.removeprefix("sk_test_")


def webhook_currency(api_key: str | None, currency: str) -> str:
    """The currency of the account (its webhook endpoint is `/payments/webhooks/stripe/<it>/`).

    A sandbox key names it (`sk_test_sandbox_usd`); for any other key, the session's.
    """
    if api_key and api_key.startswith(SANDBOX_SECRET_KEY_PREFIX):
        return api_key.removeprefix(SANDBOX_SECRET_KEY_PREFIX).lower()
    return currency


class ApiError(Exception):
    """An answer other than 2xx, carrying Stripe's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        if param:
            self.body["param"] = param

    @classmethod
    def from_param_error(cls, exc: ParamError) -> "ApiError":
        return cls(400, exc.message, code=exc.code, param=exc.param)


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# --- Parameters and lookups --------------------------------------------------------------

RETRIEVE = Obj({"expand": ListOf(Str())})


def parse_params(spec: Obj, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return spec.parse(params, "")
    except ParamError as exc:
        raise ApiError.from_param_error(exc) from exc


def get_object(
    account: str, object_type: str, object_id: str, *, name: str | None = None
) -> SandboxObject:
    """Fetch an object of this account, or answer as Stripe does for anything else.

    `name` is how Stripe's message names the type when it differs from `object_type`
    ("No such tax rate: 'txr_...'").
    """
    try:
        return SandboxObject.objects.get(id=object_id, account=account, object=object_type)
    except SandboxObject.DoesNotExist:
        raise ApiError(
            404,
            f"No such {name or object_type}: '{object_id}'",
            code="resource_missing",
            param="id",
        ) from None


# --- Shared checks ------------------------------------------------------------------------


def check_currency(currency: str, param: str) -> None:
    if currency.upper() not in STRIPE_CURRENCIES or currency != currency.lower():
        raise ParamError(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(sorted(code.lower() for code in STRIPE_CURRENCIES)),
            param=param,
        )


def check_amount(amount: int, currency: str, param: str) -> None:
    try:
        check_minor_amount(amount, currency)
    except CurrencyError as exc:
        raise ParamError(str(exc), param=param, code="amount_invalid") from exc


def plain_decimal(number: Decimal) -> str:
    """`Decimal("10.50")` → `"10.5"`, `Decimal("100")` → `"100"`: no exponent, no trailing 0."""
    return format(number.normalize(), "f")


def json_number(number: Decimal) -> int | float:
    """How Stripe writes a decimal field (`percent_off`, `percentage`): a JSON number.

    The sandbox never computes with this value: the exact Decimal is kept in the object's
    `private` data (`plain_decimal` string) and every amount is computed from that.
    """
    return int(number) if number == number.to_integral_value() else float(plain_decimal(number))
