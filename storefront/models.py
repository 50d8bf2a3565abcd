"""The shop's catalogue."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from currencies.minor_units import CurrencyError, to_minor_units
from currencies.offered import CURRENCY_CHOICES, is_offered


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
