from django import template
from djmoney.money import Money

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units

register = template.Library()


@register.filter(name="money")
def money_filter(value: Money | None) -> str:
    """Render a django-money `Money` as `$19.99`; empty for None."""
    if value is None:
        return ""
    return format_money(value.amount, str(value.currency))


@register.filter(name="minor_money")
def minor_money_filter(amount: int | None, currency: str) -> str:
    """Render an integer amount in minor units (Stripe's way) as `$19.99`."""
    if amount is None or not currency:
        return ""
    return format_money(from_minor_units(amount, currency), currency)
