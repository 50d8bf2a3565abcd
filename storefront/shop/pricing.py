"""Order totals, computed the way Stripe Checkout computes them, in integer minor units.

Our order page must show what Checkout will charge, to the minor unit, so the rules follow
Stripe's (coupons and tax rates on a Checkout Session):

1. Each line's subtotal is unit amount × quantity; the order subtotal is their sum.
2. The discount comes off before tax. A percentage is taken from each line and rounded there;
   an amount off (at most the subtotal) is spread over the lines in proportion to their
   subtotals, the minor units left by rounding down going to the largest remainders.
3. Taxes are computed per line on what is left after the discount, each rate rounded there:
   inclusive rates are the part of that amount they are already in
   (`amount × p / (100 + all inclusive p)`); exclusive rates are added on top of the amount
   net of inclusive tax.
4. Total = subtotal − discount + exclusive taxes. Inclusive taxes are reported, not added.

Rounding is half-up to a whole minor unit. No floats anywhere.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from currencies.minor_units import to_minor_units


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TaxRule:
    """A tax as pricing needs it; `key` lets callers tell the results apart."""

    key: object
    percentage: Decimal
    inclusive: bool


@dataclass(frozen=True)
class LineTotals:
    subtotal: int
    discount: int
    taxes: dict = field(default_factory=dict)  # TaxRule.key -> minor units
    exclusive_tax: int = 0

    @property
    def tax(self) -> int:
        return sum(self.taxes.values())

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.exclusive_tax


@dataclass(frozen=True)
class Totals:
    lines: list[LineTotals]

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    def tax_by_key(self) -> dict:
        amounts: dict = {}
        for line in self.lines:
            for key, amount in line.taxes.items():
                amounts[key] = amounts.get(key, 0) + amount
        return amounts


def _spread(amount: int, weights: Sequence[int]) -> list[int]:
    """Share `amount` in proportion to `weights` (largest remainder; ties to earlier lines)."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    shares = [amount * weight // whole for weight in weights]
    remainders = [amount * weight % whole for weight in weights]
    leftover = amount - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
        shares[index] += 1
    return shares


def compute_totals(
    *,
    lines: Sequence[tuple[int, int]],
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
    taxes: Sequence[TaxRule] = (),
) -> Totals:
    """Price `lines` of (unit amount in minor units, quantity) with a discount and taxes."""
    subtotals = [unit * quantity for unit, quantity in lines]
    if percent_off is not None:
        discounts = [_round(subtotal * percent_off / 100) for subtotal in subtotals]
    elif amount_off is not None:
        discounts = _spread(min(amount_off, sum(subtotals)), subtotals)
    else:
        discounts = [0 for _ in subtotals]
    inclusive_percent = sum((t.percentage for t in taxes if t.inclusive), Decimal(0))
    priced = []
    for subtotal, discount in zip(subtotals, discounts, strict=True):
        base = subtotal - discount
        amounts = {
            t.key: _round(base * t.percentage / (100 + inclusive_percent))
            for t in taxes
            if t.inclusive
        }
        net = base - sum(amounts.values())
        exclusive = {t.key: _round(net * t.percentage / 100) for t in taxes if not t.inclusive}
        amounts.update(exclusive)
        priced.append(
            LineTotals(
                subtotal=subtotal,
                discount=discount,
                taxes=amounts,
                exclusive_tax=sum(exclusive.values()),
            )
        )
    return Totals(lines=priced)


def order_totals(order, *, lines=None, taxes=None) -> Totals:
    """Totals of an Order from its lines' unit prices, its discount and its taxes; `lines` and
    `taxes`, where the caller holds them already, are not read again."""
    currency = order.currency
    discount = order.discount
    return compute_totals(
        lines=[
            (to_minor_units(line.unit_price.amount, currency), line.quantity)
            for line in (order.lines.all() if lines is None else lines)
        ],
        percent_off=discount.percent_off if discount else None,
        amount_off=(
            to_minor_units(discount.amount_off.amount, currency)
            if discount and discount.amount_off is not None
            else None
        ),
        taxes=[
            TaxRule(key=tax.pk, percentage=tax.percentage, inclusive=tax.inclusive)
            for tax in (order.taxes.all() if taxes is None else taxes)
        ],
    )
