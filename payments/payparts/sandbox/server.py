"""The sandbox bank's API: `payment/create` and `payment/state`, with the bank's signature
checks and rules. Each answer is signed as the bank signs it."""

import secrets
from typing import Any

from payments.payparts import config
from payments.payparts.bank_json import bank_json_read
from payments.payparts.create_request import CreateRequest, RequestInvalid
from payments.payparts.sandbox.models import InstalmentPlan
from payments.payparts.signatures import (
    create_response_signature,
    signature_matches,
    state_request_signature,
    state_response_signature,
)

PASSWORDS = {config.SANDBOX_STORE_ID: config.SANDBOX_PASSWORD}


def _create_answer(store_id: str, order_id: str, *, token: str = "", message: str = "") -> dict:
    state = "SUCCESS" if token else "FAIL"
    answer: dict[str, Any] = {"state": state, "storeId": store_id, "orderId": order_id}
    answer["token" if token else "message"] = token or message
    answer["signature"] = create_response_signature(
        password=PASSWORDS.get(store_id, ""),
        state=state,
        store_id=store_id,
        order_id=order_id,
        token_or_message=token or message,
    )
    return answer


def create(body: Any, *, refusal: str | None = None) -> tuple[int, dict]:
    store_id = str(body.get("storeId", "")) if isinstance(body, dict) else ""
    order_id = str(body.get("orderId", "")) if isinstance(body, dict) else ""
    if store_id not in PASSWORDS:
        return 200, {"state": "FAIL", "message": "Unknown store."}
    try:
        request = CreateRequest.from_body(body)
        request.validate()
    except RequestInvalid as exc:
        return 200, _create_answer(store_id, order_id, message=exc.message)
    if not signature_matches(request.signature(PASSWORDS[store_id]), body.get("signature")):
        return 200, _create_answer(store_id, order_id, message="Invalid signature.")
    if refusal:
        return 200, _create_answer(store_id, order_id, message=refusal)
    if InstalmentPlan.objects.filter(order_id=order_id).exists():
        return 200, _create_answer(store_id, order_id, message="orderId is already used.")
    plan = InstalmentPlan.objects.create(
        token=secrets.token_hex(16),
        store_id=store_id,
        order_id=order_id,
        amount=request.amount,
        parts_count=request.parts_count,
        merchant_type=request.merchant_type,
        # The bank's record of the products, its amounts as exact text.
        products=[
            {"name": p.name, "count": p.count, "price": f"{p.price:.2f}"} for p in request.products
        ],
        response_url=request.response_url,
        redirect_url=request.redirect_url,
    )
    return 200, _create_answer(store_id, order_id, token=plan.token)


def state(body: Any) -> tuple[int, dict]:
    if not isinstance(body, dict) or str(body.get("storeId", "")) not in PASSWORDS:
        return 200, {"state": "FAIL", "message": "Unknown store."}
    store_id, order_id = str(body["storeId"]), str(body.get("orderId", ""))
    password = PASSWORDS[store_id]
    expected = state_request_signature(password=password, store_id=store_id, order_id=order_id)
    plan = InstalmentPlan.objects.filter(store_id=store_id, order_id=order_id).first()
    if not signature_matches(expected, body.get("signature")):
        answer = {"state": "FAIL", "paymentState": "", "message": "Invalid signature."}
    elif plan is None:
        answer = {"state": "FAIL", "paymentState": "", "message": "No such order."}
    else:
        answer = {"state": "SUCCESS", "paymentState": plan.payment_state, "message": plan.message}
    answer |= {"storeId": store_id, "orderId": order_id}
    answer["signature"] = state_response_signature(
        password=password,
        state=answer["state"],
        store_id=store_id,
        order_id=order_id,
        payment_state=answer["paymentState"],
        message=answer["message"],
    )
    return 200, answer


def handle(url: str, body: bytes, *, refusal: str | None = None) -> tuple[int, dict]:
    """Answer a POST to the bank's `url` as the bank would."""
    try:
        data = bank_json_read(body)
    except (ValueError, RecursionError):
        return 400, {"state": "FAIL", "message": "The body is not JSON."}
    if url.endswith("/payment/create"):
        return create(data, refusal=refusal)
    if url.endswith("/payment/state"):
        return state(data)
    return 404, {"state": "FAIL", "message": "No such endpoint."}
