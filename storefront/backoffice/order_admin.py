"""An order's admin page: its lines, totals as they are charged, payments with a link to each at
its provider (or the sandbox's record), refunds, disputes, e-mails, its invoice and credit notes,
and the refund form's link; the order list with its settlement and the CSV export. Read-only
once paid.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units
from storefront.backoffice.currency_menus import OfferedCurrencies
from storefront.backoffice.exports import orders_csv_response
from storefront.backoffice.order_lines_admin import (
    OrderLineInline,
    ReadOnlyLinesInline,
    lines_editable,
    order_editable,
)
from storefront.backoffice.order_refund import REFUND_PERMISSION, order_refund_view, refund_offer
from storefront.backoffice.order_tables import (
    disputes_table,
    mails_table,
    payments_table,
    refunds_table,
)
from storefront.documents.credit_notes import credit_note_response
from storefront.documents.invoices import invoice_response, tax_label
from storefront.models import Order, OrderLine
from storefront.shop.pricing import order_totals
from storefront.shop.settlement import order_settlement, settlements


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor_units(minor, currency), currency)


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
        if lines_editable(obj):
            return super().get_inline_instances(request, obj)
        inline = ReadOnlyLinesInline(self.model, self.admin_site)
        return [inline] if inline.has_view_permission(request, obj) else []

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return order_editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return order_editable(obj) and super().has_delete_permission(request, obj)

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
