"""The Stripe rail as the core sees it: one account per currency, two ways to pay.

- `Method.REDIRECT`: a Checkout Session (Stripe's hosted page); the buyer comes back to the
  shop's return URL with `session_id` and `currency`.
- `Method.ON_PAGE`: a PaymentIntent confirmed by the Payment Element on our page; Stripe.js
  brings the buyer back with `payment_intent` (we add `currency`).
Notifications arrive at `/payments/webhooks/stripe/<currency>/`, one endpoint per account,
signed with that account's webhook secret.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.urls import include, path

from payments.errors import AccountUnavailable, PaymentError
from payments.lookups import UnknownPayment
from payments.models import Payment
from payments.rails import Rail
from payments.stripe import NAME, client, links, reconcile
from payments.stripe.accounts import (
    StripeAccount,
    account_for,
    account_with_identity,
    any_sandbox_in_use,
    configured_accounts,
    is_sandbox_identity,
    is_stripe_id,
)
from payments.stripe.checkout import checkout_confirm, checkout_start
from payments.stripe.events import event_id, event_id_leading, event_read
from payments.stripe.intents import payment_intent_confirm, payment_intent_start
from payments.stripe.models import StripeObjectRef
from payments.stripe.references import coupon_ensure, tax_rate_ensure
from payments.stripe.refunds import refund_current, refund_start
from payments.values import (
    DiscountTerms,
    Link,
    Method,
    Notification,
    NotificationKey,
    Payable,
    PaymentStart,
    PayOption,
    ProviderObject,
    ProviderState,
    RefundState,
    TaxTerms,
)

PAY_OPTION_TEMPLATE = "payments/stripe/pay_option.html"
PAYMENT_FORM_TEMPLATE = "payments/stripe/payment_form.html"


def _signed(request: HttpRequest, account: str) -> StripeAccount:
    """The account whose endpoint `request` was posted to, once the signature of its body holds
    (NotificationRejected otherwise): checked once per request, however many times the core asks
    (`notification_identify`, then `notification_read`)."""
    signed = getattr(request, "_stripe_signed", None)
    if signed is not None and signed[0] == account:
        return signed[1]
    try:
        found = account_for(account)
    except AccountUnavailable as exc:
        raise PaymentError(f"No Stripe account for {account.upper()}.", status=404) from exc
    client.webhook_signature_verify(
        found, payload=request.body, header=request.headers.get("Stripe-Signature")
    )
    request._stripe_signed = (account, found)
    return found


def _event(request: HttpRequest, account: StripeAccount) -> dict:
    """The event of a request whose signature held (`_signed`), parsed once per request."""
    event = getattr(request, "_stripe_event", None)
    if event is None:
        event = request._stripe_event = client.webhook_event_parse(account, payload=request.body)
    return event


def _started_on(account: StripeAccount, provider_ref: str) -> bool:
    """Whether our records hold a payment that `account` started as `provider_ref`, in its
    mode (one indexed query; the rule payment_apply enforces again on the answer)."""
    return Payment.objects.filter(
        rail=NAME, account=account.identity, livemode=account.livemode, provider_ref=provider_ref
    ).exists()


class StripeRail(Rail):
    name = NAME
    verbose_name = "Stripe"
    methods = (Method.REDIRECT, Method.ON_PAGE)

    def accepts(self, *, currency: str) -> bool:
        if not self.takes(currency):
            return False
        try:
            account_for(currency)
        except AccountUnavailable:
            return False
        return True

    @staticmethod
    def takes(currency: str) -> bool:
        """Whether this shop has (or sandboxes) a Stripe account for `currency` at all: a
        currency another rail takes (the bank transfer's) gets no Stripe button."""
        return currency.upper() in settings.STRIPE_ACCOUNTS

    def pay_option(
        self, *, currency: str, amount: int | None, urls: Mapping[Method, str]
    ) -> PayOption | None:
        if not self.takes(currency):
            return None
        try:
            account = account_for(currency)
        except AccountUnavailable as exc:
            # Said on the page, so a buyer knows why there is no button.
            return PayOption(NAME, "Stripe", PAY_OPTION_TEMPLATE, {"unavailable": exc.message})
        return PayOption(
            NAME,
            "Card (Stripe)",
            PAY_OPTION_TEMPLATE,
            sandbox=account.sandbox,
            context={
                "publishable_key": account.publishable_key,
                "stripe_js_url": client.stripe_js_url(account),
                # Which way the main button goes; the other stays offered as a link.
                "primary": settings.SHOP_PAYMENT_FLOW,
                "checkout_url": urls.get(Method.REDIRECT, ""),
                "on_page_url": urls.get(Method.ON_PAGE, ""),
            },
        )

    def start(
        self, *, payable: Payable, method: Method, return_url: str, cancel_url: str
    ) -> PaymentStart:
        account = account_for(payable.currency)
        if method == Method.REDIRECT:
            return checkout_start(
                account, payable=payable, return_url=return_url, cancel_url=cancel_url
            )
        return payment_intent_start(
            account, payable=payable, return_url=return_url, form_template=PAYMENT_FORM_TEMPLATE
        )

    def confirm(self, *, query: Mapping[str, str]) -> ProviderState:
        """Ask Stripe about the Checkout Session (`session_id`) or PaymentIntent
        (`payment_intent`) the return URL names, on the account of its `currency`, only once
        our own records say that account started it: an id we never issued is a 404 without
        a request to Stripe (anyone can type one into the URL)."""
        currency = query.get("currency", "")
        if not currency.isalpha():
            raise PaymentError("This link does not point to a payment.", status=400)
        for name, prefix, confirm in (
            ("session_id", "cs_", checkout_confirm),
            ("payment_intent", "pi_", payment_intent_confirm),
        ):
            if name in query:
                account = account_for(currency)
                provider_ref = query[name]
                if not is_stripe_id(provider_ref, prefix):
                    raise PaymentError("This link does not point to a payment.", status=400)
                if not _started_on(account, provider_ref):
                    raise UnknownPayment()
                return confirm(account, provider_ref)
        raise PaymentError("This link does not point to a payment.", status=400)

    def notification_identify(self, *, request: HttpRequest, account: str) -> NotificationKey:
        # The signature is checked on the raw bytes first; then only the event's id is read
        # (a redelivery of an event recorded needs no more).
        found = _signed(request, account)
        known = event_id_leading(request.body) or event_id(found, _event(request, found))
        return NotificationKey(rail=NAME, account=found.identity, event_id=known)

    def notification_read(self, *, request: HttpRequest, account: str) -> Notification:
        found = _signed(request, account)
        return event_read(found, _event(request, found))

    def refund_supported(self, payment) -> bool:
        """Every Stripe payment, in part or in full, through the account that took it."""
        return True

    def refund(self, *, payment, amount: int, reason: str, request_key: str) -> RefundState:
        # Through the account that took the payment (its identity is on the Payment), never
        # the one that takes its currency today: the merchant may have moved it elsewhere.
        account = account_with_identity(payment.account)
        if account is None:
            raise PaymentError(
                f"This payment was taken by {self.account_label(payment.account)}, which this "
                "shop has no keys for now: refund it in that account's Stripe dashboard.",
                status=409,
            )
        return refund_start(
            account, payment=payment, amount=amount, reason=reason, request_key=request_key
        )

    def refund_state(self, *, payment, provider_ref: str) -> RefundState:
        # Asked of the account that took the payment, as its refunds are made.
        account = account_with_identity(payment.account)
        if account is None:
            raise PaymentError(
                f"This payment was taken by {self.account_label(payment.account)}, which this "
                "shop has no keys for now.",
                status=409,
            )
        return refund_current(account, provider_ref)

    def accounts(self) -> list[str]:
        return [account.identity for account in configured_accounts()]

    def account_codes(self, account: str) -> tuple[str, ...]:
        configured = account_with_identity(account)
        return (configured.currency,) if configured is not None else ()

    def missed_notifications(
        self, *, account: str, since: datetime
    ) -> Iterator[tuple[Notification, str]]:
        found = account_with_identity(account)
        if found is None:
            raise PaymentError(f"No Stripe account is configured as {account}.", status=404)
        return reconcile.missed_notifications(found, since=since)

    def payment_state(self, payment) -> ProviderState:
        return reconcile.payment_state(payment)

    def prepare(
        self, *, discounts: Sequence[DiscountTerms], taxes: Sequence[TaxTerms]
    ) -> list[str]:
        """Make every coupon and tax rate on every account now (`manage.py stripe_sync`).

        Amount-off discounts go only to the account of their own currency.
        """
        report = []
        for account in configured_accounts():
            where = f"{account.currency}{' (sandbox)' if account.sandbox else ''}"
            made = [
                ("coupon", discount.key, coupon_ensure(account, discount))
                for discount in discounts
                if discount.amount_off is None
                or str(discount.amount_off.currency) == account.currency
            ]
            made += [("tax_rate", tax.key, tax_rate_ensure(account, tax)) for tax in taxes]
            for kind, key, (stripe_id, created) in made:
                verb = "created" if created else "already there"
                report.append(f"{where}: {key} -> {kind} {stripe_id} ({verb})")
        return report

    def provider_objects(self, key: str) -> list[ProviderObject]:
        refs = StripeObjectRef.objects.filter(local_key=key).order_by("account", "-created")
        return [
            ProviderObject(
                self.account_label(ref.account),
                ref.get_kind_display(),
                ref.stripe_id,
                links.object_ref_url(ref),
            )
            for ref in refs
        ]

    def admin_links(self, payment) -> list[Link]:
        return links.payment_links(payment)

    def account_label(self, account: str) -> str:
        configured = account_with_identity(account)
        if configured is not None:
            return configured.label
        if is_sandbox_identity(account):
            return f"{account.rsplit('_', 1)[-1].upper()} account (sandbox)"
        return f"an account no longer configured ({account[:8]}…{account[-4:]})"

    def urlpatterns(self) -> list:
        # The sandbox is a plug-in: routed only where it is installed (settings.STRIPE_SANDBOX).
        if not apps.is_installed(links.SANDBOX_APP):
            return []
        return [path("sandbox/", include("payments.stripe.sandbox.urls"))]

    def sandbox_in_use(self) -> bool:
        return any_sandbox_in_use()

    def real_money_in_use(self) -> bool:
        return any(not account.sandbox for account in configured_accounts())
