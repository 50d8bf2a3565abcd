"""JSON as PrivatBank's "Pay in parts" API documents it: `amount` and each product's `price`
are numbers (Double) with two decimals, `"amount": 400.00`, not strings.

Python's `json` writes a `Decimal` only by way of a float (or not at all), and a float is not
the amount: `bank_json` writes each `Decimal` as its own exact digits instead, refusing one
that is not a whole number of kopecks rather than rounding it, and refuses floats outright.
`bank_json_read` is the other side (the sandbox bank's): numbers with a fraction are read as
`Decimal`, never as floats, and NaN or Infinity are not numbers at all.
"""

import json
from decimal import Decimal
from typing import Any

KOPECK = Decimal("0.01")
BOUND = Decimal(10) ** 15


def _write(value: Any) -> str:
    if isinstance(value, Decimal):
        # Bounded first: quantize() cannot hold more than the context's 28 digits.
        if not value.is_finite() or abs(value) >= BOUND or value != value.quantize(KOPECK):
            raise ValueError(f"{value} is not a whole number of kopecks the bank takes.")
        return f"{value:.2f}"
    if isinstance(value, float):
        raise TypeError("Amounts go to the bank as Decimal, never float.")
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(key), ensure_ascii=False)}: {_write(v)}" for key, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_write(item) for item in value) + "]"
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"{type(value).__name__} is not sent to the bank.")


def bank_json(value: Any) -> bytes:
    """`value` (dicts, lists, text, integers, Decimals) as the bank's JSON, UTF-8 encoded."""
    return _write(value).encode("utf-8")


def _not_a_number(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number.")


def bank_json_read(raw: bytes | str) -> Any:
    """Parse the bank's JSON: fractions as Decimal. Raises ValueError (RecursionError, too,
    for nesting deeper than any parser goes: callers treat both as "not JSON")."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_not_a_number)
