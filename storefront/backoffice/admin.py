"""The back office: the catalogue, orders (read-only once paid), discounts and taxes.

An order's page shows its totals as they are charged, its payments with a link to each at its
provider (or the sandbox's record), and its invoice; the order list exports to CSV.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units, to_minor_units
from currencies.offered import offered_choices, offered_currencies
from payments.services import provider_objects
from storefront.backoffice.exports import orders_csv_response
from storefront.backoffice.order_refund import REFUND_PERMISSION, order_refund_view, refund_offer
from storefront.backoffice.order_tables import (
    disputes_table,
    mails_table,
    payments_table,
    refunds_table,
)
from storefront.documents.credit_notes import credit_note_response
from storefront.documents.invoices import invoice_response, tax_label
from storefront.models import Discount, Item, Order, OrderLine, Tax
from storefront.plumbing.page_cache import shop_pages_changed
from storefront.shop.pricing import order_totals
from storefront.shop.settlement import order_settlement, settlements


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor_units(minor, currency), currency)


def _editable(order: Order | None) -> bool:
    """A paid order is a record of what was charged: nothing about it changes any more."""
    return order is None or order.status != Order.Status.PAID


def _lines_editable(order: Order | None) -> bool:
    """Only an open order's lines change: a paid one's are what was charged, a cancelled one's
    what was ordered (reopening it, its status set back to open, makes them editable again)."""
    return order is None or order.status == Order.Status.OPEN


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


class ShownOnShopPages(admin.ModelAdmin):
    """Rows the catalogue and the item pages show: saving or deleting one here makes every kept
    page out of date once it commits (storefront.plumbing.page_cache)."""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        shop_pages_changed()

    def delete_model(self, request: HttpRequest, obj) -> None:
        super().delete_model(request, obj)
        shop_pages_changed()

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        super().delete_queryset(request, queryset)
        shop_pages_changed()


class ItemAdmin(ShownOnShopPages, OfferedCurrencies):
    list_display = ["name", "price_display", "price_currency"]
    list_filter = [("price_currency", admin.AllValuesFieldListFilter)]
    search_fields = ["name", "description"]

    @admin.display(description="price", ordering="price")
    def price_display(self, obj: Item) -> str:
        return format_money(obj.price.amount, obj.currency)


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
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)


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


class OrderAdmin(OfferedCurrencies):
    list_display = [
        "number",
        "placed",
        "state",
        "currency",
        "line_count",
        "total",
        "paid",
        "email",
    ]
    # Only the currencies orders are in (the field's choices are every currency Stripe has).
    list_filter = ["status", ("currency", admin.AllValuesFieldListFilter), "created", "paid_at"]
    date_hierarchy = "created"
    list_select_related = ["discount"]
    search_fields = ["=id", "=access_key", "email"]
    filter_horizontal = ["taxes"]
    readonly_fields = [
        "created",
        "updated",
        "paid_at",
        "totals",
        "money",
        "payments",
        "refunds",
        "disputes",
        "buyer_links",
        "buyer_mails",
    ]
    fieldsets = [
        (None, {"fields": ["currency", "status", "discount", "taxes", "email"]}),
        ("Totals (as they are charged)", {"fields": ["totals"]}),
        ("Payments", {"fields": ["money", "payments", "refunds", "disputes"]}),
        ("Record", {"fields": ["created", "updated", "paid_at", "buyer_links"]}),
        ("E-mails to the buyer", {"fields": ["buyer_mails"]}),
    ]
    inlines = [OrderLineInline]
    actions = ["export_csv"]

    def get_queryset(self, request: HttpRequest):
        # Everything the totals need, in two queries for a whole page of orders.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.select_related("item")), "taxes"
            )
        )

    def get_inline_instances(self, request: HttpRequest, obj: Order | None = None):
        # An order no longer open shows its lines as text (ReadOnlyLinesInline), not as forms.
        if _lines_editable(obj):
            return super().get_inline_instances(request, obj)
        inline = ReadOnlyLinesInline(self.model, self.admin_site)
        return [inline] if inline.has_view_permission(request, obj) else []

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Order, form, change: bool) -> None:
        if change:
            # The buyer may have paid while this form was open: the row lock (which fulfilment
            # takes too) and a fresh look at the status keep a stale form from un-paying it.
            # The admin saves in one transaction, so refusing here also drops the lines' edits.
            status = Order.objects.select_for_update().filter(pk=obj.pk).values("status")
            if status.get()["status"] == Order.Status.PAID:
                raise PermissionDenied(f"{obj} was paid meanwhile: it can no longer change.")
        if obj.status == Order.Status.PAID and obj.paid_at is None:
            obj.paid_at = timezone.now()  # marked paid by hand (a bank transfer, say)
        super().save_model(request, obj, form, change)

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        # The page's orders, each told its settlement at once (a few queries for the page).
        found = settlements(changelist.result_list)
        for order in changelist.result_list:
            order.settlement = found[order.pk]
        return changelist

    def get_urls(self):
        invoice = path(
            "<path:object_id>/invoice.pdf",
            self.admin_site.admin_view(self.invoice_view),
            name="storefront_order_invoice",
        )
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name="storefront_order_refund",
        )
        credit_note = path(
            "<path:object_id>/credit-note/<int:refund_id>.pdf",
            self.admin_site.admin_view(self.credit_note_view),
            name="storefront_order_credit_note",
        )
        return [invoice, refund, credit_note, *super().get_urls()]

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return order_refund_view(self, request, unquote(object_id))

    def credit_note_view(self, request: HttpRequest, object_id: str, refund_id: int):
        """A refund's credit note as PDF."""
        order = self.get_object(request, unquote(object_id))
        if order is None or not self.has_view_or_change_permission(request, order):
            raise Http404(f"There is no order {object_id}.")
        response = credit_note_response(order, refund_id)
        if response is None:
            raise Http404(f"{order} has no refund {refund_id}.")
        return response

    def invoice_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The order's invoice as PDF (a pro-forma one while it is not paid)."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(f"There is no order {object_id}.")
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        return invoice_response(order)

    @admin.display(description="order", ordering="pk")
    def number(self, obj: Order) -> str:
        return f"#{obj.pk}"

    @admin.display(description="placed", ordering="created")
    def placed(self, obj: Order) -> str:
        return f"{timezone.localtime(obj.created):%Y-%m-%d %H:%M}"

    @admin.display(description="paid", ordering="paid_at")
    def paid(self, obj: Order) -> str:
        return f"{timezone.localtime(obj.paid_at):%Y-%m-%d %H:%M}" if obj.paid_at else "-"

    @admin.display(description="state", ordering="status")
    def state(self, obj: Order) -> str:
        found = getattr(obj, "settlement", None) or order_settlement(obj)
        return found.words

    @admin.display(description="where the money stands")
    def money(self, obj: Order) -> str:
        if obj.pk is None:
            return "-"
        return format_html('<span id="order-state">{}</span>', order_settlement(obj).words)

    @admin.display(description="lines")
    def line_count(self, obj: Order) -> int:
        return len(obj.lines.all())

    @admin.display(description="total")
    def total(self, obj: Order) -> str:
        try:
            return _money(order_totals(obj).total, obj.currency)
        except CurrencyError as exc:
            return f"cannot be priced: {exc}"

    @admin.display(description="totals")
    def totals(self, obj: Order) -> str:
        if obj.pk is None:
            return "-"
        try:
            totals = order_totals(obj)
        except CurrencyError as exc:
            return f"This order cannot be priced: {exc}"
        amounts = totals.tax_by_key()
        rows = [("Subtotal", _money(totals.subtotal, obj.currency))]
        if obj.discount is not None:
            rows.append((f"Discount: {obj.discount}", f"−{_money(totals.discount, obj.currency)}"))
        for tax in obj.taxes.all():
            rows.append((tax_label(tax), _money(amounts.get(tax.pk, 0), obj.currency)))
        rows.append(("Total", _money(totals.total, obj.currency)))
        body = format_html_join(
            "", '<tr><th scope="row">{}</th><td class="amount">{}</td></tr>', rows
        )
        return format_html('<table class="order-totals" id="order-totals">{}</table>', body)

    @admin.display(description="payments")
    def payments(self, obj: Order) -> str:
        return payments_table(obj) if obj.pk else "-"

    @admin.display(description="refunds")
    def refunds(self, obj: Order) -> str:
        return refunds_table(obj) if obj.pk else "-"

    @admin.display(description="disputes")
    def disputes(self, obj: Order) -> str:
        return disputes_table(obj) if obj.pk else "-"

    @admin.display(description="e-mails")
    def buyer_mails(self, obj: Order) -> str:
        """Each e-mail the buyer is owed and how it stands (`manage.py order_mail_send` sends
        what is pending)."""
        return mails_table(obj) if obj.pk else "-"

    @admin.display(description="buyer's links")
    def buyer_links(self, obj: Order) -> str:
        if obj.pk is None:
            return "-"
        query = f"?key={obj.access_key}"
        order_url = reverse("storefront:order", args=[obj.pk]) + query
        links = [("Order page (share link)", order_url)]
        if obj.status == Order.Status.PAID:
            links.append(("Invoice", reverse("storefront:order_invoice", args=[obj.pk]) + query))
        return format_html_join("", '<div><a href="{1}">{0}</a></div>', links)

    @admin.action(description="Export selected orders to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:
        return orders_csv_response(queryset)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id is not None:
            extra_context["invoice_url"] = reverse(
                "admin:storefront_order_invoice", args=[object_id]
            )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The Refund button only where a payment of the order can be refunded from here; where
        # none can, the page says why (the rail refunds nothing, or refunds and disputes took
        # it all) instead of a button leading to "nothing is left".
        if obj is not None and obj.pk and request.user.has_perm(REFUND_PERMISSION):
            offer = refund_offer(obj)
            if offer.refundable:
                context["refund_url"] = reverse("admin:storefront_order_refund", args=[obj.pk])
            context["refund_unavailable"] = offer.unavailable
        return super().render_change_form(request, context, add, change, form_url, obj)


class PricingLockedOncePaid(OfferedCurrencies):
    """A discount or tax that a paid order used keeps the figures it was charged with.

    Totals are computed from the order's discount and taxes, so changing a rate would change
    what paid orders, their invoices and exports say was charged. Its name and whether it is
    offered can still change; for another rate, make a new one.
    """

    pricing_fields: list[str] = []

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.orders.filter(status=Order.Status.PAID).exists():
            fields += self.pricing_fields
        return fields


def _provider_objects_html(local_key: str) -> str:
    """What the payment rails made at their providers for one of our rows, with links."""
    rows = [
        (obj.account_label, obj.kind, obj.url or "", obj.provider_id)
        for obj in provider_objects(local_key)
    ]
    if not rows:
        return "None yet: made on first use (or by manage.py stripe_sync)."
    body = format_html_join("", '<tr><td>{}</td><td>{}</td><td><a href="{}">{}</a></td></tr>', rows)
    return format_html("<table><tbody>{}</tbody></table>", body)


class DiscountAdmin(PricingLockedOncePaid):
    list_display = ["name", "code", "percent_off", "amount_off", "duration", "active"]
    list_filter = ["active", "duration"]
    search_fields = ["name", "code"]
    readonly_fields = ["stripe_objects"]
    pricing_fields = ["percent_off", "amount_off", "duration", "duration_in_months"]

    @admin.display(description="Stripe coupons")
    def stripe_objects(self, obj: Discount) -> str:
        return _provider_objects_html(f"discount:{obj.pk}") if obj.pk else "-"


class TaxAdmin(ShownOnShopPages, PricingLockedOncePaid):
    list_display = ["display_name", "percentage", "inclusive", "jurisdiction", "currency"]
    list_filter = ["inclusive", "currency", "applies_to_new_orders"]
    search_fields = ["display_name", "jurisdiction"]
    readonly_fields = ["stripe_objects"]
    pricing_fields = ["percentage", "inclusive"]

    @admin.display(description="Stripe tax rates")
    def stripe_objects(self, obj: Tax) -> str:
        return _provider_objects_html(f"tax:{obj.pk}") if obj.pk else "-"


def register(site: admin.AdminSite) -> None:
    """Put the shop's models on `site`: called once by storefront.apps when the apps are ready
    (Django's autodiscovery looks for storefront/admin.py, which the back office is not)."""
    site.register(Item, ItemAdmin)
    site.register(Order, OrderAdmin)
    site.register(Discount, DiscountAdmin)
    site.register(Tax, TaxAdmin)
