"""Test data builders."""

from decimal import Decimal
from itertools import count

from djmoney.money import Money

from storefront.models import Discount, Item, Order, OrderLine, Tax

_numbers = count(1)


def make_item(*, price: str = "19.99", currency: str = "USD", **fields) -> Item:
    number = next(_numbers)
    fields.setdefault("name", f"Test item {number}")
    fields.setdefault("description", f"Description of test item {number}.")
    item = Item(price=Money(Decimal(price), currency), **fields)
    item.full_clean()
    item.save()
    return item


def make_discount(
    *,
    percent_off: str | None = None,
    amount_off: str | None = None,
    currency: str = "USD",
    **fields,
) -> Discount:
    number = next(_numbers)
    fields.setdefault("name", f"Discount {number}")
    discount = Discount(
        percent_off=Decimal(percent_off) if percent_off is not None else None,
        amount_off=Money(Decimal(amount_off), currency) if amount_off is not None else None,
        **fields,
    )
    discount.full_clean()
    discount.save()
    return discount


def make_tax(*, percentage: str = "8", inclusive: bool = False, **fields) -> Tax:
    fields.setdefault("display_name", "Sales tax" if not inclusive else "VAT")
    tax = Tax(percentage=Decimal(percentage), inclusive=inclusive, **fields)
    tax.full_clean()
    tax.save()
    return tax


def make_order(
    *lines: tuple[Item, int], discount: Discount | None = None, taxes: tuple[Tax, ...] = ()
) -> Order:
    order = Order.objects.create(currency=lines[0][0].currency, discount=discount)
    for item, quantity in lines:
        OrderLine.objects.create(order=order, item=item, quantity=quantity, unit_price=item.price)
    order.taxes.set(taxes)
    return order
