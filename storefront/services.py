"""Shop services: what a buyer can do with the catalogue."""

from payments.gateway import CheckoutSession
from payments.services import CheckoutLine, checkout_start
from storefront.models import Item


def item_checkout_start(*, item: Item, success_url: str, cancel_url: str) -> CheckoutSession:
    """Open a Checkout Session for one `item`, on the Stripe account of its currency."""
    return checkout_start(
        currency=item.currency,
        lines=[CheckoutLine(name=item.name, unit_price=item.price, description=item.description)],
        reference=f"item-{item.pk}",
        metadata={"kind": "item", "item_id": str(item.pk)},
        success_url=success_url,
        cancel_url=cancel_url,
    )
