"""What the Pay in parts tests share: a UAH item, starting a payment as the shop's button does,
and the sandbox bank's signed callbacks."""

import json

from payments.payparts import config
from payments.payparts.signatures import callback_signature
from storefront.tests.factories import make_item

CALLBACK_URL = "/payments/payparts/callback/"


def uah_item(price: str = "1200.00", **fields):
    return make_item(price=price, currency="UAH", **fields)


def buy(client, item, parts: int = 4):
    return client.get(f"/buy/{item.pk}", {"rail": "payparts", "parts": str(parts)})


def callback_body(order_id: str, state: str, message: str = "", **changes) -> bytes:
    body = {
        "storeId": config.SANDBOX_STORE_ID,
        "orderId": order_id,
        "paymentState": state,
        "message": message,
        "signature": callback_signature(
            password=config.SANDBOX_PASSWORD,
            store_id=config.SANDBOX_STORE_ID,
            order_id=order_id,
            payment_state=state,
            message=message,
        ),
    }
    body.update(changes)
    return json.dumps(body, ensure_ascii=False).encode()


def post_callback(client, body: bytes, content_type: str = "application/json"):
    return client.post(CALLBACK_URL, data=body, content_type=content_type)
