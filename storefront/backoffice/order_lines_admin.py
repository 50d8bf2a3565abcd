"""An order's lines on its admin page: editable (with the item picked from the catalogue of the
order's currency) while the order is open, read-only with their prices once it is not; and the
rules of what may change on an order at all.
"""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, to_minor_units
from currencies.offered import offered_currencies
from storefront.models import Item, Order, OrderLine


def order_editable(order: Order | None) -> bool:
    """A paid order is a record of what was charged: nothing about it changes any more."""
    return order is None or order.status != Order.Status.PAID


def lines_editable(order: Order | None) -> bool:
    """Only an open order's lines change: a paid one's are what was charged, a cancelled one's
    what was ordered (reopening it, its status set back to open, makes them editable again)."""
    return order is None or order.status == Order.Status.OPEN


class LineItemAutocomplete(AutocompleteSelect):
    """The item picker of an order's line, showing the line's item as read with the line
    (`known`), instead of asking the database for it once per line."""

    known: dict[str, Item] | None = None

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if not selected or not self.known or not selected <= self.known.keys():
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for key in sorted(selected):
            item = self.known[key]
            label = self.choices.field.label_from_instance(item)
            options.append(self.create_option(name, item.pk, label, True, len(options)))
        return [(None, options, 0)]


class OrderLinesFormSet(BaseInlineFormSet):
    """Every line in the order's currency, at a price Stripe can charge in it."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        line = form.instance
        widget = getattr(form.fields.get("item"), "widget", None)
        widget = getattr(widget, "widget", widget)  # inside the admin's add/change wrapper
        if isinstance(widget, LineItemAutocomplete) and OrderLine.item.is_cached(line):
            widget.known = {str(line.item_id): line.item}
        price = form.fields.get("unit_price")
        codes = {self.instance.currency, line.unit_price_currency} - {""}
        if price is not None and not codes <= {code for code, _ in price.fields[1].choices}:
            # A line or order in a currency no longer offered keeps it among the choices.
            choices = [*price.fields[1].choices, *((code, code) for code in sorted(codes))]
            price.fields[1].choices = price.widget.widgets[1].choices = choices
        return form

    def clean(self) -> None:
        super().clean()
        currency = self.instance.currency
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            item, price = data.get("item"), data.get("unit_price")
            if item is not None and item.currency != currency:
                form.add_error(
                    "item", f"{item} is priced in {item.currency}; this order is in {currency}."
                )
            if price is not None and str(price.currency) != currency:
                form.add_error("unit_price", f"This order is in {currency}.")
            elif price is not None:
                try:
                    to_minor_units(price.amount, currency)
                except CurrencyError as exc:
                    form.add_error("unit_price", str(exc))


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    formset = OrderLinesFormSet
    extra = 0
    autocomplete_fields = ["item"]
    fields = ["item", "quantity", "unit_price", "amount"]
    readonly_fields = ["amount"]

    def get_queryset(self, request: HttpRequest):
        # Each line's item with it: its name on a paid order's lines, its picker on an open one.
        return super().get_queryset(request).select_related("item")

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "unit_price":
            # The currencies the shop sells in, not all of Stripe's ~135: copied into every
            # line's form and rendered as options on every line, those were most of the time
            # of a 50-line order's page.
            field = super().formfield_for_dbfield(db_field, request, **kwargs)
            choices = [(code, code) for code in offered_currencies()]
            field.fields[1].choices = field.widget.widgets[1].choices = choices
            return field
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "item":
            kwargs["widget"] = LineItemAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="amount (before discount and tax)")
    def amount(self, obj: OrderLine) -> str:
        if obj.pk is None or obj.unit_price is None:
            return "-"
        return format_money(obj.unit_price.amount * obj.quantity, str(obj.unit_price.currency))

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return order_editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return order_editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return order_editable(obj) and super().has_delete_permission(request, obj)


class ReadOnlyLinesFormSet(BaseInlineFormSet):
    """An order's lines as a table of text (`rows`), with no form per line: only the management
    form is rendered, for no lines, so a post changes none. A form per line, even read-only, was
    most of the time of a 100-line order's page."""

    def get_queryset(self):
        return self.model._default_manager.none()

    def rows(self) -> list[tuple[str, int, str, str]]:
        """(item, quantity, unit price, amount) per line, read with the order (OrderAdmin's
        queryset prefetches the lines with their items)."""
        found = []
        for line in self.instance.lines.all():
            price = line.unit_price
            if price is None:
                found.append((str(line.item), line.quantity, "-", "-"))
                continue
            currency = str(price.currency)
            found.append(
                (
                    str(line.item),
                    line.quantity,
                    format_money(price.amount, currency),
                    format_money(price.amount * line.quantity, currency),
                )
            )
        return found


class ReadOnlyLinesInline(admin.TabularInline):
    """The lines of an order that is no longer open: shown, never changed, added or deleted."""

    model = OrderLine
    formset = ReadOnlyLinesFormSet
    template = "admin/storefront/order/lines_read_only.html"
    fields = ["item", "quantity", "unit_price"]
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False
