"""The bank's signatures: base64 of the raw 20-byte SHA-1 digest of a UTF-8 concatenation that
starts and ends with the store's password.

One function per message kind, each taking exactly the fields that message signs, so that a
field cannot be left out or put in the wrong order by a caller. Amounts are written as integer
kopecks (`301.00` → `30100`), computed from `Decimal`, never from a float (`int(19.99 * 100)` is
1998). Compare with `signature_matches`, which runs in constant time.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """One line of a payment as the bank sees it."""

    name: str
    count: int
    price: Decimal


def kopecks(amount: Decimal) -> str:
    """`Decimal("301.00")` → `"30100"`. Refuses a fraction of a kopeck."""
    value = Decimal(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of kopecks.")
    return str(int(value))


def _sign(*parts: str) -> str:
    digest = hashlib.sha1("".join(parts).encode("utf-8")).digest()  # noqa: S324 (the bank's scheme)
    return base64.b64encode(digest).decode("ascii")


def create_request_signature(
    *,
    password: str,
    store_id: str,
    order_id: str,
    amount: Decimal,
    parts_count: int,
    merchant_type: str,
    response_url: str,
    redirect_url: str,
    products: Iterable[Product],
) -> str:
    lines = "".join(f"{p.name}{p.count}{kopecks(p.price)}" for p in products)
    return _sign(
        password,
        store_id,
        order_id,
        kopecks(amount),
        str(parts_count),
        merchant_type,
        response_url,
        redirect_url,
        lines,
        password,
    )


def create_response_signature(
    *, password: str, state: str, store_id: str, order_id: str, token_or_message: str
) -> str:
    """A create response: `token` when `state` is SUCCESS, else the bank's `message`."""
    return _sign(password, state, store_id, order_id, token_or_message, password)


def callback_signature(
    *, password: str, store_id: str, order_id: str, payment_state: str, message: str
) -> str:
    return _sign(password, store_id, order_id, payment_state, message, password)


def state_request_signature(*, password: str, store_id: str, order_id: str) -> str:
    return _sign(password, store_id, order_id, password)


def state_response_signature(
    *, password: str, state: str, store_id: str, order_id: str, payment_state: str, message: str
) -> str:
    return _sign(password, state, store_id, order_id, payment_state, message, password)


def signature_matches(expected: str, given: object) -> bool:
    """Whether `given` (whatever a message carried) equals `expected`, in constant time."""
    if not isinstance(given, str) or not given.isascii():
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
