"""The admin's currency menus: the currencies the shop sells in, not every one a field allows."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from currencies.offered import offered_choices


class OfferedCurrencies(admin.ModelAdmin):
    """Currency menus list the currencies the shop sells in (currencies.offered), not the ~135
    a model field allows: a field keeps Stripe's whole list so that migrations do not change
    with the environment, but a merchant picks among the 4 the shop sells. A row already in a
    currency no longer offered keeps it among the choices."""

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        for name, field in form.base_fields.items():
            if isinstance(field, forms.MultiValueField) and len(field.fields) == 2:
                # A MoneyField: (amount, currency); the row's currency is `<name>_currency`.
                current = str(getattr(obj, f"{name}_currency", "") or "")
                menu, widget = field.fields[1], field.widget.widgets[1]
            elif isinstance(field, forms.TypedChoiceField) and name.endswith("currency"):
                current = str(getattr(obj, name, "") or "")
                menu, widget = field, field.widget
            else:
                continue
            if not isinstance(menu, forms.ChoiceField):
                continue
            menu.choices = widget.choices = offered_choices(menu.choices, keep=current)
        return form
