"""The parts a total is split into: in kopecks, adding up to the total, as the bank charges."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from currencies.formatting import format_money
from payments.payparts.instalments import instalments, instalments_text
from payments.payparts.sandbox.models import InstalmentPlan

from .payparts_tools import buy, uah_item


def uah(amount: str) -> str:
    return format_money(Decimal(amount), "UAH")


@pytest.mark.parametrize(
    ("amount", "parts", "expected"),
    [
        (145000, 3, (48334, 48333, 48333)),
        (145000, 2, (72500, 72500)),
        (100000, 6, (16670, 16666, 16666, 16666, 16666, 16666)),
        (30001, 4, (7501, 7500, 7500, 7500)),
        (5, 1, (5,)),
    ],
)
def test_the_first_part_takes_the_kopecks_left_over(amount, parts, expected):
    assert instalments(amount, parts) == expected


def test_the_parts_always_add_up_to_the_total():
    for amount in range(30000, 31000):
        for parts in range(2, 26):
            split = instalments(amount, parts)
            assert sum(split) == amount and len(split) == parts
            assert max(split) - min(split) < parts


@pytest.mark.parametrize(("amount", "parts"), [(0, 3), (-1, 2), (100, 0)])
def test_nothing_or_no_parts_cannot_be_split(amount, parts):
    with pytest.raises(ValueError):
        instalments(amount, parts)


def test_the_words_name_each_charge():
    assert (
        instalments_text(145000, 3) == f"3 parts: first {uah('483.34')}, then 2 × {uah('483.33')}"
    )
    assert instalments_text(360000, 3) == f"3 parts of {uah('1200.00')}"


@pytest.mark.django_db
def test_the_sandbox_bank_shows_the_same_parts_as_the_shop(client):
    item = uah_item("1450.00")
    shop_page = client.get(f"/item/{item.pk}").content.decode()
    url = urlsplit(buy(client, item, parts=3).json()["url"])
    token = parse_qs(url.query)["token"][0]

    bank_page = client.get(url.path, {"token": token}).content.decode()

    words = f"3 parts: first {uah('483.34')}, then 2 × {uah('483.33')}"
    assert words in shop_page
    assert f'<dd id="payparts-parts">{words}</dd>' in bank_page
    assert InstalmentPlan.objects.get(token=token).amount == Decimal("1450.00")
