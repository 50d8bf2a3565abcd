"""The bank-transfer rail as the core sees it.

- Paying: an order in BANK_TRANSFER_CURRENCY offers "Pay by bank transfer" (`Method.ON_PAGE`);
  starting it records a pending `Payment` whose `provider_ref` is the reference the buyer
  quotes, and shows the payee's bank details. A reference stands for one amount: `INV-<order>`
  for the order's first, `INV-<order>-2` once its total has changed, and so on. Changing or
  cancelling the order closes the payment (`payments.services.payments_close`).
- Notifications: the bank posts each incoming transfer to `/api/webhook/bank/`, signed like
  Stripe's (`payments.signatures`). The core records it once per operation id; this rail's
  `notification_act` credits the payer's balance and settles what the transfer quotes.
- `/api/organizations/<inn>/balance/`: an organisation's balance, for staff and API clients.

The rail's one account is the payee's bank account number (`Payment.account`).
"""

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import path

from payments.bank_transfer import NAME, config, ledger, webhook
from payments.errors import AccountUnavailable, PaymentError
from payments.models import Payment
from payments.rails import Rail
from payments.records import payment_record, payments_close
from payments.values import Method, Notification, Payable, PaymentStart, PayOption

PAY_OPTION_TEMPLATE = "payments/bank_transfer/pay_option.html"
INSTRUCTIONS_TEMPLATE = "payments/bank_transfer/instructions.html"
#: The account slug of the rail's endpoint: one bank account, so one fixed slug.
ENDPOINT_ACCOUNT = "bank"


def _payee() -> config.Payee:
    payee = config.payee()
    if payee is None:
        raise AccountUnavailable(
            "Payment by bank transfer is not available right now: no bank account is configured."
        )
    return payee


def _ident(reference: str) -> str:
    """Our reference's id part (`"order-5"` → `"5"`), which the bank reference is made of."""
    return reference.partition("-")[2] or reference


def _pending(reference: str, *, account: str):
    return Payment.objects.filter(
        rail=NAME, account=account, reference=reference, status=Payment.Status.PENDING
    )


def _next_reference(reference: str, *, issued: int) -> str:
    """The bank reference the next payment of `reference` will get, after `issued` of them."""
    return ledger.reference_for(_ident(reference), issued + 1)


def _payment_for(payable: Payable, payee: config.Payee) -> Payment:
    """The pending payment of `payable` at its current total, made once: a second start (the
    buyer reloads the page) reuses it. One pending for another total (the order was repriced)
    is closed, and a new one made under the next reference.

    Every payment of `payable` is read locked, and the next reference is numbered from what
    that one read saw (never from a second read, which may see a payment another start has
    committed since): two starts at once then choose the same reference, the second's INSERT
    fails on its uniqueness, and its retry finds and reuses the first's."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                issued = list(
                    Payment.objects.filter(rail=NAME, reference=payable.reference)
                    .select_for_update()
                    .order_by("pk")
                )
                pending = [
                    payment
                    for payment in issued
                    if payment.account == payee.account and payment.status == Payment.Status.PENDING
                ]
                for payment in reversed(pending):
                    if (payment.currency, payment.amount_expected) == (
                        payable.currency,
                        payable.total,
                    ):
                        return payment
                if pending:
                    payments_close(
                        references=[payable.reference],
                        rail=NAME,
                        reason=f"the order now costs {payable.total} {payable.currency} (minor "
                        "units), so its pay page shows a new reference",
                    )
                return payment_record(
                    rail=NAME,
                    account=payee.account,
                    livemode=not payee.sandbox,
                    reference=payable.reference,
                    provider_ref=_next_reference(payable.reference, issued=len(issued)),
                    currency=payable.currency,
                    amount=payable.total,
                )
        except IntegrityError:  # started at the same moment by another request: read it
            continue
    raise PaymentError("The payment could not be started; please reload the page.", status=503)


class BankTransferRail(Rail):
    name = NAME
    verbose_name = "Bank transfer"
    methods = (Method.ON_PAGE,)

    def accepts(self, *, currency: str) -> bool:
        return currency.upper() == config.currency() and config.payee() is not None

    def pay_option(
        self, *, currency: str, amount: int | None, urls: Mapping[Method, str]
    ) -> PayOption | None:
        if not self.accepts(currency=currency) or Method.ON_PAGE not in urls:
            return None
        return PayOption(
            NAME,
            "Bank transfer",
            PAY_OPTION_TEMPLATE,
            {"pay_url": f"{urls[Method.ON_PAGE]}?rail={NAME}"},
            sandbox=config.in_sandbox(),
        )

    def start(
        self, *, payable: Payable, method: Method, return_url: str, cancel_url: str
    ) -> PaymentStart:
        if payable.currency.upper() != config.currency():
            raise PaymentError(f"Bank transfers are taken in {config.currency()} only.", status=400)
        payee = _payee()
        payment = _payment_for(payable, payee)
        return PaymentStart(
            rail=NAME,
            provider_ref=payment.provider_ref,
            template=INSTRUCTIONS_TEMPLATE,
            context={
                "payee": payee,
                "reference": payment.provider_ref,
                "amount": payment.amount_expected,
                "currency": payment.currency,
            },
        )

    def invoice_instructions(self, *, reference: str, currency: str) -> list[tuple[str, str]]:
        payee = config.payee()
        if currency.upper() != config.currency() or payee is None:
            return []
        pending = _pending(reference, account=payee.account).order_by("-pk").first()
        issued = Payment.objects.filter(rail=NAME, reference=reference).count()
        quoted = (
            pending.provider_ref
            if pending is not None
            else _next_reference(reference, issued=issued)
        )
        return [*payee.lines(), ("Payment reference", quoted)]

    def notification_read(self, *, request: HttpRequest, account: str) -> Notification:
        if account != ENDPOINT_ACCOUNT:
            raise PaymentError("No such bank account.", status=404)
        payee = config.payee()
        identity = payee.account if payee else ""
        body = webhook.body_read(request, account=identity)
        webhook.sender_check(request, account=identity)
        webhook.signature_check(request, body, account=identity)
        transfer = webhook.transfer_read(body, account=identity)
        return Notification(
            rail=NAME,
            account=identity,
            event_id=str(transfer.operation_id),
            type="transfer.received",
            fingerprint=transfer.fingerprint,
            detail=transfer,
        )

    def accounts(self) -> list[str]:
        payee = config.payee()
        return [payee.account] if payee is not None else []

    def notification_act(self, notification: Notification) -> bool:
        """Credit the payer, then settle the payments the transfer quotes: all inside the
        core's transaction, after its unique insert of the notification succeeded."""
        operation, organisation = ledger.transfer_credit(notification.detail)
        ledger.balance_settle(organisation, operation, account=notification.account)
        return True

    def account_label(self, account: str) -> str:
        return f"Bank account {account}"

    def urlpatterns(self) -> list:
        from payments.bank_transfer import api

        return [
            path(
                "api/webhook/bank/",
                api.BankWebhookView.as_view(),
                {"rail": NAME, "account": ENDPOINT_ACCOUNT},
                name="bank_transfer_webhook",
            ),
            path(
                "api/organizations/<str:inn>/balance/",
                api.OrganisationBalanceView.as_view(),
                name="bank_transfer_balance",
            ),
        ]

    def sandbox_in_use(self) -> bool:
        return config.in_sandbox()

    def real_money_in_use(self) -> bool:
        payee = config.payee()
        return payee is not None and not payee.sandbox
