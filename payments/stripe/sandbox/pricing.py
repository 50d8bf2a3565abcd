"""Stripe's amount arithmetic for a Checkout Session: discounts, then taxes, in minor units.

`checkout_amounts` prices the lines of a session from their subtotals, their tax rates'
exact terms (`RateTerms`) and at most one coupon, to the minor unit as Stripe does, and returns
each line's `LineAmounts`; `spread` shares an `amount_off` over the lines (largest remainder),
`round_half_up` rounds each percentage of an amount to a whole minor unit. The rules are
written out in `checkout_amounts`; the shop's own pricing (`storefront/shop/pricing.py`) follows
them, and the shop's tests pin its totals to the sandbox's `amount_total`.

Pure arithmetic: no database, no parameters, no errors. Whether a total is allowed (Stripe's
minimum and maximum charge) is the Checkout Session's check (`checkout_sessions`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext


@dataclass(frozen=True)
class RateTerms:
    """What a tax rate contributes to the arithmetic: its exact percentage and kind."""

    percentage: Decimal
    inclusive: bool


@dataclass(frozen=True)
class LineAmounts:
    subtotal: int
    discount: int
    taxes: tuple[int, ...]  # one amount per tax rate of the line, in the line's order
    taxable_amount: int  # what the rates are on: the line after discount, net of inclusive tax
    total: int

    @property
    def tax(self) -> int:
        return sum(self.taxes)


def round_half_up(value: Decimal) -> int:
    """Round to a whole minor unit, halves away from zero (amounts here are never negative)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def spread(amount: int, weights: Sequence[int]) -> list[int]:
    """Share `amount` in proportion to `weights` by the largest-remainder method.

    Each share is first rounded down (`amount * w // Σw`, integer arithmetic); the minor units
    left over go one each to the largest remainders (`amount * w % Σw`), ties to the earlier
    weight. The shares always add up to `amount`.
    """
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [amount * weight // whole for weight in weights]
    remainders = [amount * weight % whole for weight in weights]
    leftover = amount - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
        shares[index] += 1
    return shares


def checkout_amounts(
    lines: Sequence[tuple[int, Sequence[RateTerms]]],
    *,
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
) -> list[LineAmounts]:
    """Price the lines of a Checkout Session as Stripe does, in integer minor units.

    `lines` holds, per line item, its subtotal (`unit_amount * quantity`) and its tax rates. The
    rules, which the shop's own pricing (`storefront/shop/pricing.py`) follows to the minor unit:

    1. `amount_subtotal = Σ line subtotals`.
    2. Discount (at most one coupon), taken before tax:
       - `percent_off`: each line's discount = round_half_up(subtotal * percent_off / 100);
       - `amount_off`: `d = min(amount_off, amount_subtotal)` is spread over the lines in
         proportion to their subtotals by the largest-remainder method (`spread`): each share
         rounded down, the leftover minor units one each to the largest remainders, ties to
         the earlier line; so Σ line discounts == d.
       `total_details.amount_discount = Σ line discounts`.
    3. Taxes, per line, on `base = subtotal − discount`. With `P_incl` = Σ percentages of the
       line's inclusive rates:
       - each inclusive rate's tax = round_half_up(base * p / (100 + P_incl)) (the part of
         `base` it already is);
       - `net = base − Σ inclusive taxes`; each exclusive rate's tax =
         round_half_up(net * p / 100) (added on top);
       - line `amount_tax` = Σ all its taxes, inclusive ones included (as Stripe reports them);
         line `amount_total = base + Σ exclusive taxes`; every tax's `taxable_amount` is `net`.
    4. `total_details.amount_tax = Σ line amount_tax`;
       `amount_total = amount_subtotal − amount_discount + Σ exclusive taxes`
       (== Σ line amount_total). Stripe's minimum and maximum charge apply to `amount_total`.

    round_half_up is Decimal `quantize(Decimal(1), ROUND_HALF_UP)` to a whole minor unit. No
    float is involved: percentages are exact Decimals, amounts ints, and the division runs with
    enough precision that no quotient can be rounded before it is rounded half-up.
    """
    subtotals = [subtotal for subtotal, _ in lines]
    with localcontext() as context:
        # Exact products; quotients far beyond the minor unit (amounts can be any int here:
        # the maximum-charge check comes after).
        context.prec = max(28, len(str(max(subtotals, default=0))) + 30)
        return _checkout_amounts(lines, subtotals, percent_off, amount_off)


def _checkout_amounts(lines, subtotals, percent_off, amount_off) -> list[LineAmounts]:
    if percent_off is not None:
        discounts = [round_half_up(subtotal * percent_off / 100) for subtotal in subtotals]
    elif amount_off is not None:
        discounts = spread(min(amount_off, sum(subtotals)), subtotals)
    else:
        discounts = [0] * len(subtotals)
    priced = []
    for (subtotal, rates), discount in zip(lines, discounts, strict=True):
        base = subtotal - discount
        inclusive_percent = sum((r.percentage for r in rates if r.inclusive), Decimal(0))
        inclusive = {
            index: round_half_up(base * r.percentage / (100 + inclusive_percent))
            for index, r in enumerate(rates)
            if r.inclusive
        }
        net = base - sum(inclusive.values())
        taxes = [
            inclusive[index] if r.inclusive else round_half_up(net * r.percentage / 100)
            for index, r in enumerate(rates)
        ]
        exclusive = sum(tax for r, tax in zip(rates, taxes, strict=True) if not r.inclusive)
        priced.append(
            LineAmounts(
                subtotal=subtotal,
                discount=discount,
                taxes=tuple(taxes),
                taxable_amount=net,
                total=base + exclusive,
            )
        )
    return priced
