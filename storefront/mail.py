"""E-mails the shop owes buyers about their orders (receipts, refund notices).

`mail_due` writes one down inside the transaction that made it due; sending follows after
commit (to be completed: see issue 14).
"""

from storefront.models import Order, OrderMail


def mail_due(*, order: Order, kind: str, key: str = "") -> OrderMail | None:
    """Write down, once, that `order`'s buyer is owed a `kind` e-mail (none without an
    address); the unique constraint makes a second call a no-op."""
    if not order.email:
        return None
    mail, _ = OrderMail.objects.get_or_create(
        order=order, kind=kind, key=key, defaults={"to": order.email}
    )
    return mail
