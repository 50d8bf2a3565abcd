"""A `payment/create` request: its fields, the bank's rules for them, and its signed body.

The rules are checked here before any request is made (the bank would refuse, and a refusal
costs a round trip and says less), and the sandbox bank checks the same rules on what arrives.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from payments.payparts import config
from payments.payparts.bank_json import KOPECK
from payments.payparts.signatures import Product, create_request_signature, kopecks

# Far above any amount the bank takes, far below what a Decimal context holds.
AMOUNT_BOUND = Decimal(10) ** 15


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
        """The body, signed, for `bank_json`: amounts are Decimals, which it writes as the
        bank documents them, numbers with two decimals (`"amount": 400.00`); the signature
        has them in kopecks (`withoutFloatingPoint`, `40000`)."""
        return {
            "storeId": self.store_id,
            "orderId": self.order_id,
            "amount": self.amount.quantize(KOPECK),
            "partsCount": self.parts_count,
            "merchantType": self.merchant_type,
            "products": [
                {"name": p.name, "count": p.count, "price": p.price.quantize(KOPECK)}
                for p in self.products
            ],
            "responseUrl": self.response_url,
            "redirectUrl": self.redirect_url,
            "signature": self.signature(password),
        }

    @classmethod
    def from_body(cls, body: Any) -> "CreateRequest":
        """Read a body as the bank does (the sandbox bank's side), parsed by `bank_json_read`.

        As strict as the documentation: `amount` and each `price` are JSON numbers (a string
        such as "400.00" is refused), `partsCount` and each `count` JSON integers, the ids and
        names text. Raises RequestInvalid naming the field."""
        if not isinstance(body, dict):
            raise RequestInvalid("The body must be a JSON object.")
        products = body.get("products")
        if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
            raise RequestInvalid("products must be a list of objects.")
        return cls(
            store_id=_text(body, "storeId"),
            order_id=_text(body, "orderId"),
            amount=_number(body, "amount"),
            parts_count=_integer(body, "partsCount"),
            merchant_type=_text(body, "merchantType"),
            response_url=_text(body, "responseUrl", optional=True),
            redirect_url=_text(body, "redirectUrl", optional=True),
            products=tuple(
                Product(
                    name=_text(p, "name", where="products[].name"),
                    count=_integer(p, "count", where="products[].count"),
                    price=_number(p, "price", where="products[].price"),
                )
                for p in products
            ),
        )


def _text(body: dict, name: str, *, where: str = "", optional: bool = False) -> str:
    value = body.get(name)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise RequestInvalid(f"{where or name} must be a string.")
    return value


def _integer(body: dict, name: str, *, where: str = "") -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RequestInvalid(f"{where or name} must be a JSON integer.")
    return value


def _number(body: dict, name: str, *, where: str = "") -> Decimal:
    """A documented Double: a JSON number (read as Decimal, or an int), never a string."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RequestInvalid(
            f"{where or name} must be a JSON number with two decimals (e.g. 400.00), "
            f"not {type(value).__name__}."
        )
    amount = Decimal(value)
    # Bounded before quantize(), which cannot hold more digits than the context's 28.
    if not amount.is_finite() or abs(amount) >= AMOUNT_BOUND:
        raise RequestInvalid(f"{where or name} is out of range.")
    if amount != amount.quantize(KOPECK, rounding=ROUND_DOWN):
        raise RequestInvalid(f"{where or name} must be a whole number of kopecks.")
    return amount
