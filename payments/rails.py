"""The rail interface, and the registry of the rails this site runs.

A rail is one way money reaches the merchant (Stripe, a bank transfer, PrivatBank's "Pay in
parts"), in one package under `payments/`. It subclasses `Rail` and is listed by dotted path
in `settings.PAYMENT_RAILS`; removing a line turns the rail off (its pay buttons disappear,
its notifications answer 404, its recorded payments stay readable in the admin).

The core owns what every rail shares: the `Payment` row (recorded when a rail starts a
payment), the notification log, moving a payment once (`payments.records`), fulfilment and
signals. A rail owns everything about its provider: accounts, how to start and confirm a
payment, how a notification is authenticated and what it means, where the merchant looks.
"""

import importlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import ClassVar

from django.conf import settings
from django.http import HttpRequest
from django.urls import clear_url_caches
from django.utils.module_loading import import_string

from payments.errors import PaymentError
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


class Rail:
    """Base class of a payment rail. Subclasses set the class attributes and override what
    they support; the defaults say "not supported".
    """

    #: Short, stable name: stored on every Payment and ReceivedNotification, used in URLs.
    name: ClassVar[str]
    #: What the merchant reads in the admin.
    verbose_name: ClassVar[str]
    #: The ways a buyer can pay through this rail (`Method.REDIRECT`, `Method.ON_PAGE`).
    methods: ClassVar[tuple[Method, ...]] = ()

    def accepts(self, *, currency: str) -> bool:
        """Whether this rail can take a payment in `currency` now (configured, or sandboxed)."""
        return False

    def pay_option(
        self, *, currency: str, amount: int | None, urls: Mapping[Method, str]
    ) -> PayOption | None:
        """The buttons this rail puts on a page selling something that costs `amount` minor
        units of `currency` (None: not known), for rails whose offer depends on it (limits,
        instalments).

        `urls` are the shop's own URLs that start a payment by each method; the rail's template
        links to them. None when the rail cannot take `currency` (the page shows nothing).
        The answer may depend on the rail's configuration and these arguments only, never on
        rows that change at run time nor on who asks: a page showing it may be kept as
        rendered until the shop's catalogue changes or the process restarts.
        """
        return None

    def start(
        self, *, payable: Payable, method: Method, return_url: str, cancel_url: str
    ) -> PaymentStart:
        """Start paying `payable` and record the `Payment` (payments.records.payment_record).

        `return_url` is where the provider sends the buyer back; the rail adds what it needs to
        find the payment again (its `confirm` reads it). Raises PaymentError.
        """
        raise PaymentError(f"{self.verbose_name} cannot start payments.", status=404)

    def confirm(self, *, query: Mapping[str, str]) -> ProviderState:
        """Ask the provider how the payment named in a return URL's `query` stands.

        Never trusts the query beyond the id it names. Raises PaymentError (404 when the query
        names no payment of this rail).
        """
        raise PaymentError("This link does not point to a payment.", status=400)

    def invoice_instructions(self, *, reference: str, currency: str) -> list[tuple[str, str]]:
        """How to pay `reference` (`"order-5"`) in `currency` through this rail, as (label,
        value) lines to print on its unpaid invoice (a bank's details and the reference to
        quote); none where the rail has nothing to print."""
        return []

    def notification_read(self, *, request: HttpRequest, account: str) -> Notification:
        """Authenticate a notification posted to this rail's endpoint for `account` (the slug
        in its URL) and read it. Raises NotificationRejected when it is not authentic, and
        PaymentError(404) when `account` names no account of this rail.
        """
        raise PaymentError(f"{self.verbose_name} takes no notifications.", status=404)

    def notification_identify(
        self, *, request: HttpRequest, account: str
    ) -> NotificationKey | None:
        """Authenticate a notification as `notification_read` does (raising the same errors)
        and say which one it is, without reading the rest: the core counts a redelivery of
        one it has recorded by this alone (`payments.redeliveries`), and asks
        `notification_read` only for the others. None (the default) where the rail cannot
        tell more cheaply than by reading it all."""
        return None

    def prepare(
        self, *, discounts: Sequence[DiscountTerms], taxes: Sequence[TaxTerms]
    ) -> list[str]:
        """Make at the provider, ahead of the first payment, what payments will need (Stripe's
        coupons and tax rates); return a line per object for the operator."""
        return []

    def provider_objects(self, key: str) -> list[ProviderObject]:
        """What this rail made at its provider for our row `key` (`"discount:5"`)."""
        return []

    def notification_act(self, notification: Notification) -> bool:
        """Do what a first, authentic notification means beyond moving the payment its `state`
        names (the bank rail credits an organisation's balance here). Runs inside the
        transaction that records the notification, so both commit or neither does. Return
        whether it did anything (the record then reads "processed" rather than "ignored").
        """
        return False

    def refund_supported(self, payment) -> bool:
        """Whether `payment` (a succeeded Payment of this rail) can be refunded from our admin
        through `refund`. The core asks it of each payment before it offers a refund (the
        order's Refund button, the refund form) and before it asks the rail to make one; a
        payment it says no to is refunded outside the shop (a bank transfer sent back by
        hand). The default is no: a rail that refunds overrides it (Stripe: every payment; a
        rail whose payments differ by account, method or age answers per payment)."""
        return False

    def partial_refund_supported(self, payment) -> bool:
        """Whether `payment` can be refunded in part (`refund` with less than what remains);
        asked only where `refund_supported(payment)` is true. A payment that can only be
        refunded in full gets a form whose amount is what remains, and any other amount is
        refused before the provider is asked. The default: where a refund is supported, so
        is a partial one."""
        return self.refund_supported(payment)

    def refund(self, *, payment, amount: int, reason: str, request_key: str) -> RefundState:
        """Ask the provider to give back `amount` minor units of `payment` (a succeeded
        Payment) through the account that took it, for `reason` (Refund.Reason's words).

        `request_key` names our Refund row: the rail sends it as the request's idempotency key
        and with the refund (Stripe's metadata), so that a notification about this refund that
        overtakes the answer still finds the row. Raises PaymentError (503 when the provider
        could not be reached: the refund may or may not have been made).
        """
        raise PaymentError(f"{self.verbose_name} payments cannot be refunded here.", status=409)

    def refund_state(self, *, payment, provider_ref: str) -> RefundState:
        """Ask the provider how the refund `provider_ref` of `payment` stands now, through the
        account that took the payment: what the core records when two words about a refund's
        final status disagree (news arrives in any order; the provider's current object is
        the authority, never the older word).

        Raises PaymentError: 503 (or another 5xx) when the provider could not be asked now
        (the notification is retried); below 500 when it cannot say (no such refund on that
        account, or a rail that cannot be asked: the refund is then flagged for the merchant).
        A rail that refunds (`refund_supported`) must implement it.
        """
        raise PaymentError(f"{self.verbose_name} cannot be asked about a refund.", status=404)

    def accounts(self) -> list[str]:
        """The identities (as stored on a Payment) of the accounts this rail uses now."""
        return []

    def account_codes(self, account: str) -> tuple[str, ...]:
        """Short names an operator may use for `account` (one of `accounts()`), beside its
        identity, e.g. on the command line (`payments_reconcile --account EUR`)."""
        return ()

    def missed_notifications(
        self, *, account: str, since: datetime
    ) -> Iterator[tuple[Notification, str]]:
        """What the provider sent (or tried to send) to `account`'s endpoint since `since`,
        those it could not deliver first, each as (notification, its body as text): for
        `payments_reconcile`, which records each exactly as if it had arrived by webhook.
        Raises PaymentError when the provider cannot be asked."""
        return iter(())

    def payment_state(self, payment) -> ProviderState:
        """Ask the provider how `payment` (one this rail started) stands now: reconcile's
        check of payments still pending. Raises PaymentError."""
        raise PaymentError(f"{self.verbose_name} cannot be asked about a payment.", status=404)

    def admin_links(self, payment) -> list[Link]:
        """Where the merchant can look at `payment` at the provider (or in a sandbox)."""
        return []

    def account_label(self, account: str) -> str:
        """`account` (as stored on a Payment) in words a merchant recognises."""
        return account

    def urlpatterns(self) -> list:
        """URL patterns this rail serves beyond its notification endpoint, from the site's
        root (a sandbox's pages); read once, when the URLconf loads."""
        return []

    def sandbox_in_use(self) -> bool:
        """Whether any account of this rail takes its payments in an offline sandbox now."""
        return False

    def real_money_in_use(self) -> bool:
        """Whether any account of this rail takes real money now (not a sandbox). While any
        rail does, no page says "Sandbox mode" across the site; each sandboxed way of paying
        says it beside its buttons (`PayOption.sandbox`)."""
        return False


@cache
def _load(paths: tuple[str, ...]) -> dict[str, Rail]:
    loaded: dict[str, Rail] = {}
    for path in paths:
        rail = import_string(path)()
        if rail.name in loaded:
            raise ValueError(f"Two rails are named {rail.name!r} in PAYMENT_RAILS.")
        loaded[rail.name] = rail
    return loaded


def all_rails() -> dict[str, Rail]:
    """The rails of `settings.PAYMENT_RAILS`, by name, in the order listed."""
    return _load(tuple(settings.PAYMENT_RAILS))


def routes_reload(*, setting: str, **kwargs) -> None:
    """Load the URLconf again when PAYMENT_RAILS changes at run time (tests do; a deployed site
    does not): each rail's own routes (`Rail.urlpatterns`) are read when the URLconf loads."""
    if setting != "PAYMENT_RAILS":
        return
    for name in ("payments.urls", settings.ROOT_URLCONF):
        if name in sys.modules:
            importlib.reload(sys.modules[name])
    clear_url_caches()


def rail_named(name: str) -> Rail:
    """The rail called `name`, or PaymentError(404) when this site does not run it."""
    rail = all_rails().get(name)
    if rail is None:
        raise PaymentError("This way of paying is not available in this shop.", status=404)
    return rail
