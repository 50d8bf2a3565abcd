"""Test data builders."""

from decimal import Decimal
from itertools import count

from djmoney.money import Money

from storefront.models import Item

_numbers = count(1)


def make_item(*, price: str = "19.99", currency: str = "USD", **fields) -> Item:
    number = next(_numbers)
    fields.setdefault("name", f"Test item {number}")
    fields.setdefault("description", f"Description of test item {number}.")
    item = Item(price=Money(Decimal(price), currency), **fields)
    item.full_clean()
    item.save()
    return item
