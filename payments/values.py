"""The plain values that cross the door between the shop and the payment layer.

The shop describes what is to be paid (`Payable`); a rail answers with how to pay it
(`PayOption`, `PaymentStart`) and, later, how it stands (`ProviderState`). None of these
carries a provider's type: a rail converts its provider's objects into them and back.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from djmoney.money import Money


@dataclass(frozen=True)
class PayableLine:
    """One line the buyer pays for, priced from our database."""

    name: str
    unit_price: Money
    quantity: int = 1
    description: str = ""


@dataclass(frozen=True)
class DiscountTerms:
    """A discount on a whole payable. `key` names our row (`"discount:5"`)."""

    key: str
    name: str
    percent_off: Decimal | None = None
    amount_off: Money | None = None
    duration: str = "once"
    duration_in_months: int | None = None


@dataclass(frozen=True)
class TaxTerms:
    """A tax on every line of a payable. `key` names our row (`"tax:3"`)."""

    key: str
    display_name: str
    percentage: Decimal
    inclusive: bool
    jurisdiction: str = ""
    description: str = ""


@dataclass(frozen=True)
class Payable:
    """Something the shop wants paid, in one currency.

    `reference` names it for fulfilment (`"order-5"`); `total` is what our own pricing says it
    costs, in minor units (a rail that prices lines itself, like Stripe Checkout, must arrive
    at the same figure). `lines`, `discount` and `taxes` are there for rails that show them.
    `options` are what the buyer chose among a rail's own options (PayPartsRail's `parts`),
    passed through by the shop without reading them; each rail validates its own.
    """

    reference: str
    currency: str
    total: int
    description: str
    lines: tuple[PayableLine, ...] = ()
    discount: DiscountTerms | None = None
    taxes: tuple[TaxTerms, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    #: The buyer's e-mail address where the shop has it ("" otherwise): a rail may prefill its
    #: page with it (Stripe Checkout's `customer_email`) or give it to the provider.
    email: str = ""


class Method(enum.StrEnum):
    """How a buyer pays: sent away to the provider's page, or on a form of ours."""

    REDIRECT = "redirect"
    ON_PAGE = "on_page"


@dataclass(frozen=True)
class PayOption:
    """A way a rail can pay for something: a partial template and what it needs."""

    rail: str
    label: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    #: Whether paying this way only simulates a payment (an offline sandbox): the page says so
    #: beside the buttons when other ways on the site take real money.
    sandbox: bool = False


@dataclass(frozen=True)
class PaymentStart:
    """A payment a rail has started.

    `redirect_url` is where to send the buyer (Method.REDIRECT); otherwise `template` is the
    rail's own partial (a card form, payment instructions) rendered with `context`.
    """

    rail: str
    provider_ref: str
    redirect_url: str | None = None
    template: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


class ProviderStatus(enum.StrEnum):
    """How the provider says a payment stands, in the core's words."""

    PENDING = "pending"  # started, nothing paid yet
    PROCESSING = "processing"  # the buyer paid; the provider has not confirmed it yet
    SUCCEEDED = "succeeded"  # money taken
    DECLINED = "declined"  # one attempt refused; the payment may still be paid
    FAILED = "failed"  # it will never be paid
    EXPIRED = "expired"  # the buyer did not pay in time


@dataclass(frozen=True)
class ProviderState:
    """What a provider says of one of our payments, read by the rail that started it.

    `account` is the rail's identity of the account that answered (or signed the
    notification); `amount` is in minor units of `currency`, upper-case. `message` is for the
    buyer (a decline reason). `provider_payment_ref` is the provider's id of the money
    movement where it differs from the payment's own (a Checkout Session's PaymentIntent).
    """

    rail: str
    account: str
    livemode: bool
    provider_ref: str
    status: ProviderStatus
    amount: int
    currency: str
    provider_payment_ref: str | None = None
    message: str = ""
    #: The buyer's e-mail address as the provider collected it ("" when it did not).
    payer_email: str = ""


class RefundStatus(enum.StrEnum):
    """How the provider says a refund stands."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class RefundState:
    """What a provider says of one refund of one of our payments.

    `payment_provider_id` is the provider's id of the refunded payment (our Payment's
    `provider_payment_ref` or `provider_ref`); `request_key` is the key we sent with the
    request when the refund was asked for from our admin ("" for one made elsewhere, in the
    provider's dashboard), so a notification that overtakes the answer still finds our row.
    """

    rail: str
    account: str
    livemode: bool
    provider_ref: str
    payment_provider_id: str
    status: RefundStatus
    amount: int
    currency: str
    reason: str = ""
    request_key: str = ""
    message: str = ""


class DisputeStatus(enum.StrEnum):
    """Where a dispute stands, in the card networks' words: an inquiry (the buyer's bank asks,
    no money has moved), a chargeback (the money is withdrawn until the bank rules), an appeal
    of the bank's ruling (pre-arbitration and arbitration), each waiting for the merchant's
    response, then under review; and how it ended."""

    INQUIRY_NEEDS_RESPONSE = "inquiry_needs_response"  # respond, or it may become a chargeback
    INQUIRY_UNDER_REVIEW = "inquiry_under_review"  # answered; the bank decides
    INQUIRY_CLOSED = "inquiry_closed"  # closed without a chargeback (or escalated to one)
    NEEDS_RESPONSE = "needs_response"  # a chargeback: the money is withdrawn; respond by...
    UNDER_REVIEW = "under_review"  # evidence submitted; the bank decides
    WON = "won"  # the money is reinstated
    LOST = "lost"  # the buyer keeps it (accepting a dispute loses it)
    APPEAL_NEEDS_RESPONSE = "appeal_needs_response"  # the ruling can be appealed; respond by...
    APPEAL_UNDER_REVIEW = "appeal_under_review"  # appealed; the network decides
    PREVENTED = "prevented"  # stopped before it became a chargeback (a prevention service)
    CLOSED = "closed"  # recorded before inquiries and preventions were told apart


#: The statuses that wait for the merchant, until the dispute's `evidence_due_by`.
DISPUTE_NEEDS_RESPONSE = (
    DisputeStatus.INQUIRY_NEEDS_RESPONSE,
    DisputeStatus.NEEDS_RESPONSE,
    DisputeStatus.APPEAL_NEEDS_RESPONSE,
)
#: The statuses of a dispute not over yet.
DISPUTE_OPEN = (
    *DISPUTE_NEEDS_RESPONSE,
    DisputeStatus.INQUIRY_UNDER_REVIEW,
    DisputeStatus.UNDER_REVIEW,
    DisputeStatus.APPEAL_UNDER_REVIEW,
)


@dataclass(frozen=True)
class DisputeState:
    """What a provider says of a dispute a buyer's bank opened against one of our payments.

    `observed_at` is when the provider said it (Stripe: its event's `created`): a word older
    than the one recorded is refused, so events arriving late or replayed change nothing. None
    when the rail cannot say; such a word is taken as the latest. `appealed` says the dispute
    went to appeal (its verdict, if it has one, is the appeal's): among words of the same
    instant, a later step of the lifecycle wins (`payments.disputes`).
    """

    rail: str
    account: str
    livemode: bool
    provider_ref: str
    payment_provider_id: str
    status: DisputeStatus
    amount: int
    currency: str
    reason: str = ""
    evidence_due_by: datetime | None = None
    observed_at: datetime | None = None
    appealed: bool = False


@dataclass(frozen=True)
class NotificationKey:
    """Which notification a delivery is, as the once-only rule names it (rail, account, event
    id and fingerprint, as on `Notification`): enough to recognise one recorded before,
    without reading the rest of it (`Rail.notification_identify`)."""

    rail: str
    account: str
    event_id: str
    fingerprint: str = ""


@dataclass(frozen=True)
class Notification:
    """A verified notification (webhook) from a provider, read by its rail.

    `state` (a payment's), `refund` and `dispute` are None when the notification is about
    nothing the core acts on (an event type the rail does not handle); it is recorded and
    acknowledged.
    """

    rail: str
    account: str
    event_id: str
    type: str
    state: ProviderState | None = None
    #: A refund of one of our payments (made by us or in the provider's dashboard).
    refund: RefundState | None = None
    #: A dispute opened, updated or closed against one of our payments.
    dispute: DisputeState | None = None
    #: A digest of what the notification says, for rails whose provider resends an event with
    #: the same body: the same event id with another fingerprint is a conflict (409), recorded
    #: for the merchant. Empty where redeliveries may differ (Stripe's do).
    fingerprint: str = ""
    #: What the rail read, for its own `notification_act` (the bank rail's validated transfer);
    #: the core never looks at it.
    detail: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Link:
    """Where a merchant can look at a payment: the provider's dashboard or a sandbox record."""

    label: str
    url: str
    external: bool = True


@dataclass(frozen=True)
class ProviderObject:
    """Something a rail made at its provider for one of our rows (a Stripe coupon for a
    Discount), for the merchant to find."""

    account_label: str
    kind: str
    provider_id: str
    url: str | None = None


@dataclass(frozen=True)
class DisputeSummary:
    """One dispute of a reference's payments, as the order tells it: its status, the amount
    disputed (minor units), when the merchant must respond by (for a status that waits for
    them) and whether it went to appeal."""

    status: str
    amount: int
    respond_by: datetime | None = None
    appealed: bool = False


@dataclass(frozen=True)
class Balance:
    """Where the money for one reference stands, across its payments, in minor units.

    `received` is what succeeded payments took, `refunded` what was given back (never more,
    per payment, than that payment received: `refund_excess` is what the provider reported
    refunded beyond it, flagged for the merchant and not counted); disputes count those still
    open and the amount lost to closed ones, and `disputes` tells each, newest first.
    """

    currency: str
    received: int = 0
    refunded: int = 0
    disputes_open: int = 0
    disputed_lost: int = 0
    refund_excess: int = 0
    disputes: tuple[DisputeSummary, ...] = ()

    @property
    def kept(self) -> int:
        """What the merchant keeps: received, less refunds and lost disputes."""
        return self.received - self.refunded - self.disputed_lost


@dataclass(frozen=True)
class DisputedAway:
    """Minor units of a payment that disputes took from the merchant: `lost` in closed
    chargebacks, `held` by chargebacks (or appeals) not yet decided."""

    lost: int = 0
    held: int = 0


@dataclass(frozen=True)
class RefundRoom:
    """How much of a payment can still be refunded, and why no more (minor units): what it
    `received` (0 unless it succeeded), less refunds made or being made (`refunding`) and what
    its disputes took (`disputed`)."""

    received: int
    refunding: int = 0
    disputed: DisputedAway = field(default_factory=DisputedAway)

    @property
    def remaining(self) -> int:
        taken = self.refunding + self.disputed.lost + self.disputed.held
        return max(0, self.received - taken)


@dataclass(frozen=True)
class Refundable:
    """A payment the merchant can refund from our admin, and how much of it remains."""

    payment_id: int
    label: str  # "Stripe, USD account (sandbox): pi_123, received $21.76"
    currency: str
    remaining: int  # minor units
    #: False where the rail refunds this payment only in full (`remaining`, all at once).
    partial: bool = True
    #: What the merchant should know beside the amount ("$5.00 was lost in a dispute"), or "".
    note: str = ""


@dataclass(frozen=True)
class NotRefundable:
    """A succeeded payment that cannot be refunded from our admin, and why, in words."""

    payment_id: int
    label: str
    reason: str


@dataclass(frozen=True)
class RefundOptions:
    """What an order's payments offer the merchant to refund: those that can be refunded
    (with what remains), and why each other succeeded payment cannot."""

    refundable: tuple[Refundable, ...] = ()
    unavailable: tuple[NotRefundable, ...] = ()
