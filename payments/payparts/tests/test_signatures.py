"""The bank's signatures: the worked vector of its spec, and vectors computed here by hand."""

import base64
import hashlib
from decimal import Decimal

import pytest

from payments.payparts.signatures import (
    Product,
    callback_signature,
    create_request_signature,
    create_response_signature,
    kopecks,
    signature_matches,
    state_request_signature,
    state_response_signature,
)

PASSWORD = "75bef16bfdce4d0e9c4ad9d0e3ac9b9f"
STORE = "4AAD1369CF734B64B70F"


def by_hand(text: str) -> str:
    return base64.b64encode(hashlib.sha1(text.encode("utf-8")).digest()).decode()  # noqa: S324


def test_the_banks_worked_vector():
    signature = create_request_signature(
        password=PASSWORD,
        store_id=STORE,
        order_id="order-123",
        amount=Decimal("400.00"),
        parts_count=2,
        merchant_type="II",
        response_url="http://shop.com/response",
        redirect_url="http://shop.com/redirect",
        products=[
            Product("Телевизор", 2, Decimal("100.00")),
            Product("Микроволновка", 1, Decimal("200.00")),
        ],
    )
    assert signature == "o4IhcHHAVOnbHKIuwk36ttsRG7g="


def test_it_is_base64_of_the_raw_digest_not_of_the_hex():
    expected = by_hand(f"{PASSWORD}{STORE}order-1{PASSWORD}")
    assert state_request_signature(password=PASSWORD, store_id=STORE, order_id="order-1") == (
        expected
    )
    assert len(base64.b64decode(expected)) == 20


def test_amounts_are_kopecks_from_decimal_never_float():
    assert kopecks(Decimal("301.00")) == "30100"
    assert kopecks(Decimal("19.99")) == "1999"  # int(19.99 * 100) would be 1998
    with pytest.raises(ValueError, match="kopecks"):
        kopecks(Decimal("1.005"))
    signature = create_request_signature(
        password="p",
        store_id="S",
        order_id="o",
        amount=Decimal("319.98"),
        parts_count=3,
        merchant_type="PP",
        response_url="https://a/r",
        redirect_url="https://a/b",
        products=[Product("Шуба", 2, Decimal("159.99"))],
    )
    assert signature == by_hand("pSo319983PPhttps://a/rhttps://a/bШуба215999p")  # noqa: RUF001


def test_response_and_callback_vectors():
    success = create_response_signature(
        password="pw", state="SUCCESS", store_id="S1", order_id="o-1", token_or_message="tok"
    )
    assert success == by_hand("pwSUCCESSS1o-1tokpw")
    callback = callback_signature(
        password="pw", store_id="S1", order_id="o-1", payment_state="FAIL", message=""
    )
    assert callback == by_hand("pwS1o-1FAILpw")
    state = state_response_signature(
        password="pw",
        state="SUCCESS",
        store_id="S1",
        order_id="o-1",
        payment_state="SUCCESS",
        message="ok",
    )
    assert state == by_hand("pwSUCCESSS1o-1SUCCESSokpw")


def test_comparison_refuses_anything_but_the_same_text():
    good = by_hand("x")
    assert signature_matches(good, good)
    assert not signature_matches(good, good[:-2] + "A=")
    assert not signature_matches(good, None)
    assert not signature_matches(good, 12)
    assert not signature_matches(good, "é" + good)
