"""The "Pay in parts" rail as the core sees it.

- Paying (`Method.REDIRECT`): a UAH payable within the bank's limits, in the number of parts the
  buyer chose (`Payable.options["parts"]`). The payment is created at the bank, its answer
  verified, and only then recorded; the buyer goes to the bank's page with the token.
- Coming back: the return URL carries our `orderId`; `confirm` asks the bank (`payment/state`).
- Notifications: the bank's callback at `/payments/payparts/callback/` (the `responseUrl` we
  send), handed to the core's notification view for the store in use.

The rail's one account is the store; its identity on our records is the store id.
"""

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.db import transaction
from django.http import HttpRequest
from django.urls import include, path, reverse

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units
from payments.errors import AccountUnavailable, PaymentError
from payments.models import Payment, ReceivedNotification
from payments.payparts import NAME, callback, client, config, views
from payments.payparts.create_request import CreateRequest
from payments.payparts.instalments import instalments_text
from payments.payparts.signals import pay_parts_success_callback
from payments.payparts.signatures import Product
from payments.rails import Rail
from payments.records import payment_record
from payments.values import (
    Link,
    Method,
    Notification,
    Payable,
    PaymentStart,
    PayOption,
    ProviderState,
)

PAY_OPTION_TEMPLATE = "payments/payparts/pay_option.html"
LABEL = "Pay in parts (PrivatBank)"


def _limits_text() -> str:
    low = format_money(from_minor_units(config.AMOUNT_MIN, config.CURRENCY), config.CURRENCY)
    high = format_money(from_minor_units(config.AMOUNT_MAX, config.CURRENCY), config.CURRENCY)
    return f"{low} to {high}"


def within_limits(amount: int) -> bool:
    return config.AMOUNT_MIN <= amount <= config.AMOUNT_MAX


def parts_chosen(options: Mapping[str, str]) -> int:
    """The buyer's number of parts (`options["parts"]`, 2 by default). Raises PaymentError."""
    raw = options.get("parts") or str(config.PARTS_MIN)
    # Two digits at most before int(): a query of thousands of digits is refused, not a 500.
    if (
        len(raw) > 2
        or not raw.isascii()
        or not raw.isdigit()
        or not config.PARTS_MIN <= int(raw) <= config.parts_max()
    ):
        raise PaymentError(f"Choose {config.PARTS_MIN} to {config.parts_max()} parts.", status=400)
    return int(raw)


def _products(payable: Payable) -> tuple[Product, ...]:
    """The lines as the bank's products, when they add up to the total (the bank requires it);
    otherwise (a discount, taxes on top) one product: the whole payable."""
    products = tuple(
        Product(name=line.name[:128], count=line.quantity, price=line.unit_price.amount)
        for line in payable.lines
    )
    total = from_minor_units(payable.total, payable.currency)
    if products and sum(p.price * p.count for p in products) == total:
        return products
    return (Product(name=payable.description[:128], count=1, price=total),)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _absolute(url: str, origin: str) -> str:
    return url if urlsplit(url).scheme else origin + url


class PayPartsRail(Rail):
    name = NAME
    verbose_name = "PrivatBank Pay in parts"
    methods = (Method.REDIRECT,)

    def accepts(self, *, currency: str) -> bool:
        if currency.upper() != config.CURRENCY:
            return False
        try:
            config.store()
        except AccountUnavailable:
            return False
        return True

    def pay_option(
        self, *, currency: str, amount: int | None, urls: Mapping[Method, str]
    ) -> PayOption | None:
        if currency.upper() != config.CURRENCY or Method.REDIRECT not in urls:
            return None
        try:
            config.store()
        except AccountUnavailable as exc:
            return PayOption(NAME, LABEL, PAY_OPTION_TEMPLATE, {"unavailable": exc.message})
        if amount is not None and not within_limits(amount):
            return PayOption(
                NAME,
                LABEL,
                PAY_OPTION_TEMPLATE,
                {"unavailable": f"Paying in parts is possible for {_limits_text()}."},
            )
        # What the bank will charge, part by part (`instalments`); just the count where the
        # amount is not known.
        choices = [
            {
                "parts": parts,
                "text": instalments_text(amount, parts) if amount else f"{parts} parts",
            }
            for parts in range(config.PARTS_MIN, config.parts_max() + 1)
        ]
        return PayOption(
            NAME,
            LABEL,
            PAY_OPTION_TEMPLATE,
            {"buy_url": urls[Method.REDIRECT], "choices": choices},
            sandbox=self.sandbox_in_use(),
        )

    def start(
        self, *, payable: Payable, method: Method, return_url: str, cancel_url: str
    ) -> PaymentStart:
        if payable.currency.upper() != config.CURRENCY:
            raise PaymentError(
                f"Paying in parts is possible in {config.CURRENCY} only.", status=400
            )
        store = config.store()
        parts = parts_chosen(payable.options)
        if not within_limits(payable.total):
            raise PaymentError(f"Paying in parts is possible for {_limits_text()}.", status=400)
        order_id = f"{payable.reference}-{secrets.token_hex(4)}"
        origin = _origin(return_url)
        request = CreateRequest(
            store_id=store.store_id,
            order_id=order_id,
            amount=from_minor_units(payable.total, config.CURRENCY),
            parts_count=parts,
            merchant_type=config.merchant_type(),
            response_url=origin + reverse("payparts_callback"),
            redirect_url=f"{return_url}?{urlencode({'orderId': order_id})}",
            products=_products(payable),
        )
        token = client.payment_create(store, request)
        # Recorded only now: a refused or unverifiable creation leaves nothing behind.
        payment_record(
            rail=NAME,
            account=store.store_id,
            livemode=store.livemode,
            reference=payable.reference,
            provider_ref=order_id,
            currency=config.CURRENCY,
            amount=payable.total,
        )
        redirect = _absolute(store.redirect_url, origin)
        return PaymentStart(
            rail=NAME,
            provider_ref=order_id,
            redirect_url=f"{redirect}?{urlencode({'token': token})}",
        )

    def confirm(self, *, query: Mapping[str, str]) -> ProviderState:
        order_id = query.get("orderId", "")
        # Only what could be one of our order ids is looked up (no NUL, which PostgreSQL
        # refuses, whatever reached this past the site's guard).
        readable = bool(order_id) and callback.field_readable("orderId", order_id)
        payment = (
            Payment.objects.filter(rail=NAME, provider_ref=order_id).first() if readable else None
        )
        if payment is None:
            raise PaymentError("This link does not point to a payment.", status=404)
        return self.payment_state(payment)

    def accounts(self) -> list[str]:
        try:
            return [config.store().store_id]
        except AccountUnavailable:
            return []

    def payment_state(self, payment) -> ProviderState:
        order_id = payment.provider_ref
        store = config.store_with_identity(payment.account)
        if store is None:
            raise PaymentError("This payment's PrivatBank store is no longer in use.", status=404)
        answer = client.payment_state(store, order_id)
        return callback.provider_state(
            store, order_id=order_id, payment_state=answer.payment_state, message=answer.message
        )

    def notification_read(self, *, request: HttpRequest, account: str) -> Notification:
        return callback.callback_read(request, account=account)

    def notification_act(self, notification: Notification) -> bool:
        """Announce a first authentic callback, in any state, as django-ok-payparts did
        (`signals.py`), once what it changed commits. The payment itself is the core's."""
        received, state = notification.detail, notification.state
        if isinstance(received, callback.CallbackReceived) and state is not None:
            transaction.on_commit(
                lambda: pay_parts_success_callback.send(
                    sender=ReceivedNotification,
                    log=received.log,
                    request=received.request,
                    store_id=state.account,
                    order_id=state.provider_ref,
                    message=state.message,
                ),
                robust=True,
            )
        return False

    def admin_links(self, payment) -> list[Link]:
        if payment.account != config.SANDBOX_STORE_ID or not apps.is_installed(config.SANDBOX_APP):
            return []
        url = reverse("admin:payparts_sandbox_instalmentplan_changelist")
        return [
            Link(
                "Sandbox bank: instalment plan",
                f"{url}?{urlencode({'order_id': payment.provider_ref})}",
                external=False,
            )
        ]

    def account_label(self, account: str) -> str:
        if account == config.SANDBOX_STORE_ID:
            return "PrivatBank sandbox store"
        return f"PrivatBank store {account}"

    def urlpatterns(self) -> list:
        patterns = [path("payments/payparts/callback/", views.callback, name="payparts_callback")]
        # The sandbox bank is a plug-in: routed only where it is installed (PAYPARTS_SANDBOX).
        if apps.is_installed(config.SANDBOX_APP):
            patterns.append(path("sandbox/payparts/", include("payments.payparts.sandbox.urls")))
        return patterns

    def sandbox_in_use(self) -> bool:
        try:
            return config.store().sandbox
        except AccountUnavailable:
            return False

    def real_money_in_use(self) -> bool:
        try:
            return not config.store().sandbox
        except AccountUnavailable:
            return False
