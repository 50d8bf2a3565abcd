"""The shop's records: what it sells (Item, Discount, Tax), orders and their lines (Order,
OrderLine), and the e-mails owed to buyers (OrderMail). The rules that change them are
storefront.shop's."""

import secrets
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, to_minor_units
from currencies.offered import CURRENCY_CHOICES, is_offered
from payments.services import reference_for

# More of one item than this in one order is a typo, not a purchase.
MAX_QUANTITY = 999
# The kind of an order's payment reference (settings.PAYMENT_FULFILMENT names its handler).
PAYMENT_KIND = "order"


class Item(models.Model):
    """Something the merchant sells, priced in exactly one currency.

    The currency of the price decides which Stripe account takes the money.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Two decimal places hold every amount Stripe accepts: three-decimal currencies (KWD, ...)
    # must end in 0 at Stripe, and zero-decimal ones simply use ".00".
    price = MoneyField(
        max_digits=14,
        decimal_places=2,
        currency_choices=CURRENCY_CHOICES,
        validators=[MinMoneyValidator(Decimal("0.01"))],
    )

    class Meta:
        ordering = ["name", "pk"]
        # The catalogue's pages, in this order (storefront.shop.catalogue); built CONCURRENTLY on
        # PostgreSQL, as every index of storefront 0005.
        indexes = [models.Index(fields=["name", "id"], name="item_name")]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="item_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("storefront:item", args=[self.pk])

    @property
    def currency(self) -> str:
        return str(self.price.currency)

    def clean(self) -> None:
        super().clean()
        if self.price is None:
            return
        if not is_offered(self.currency):
            raise ValidationError(
                {"price": f"The shop does not sell in {self.currency}; see SHOP_CURRENCIES."}
            )
        try:
            to_minor_units(self.price.amount, self.currency)
        except CurrencyError as exc:
            raise ValidationError({"price": str(exc)}) from exc


class Discount(models.Model):
    """A reduction the merchant grants; it becomes a Stripe coupon on the order's account."""

    class Duration(models.TextChoices):
        ONCE = "once", "Once"
        REPEATING = "repeating", "Repeating (subscriptions)"
        FOREVER = "forever", "Forever (subscriptions)"

    name = models.CharField(max_length=40, help_text="Shown to the buyer at checkout.")
    code = models.CharField(
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text="Optional code a buyer can type on the order page.",
    )
    percent_off = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    amount_off = MoneyField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        currency_choices=CURRENCY_CHOICES,
        default_currency=None,
        validators=[MinMoneyValidator(Decimal("0.01"))],
    )
    duration = models.CharField(max_length=10, choices=Duration.choices, default=Duration.ONCE)
    duration_in_months = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(percent_off__isnull=False, amount_off__isnull=True)
                    | models.Q(percent_off__isnull=True, amount_off__isnull=False)
                ),
                name="discount_percent_xor_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(percent_off__isnull=True)
                | models.Q(percent_off__gt=0, percent_off__lte=100),
                name="discount_percent_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_off__isnull=True) | models.Q(amount_off__gt=0),
                name="discount_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.describe()})"

    def describe(self) -> str:
        if self.percent_off is not None:
            return f"{self.percent_off.normalize():f}% off"
        return f"{format_money(self.amount_off.amount, str(self.amount_off.currency))} off"

    def clean(self) -> None:
        super().clean()
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValidationError("Give either a percentage or an amount off, not both.")
        if self.amount_off is not None:
            try:
                to_minor_units(self.amount_off.amount, str(self.amount_off.currency))
            except CurrencyError as exc:
                raise ValidationError({"amount_off": str(exc)}) from exc
        if (self.duration == self.Duration.REPEATING) != (self.duration_in_months is not None):
            raise ValidationError(
                {"duration_in_months": "Give the number of months for a repeating discount only."}
            )
        if self.code == "":
            self.code = None


class Tax(models.Model):
    """A tax the merchant charges; it becomes a Stripe tax rate on the order's account."""

    display_name = models.CharField(max_length=50, help_text="Shown at checkout, e.g. VAT.")
    percentage = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    inclusive = models.BooleanField(
        default=False, help_text="Already included in the prices (VAT-style), or added on top."
    )
    jurisdiction = models.CharField(max_length=50, blank=True)
    description = models.CharField(max_length=200, blank=True)
    currency = models.CharField(
        max_length=3,
        blank=True,
        choices=CURRENCY_CHOICES,
        help_text="With 'applies to new orders': the currency whose new orders get this tax.",
    )
    applies_to_new_orders = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "taxes"
        ordering = ["display_name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percentage__gte=0, percentage__lte=100),
                name="tax_percentage_in_range",
            ),
        ]

    def __str__(self) -> str:
        kind = "incl." if self.inclusive else "excl."
        return f"{self.display_name} {self.percentage.normalize():f}% {kind}"


def _new_access_key() -> str:
    return secrets.token_urlsafe(16)


class Order(models.Model):
    """Several items of one currency, paid together in one checkout."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    discount = models.ForeignKey(
        Discount, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    taxes = models.ManyToManyField(Tax, blank=True, related_name="orders")
    # Who may see and pay the order besides the browser session that made it: a share link
    # `/order/<id>/?key=...` (for orders the merchant prepares), like an order key in
    # WooCommerce.
    access_key = models.CharField(max_length=32, default=_new_access_key, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Where the receipt goes: given by the buyer on our page, or collected by the provider.
    # db_default: the previous release's INSERTs do not name the column (docs/deploy.md).
    email = models.EmailField(
        blank=True,
        default="",
        db_default="",
        help_text="The buyer's e-mail address, for receipts.",
    )
    # What the order costs (minor units of its currency) as the shop last priced it, when a
    # payment of it started (`storefront.shop.order_payment.order_priced`): a paying notification is
    # compared with it, not priced again. NULL when never priced, and as soon as anything it
    # is priced from changes, by whatever writes the change (the shop's services, the admin,
    # a previous release, SQL by hand): the database clears it (storefront 0006's triggers on
    # the lines, the order's taxes, its discount and currency, and the definitions of its
    # taxes and discount; an order's first line, and tax links made before it, leave it: 0009).
    # Written by `order_priced`, and by the INSERT of a buy-now order, which is priced with its
    # line as it is made; a full save never writes it back.
    priced_total = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            # orders_expire's open orders untouched for days.
            models.Index(fields=["status", "updated"], name="order_status_updated"),
            # The admin's list, newest first (and its date hierarchy's first and last).
            models.Index(fields=["created", "id"], name="order_created"),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        # A full save of a loaded order writes every column but `priced_total`: writing back
        # the value it was loaded with could undo the database clearing it meanwhile.
        if (
            kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
            and not self._state.adding
        ):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "priced_total"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("storefront:order", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def payment_reference(self) -> str:
        """What the payment layer calls this order (`"order-5"`), made in this one place."""
        return reference_for(PAYMENT_KIND, self.pk)

    @classmethod
    def for_payment_reference(cls, reference: str) -> "Order | None":
        """The order a payment's reference names, if it names one that exists."""
        kind, _, ident = reference.partition("-")
        if kind != PAYMENT_KIND or not ident.isdecimal():
            return None
        return cls.objects.filter(pk=int(ident)).first()

    def mark_paid(self, *, also: Sequence[str] = ()) -> None:
        """Record that the order was paid now (the caller holds its row lock), saving the
        fields named in `also` in the same UPDATE."""
        self.status = self.Status.PAID
        self.paid_at = timezone.now()
        self.save(update_fields=["status", "paid_at", "updated", *also])

    def clean(self) -> None:
        super().clean()
        discount = self.discount
        if (
            discount
            and discount.amount_off is not None
            and str(discount.amount_off.currency) != self.currency
        ):
            raise ValidationError(
                {
                    "discount": f"{discount} is in {discount.amount_off.currency}; "
                    f"this order is in {self.currency}."
                }
            )


class OrderLine(models.Model):
    """One line of an order: an item, how many, and its unit price when last priced."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    # The catalogue price copied at the last change and again when checkout starts, so a paid
    # order keeps what was paid even after the item's price changes.
    unit_price = MoneyField(max_digits=14, decimal_places=2, currency_choices=CURRENCY_CHOICES)

    class Meta:
        # Named OrderItem before storefront 0006: the table keeps that name, which a serving
        # release still reads and writes (docs/deploy.md).
        db_table = "storefront_orderitem"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item"], name="order_item_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=MAX_QUANTITY),
                name="order_item_quantity_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item}"


class OrderMail(models.Model):
    """An e-mail the shop owes a buyer about an order: written down in the transaction that
    made it due (the order paid, a refund made), sent after that commits, and resent by
    `manage.py order_mail_send` if sending never finished.

    One row per order, kind and key (a refund's request key or provider id; "" for the
    receipt), so the database refuses a second receipt for one order. A send first claims
    the row (pending -> sending, a conditional UPDATE), so two processes never both send it.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Order confirmation"
        REFUND = "refund", "Refund notice"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=100, blank=True)
    to = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        # Mail due for sending again (mails_stranded every 5 minutes, order_mail_send): pending
        # or sending, by when it was claimed, or made when never claimed.
        indexes = [
            models.Index(fields=["status", "claimed_at", "created"], name="order_mail_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind", "key"], name="order_mail_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for order #{self.order_id} ({self.status})"
