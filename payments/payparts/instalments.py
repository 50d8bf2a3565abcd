"""How the bank splits a total into parts: what the buyer's card is charged, part by part.

Amounts are the currency's minor units (kopecks), so the parts add up to the total exactly:
every part is the total divided by the number of parts, rounded down to the kopeck, and the
first part (paid at the purchase) also takes the kopecks left over. 1,450.00 UAH in 3 parts is
483.34 now, then 2 × 483.33; 3,600.00 UAH in 3 parts is 3 × 1,200.00.

The shop's labels (`rail.PayPartsRail.pay_option`) and the sandbox bank's page both say it
from `instalments`, so what the buyer reads is what the bank charges.
"""

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units
from payments.payparts import config


def instalments(amount: int, parts: int) -> tuple[int, ...]:
    """The parts of `amount` (minor units, > 0) in `parts` (>= 1), first first; they add up to
    `amount`."""
    if amount <= 0 or parts < 1:
        raise ValueError(f"cannot split {amount} into {parts} parts")
    each, left_over = divmod(amount, parts)
    return (each + left_over, *([each] * (parts - 1)))


def instalments_text(amount: int, parts: int, *, currency: str = config.CURRENCY) -> str:
    """The parts in words: "3 parts of 1 200,00 ₴", or "3 parts: first 483,34 ₴, then 2 ×
    483,33 ₴" when the first takes the kopecks left over."""
    first, *rest = instalments(amount, parts)

    def money(minor: int) -> str:
        return format_money(from_minor_units(minor, currency), currency)

    if not rest or first == rest[0]:
        return f"{parts} parts of {money(first)}"
    return f"{parts} parts: first {money(first)}, then {len(rest)} × {money(rest[0])}"
