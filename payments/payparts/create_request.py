"""A `payment/create` request: its fields, the bank's rules for them, and its signed body.

The rules are checked here before any request is made (the bank would refuse, and a refusal
costs a round trip and says less), and the sandbox bank checks the same rules on what arrives.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from payments.payparts import config
from payments.payparts.signatures import Product, create_request_signature, kopecks


class RequestInvalid(ValueError):
    """The request breaks one of the bank's rules; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CreateRequest:
    store_id: str
    order_id: str
    amount: Decimal
    parts_count: int
    merchant_type: str
    response_url: str
    redirect_url: str
    products: tuple[Product, ...]

    def validate(self) -> None:
        """Raise RequestInvalid unless the bank's rules hold."""
        if not self.store_id or len(self.store_id) > 20:
            raise RequestInvalid("The store id must be 1 to 20 characters.")
        if not self.order_id or len(self.order_id) > 64:
            raise RequestInvalid("The order id must be 1 to 64 characters.")
        if self.merchant_type not in config.MERCHANT_TYPES:
            raise RequestInvalid(f"Unknown merchant type {self.merchant_type!r}.")
        if not config.PARTS_MIN <= self.parts_count <= config.PARTS_MAX:
            raise RequestInvalid(
                f"The number of parts must be {config.PARTS_MIN} to {config.PARTS_MAX}."
            )
        if not self.products:
            raise RequestInvalid("A payment needs at least one product.")
        for product in self.products:
            if not product.name or len(product.name) > 128:
                raise RequestInvalid("A product's name must be 1 to 128 characters.")
            if product.count < 1:
                raise RequestInvalid(f"{product.name}: the count must be at least 1.")
            if product.price < Decimal("0.01"):
                raise RequestInvalid(f"{product.name}: the price must be at least 0.01.")
            kopecks(product.price)
        low, high = Decimal(config.AMOUNT_MIN) / 100, Decimal(config.AMOUNT_MAX) / 100
        if not low <= self.amount <= high:
            raise RequestInvalid(f"The amount must be {low:.2f} to {high:.2f} UAH.")
        total = sum((p.price * p.count for p in self.products), Decimal(0))
        if total != self.amount:
            raise RequestInvalid(
                f"The amount {self.amount:.2f} is not the sum of the products ({total:.2f})."
            )
        for url in (self.response_url, self.redirect_url):
            if not url.startswith(("http://", "https://")):
                raise RequestInvalid("The response and redirect URLs must be absolute.")

    def signature(self, password: str) -> str:
        return create_request_signature(
            password=password,
            store_id=self.store_id,
            order_id=self.order_id,
            amount=self.amount,
            parts_count=self.parts_count,
            merchant_type=self.merchant_type,
            response_url=self.response_url,
            redirect_url=self.redirect_url,
            products=self.products,
        )

    def body(self, password: str) -> dict[str, Any]:
        """The JSON body, signed. Amounts as decimals with two places, as the bank shows them."""
        return {
            "storeId": self.store_id,
            "orderId": self.order_id,
            "amount": f"{self.amount:.2f}",
            "partsCount": self.parts_count,
            "merchantType": self.merchant_type,
            "products": [
                {"name": p.name, "count": p.count, "price": f"{p.price:.2f}"} for p in self.products
            ],
            "responseUrl": self.response_url,
            "redirectUrl": self.redirect_url,
            "signature": self.signature(password),
        }

    @classmethod
    def from_body(cls, body: Any) -> "CreateRequest":
        """Read a body as the bank would (the sandbox's side). Raises RequestInvalid."""
        if not isinstance(body, dict):
            raise RequestInvalid("The body must be a JSON object.")
        try:
            products = tuple(
                Product(name=str(p["name"]), count=int(p["count"]), price=_decimal(p["price"]))
                for p in body["products"]
            )
            return cls(
                store_id=str(body["storeId"]),
                order_id=str(body["orderId"]),
                amount=_decimal(body["amount"]),
                parts_count=int(body["partsCount"]),
                merchant_type=str(body["merchantType"]),
                response_url=str(body.get("responseUrl") or ""),
                redirect_url=str(body.get("redirectUrl") or ""),
                products=products,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RequestInvalid(f"Missing or malformed field: {exc}.") from exc


def _decimal(value: Any) -> Decimal:
    """A JSON amount (a string or a number) as a Decimal; a float goes through its text."""
    if isinstance(value, bool):
        raise TypeError("an amount cannot be true or false")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount") from exc
