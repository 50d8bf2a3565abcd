"""Refunding an order from its admin page: a form for the amount (in the order's currency),
the payment (when several took money) and a reason; the payment layer does the rest through
the rail and account that took the payment, and says in words what happened.

Who may refund: staff with the `payments.add_refund` permission (superusers have it).
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from currencies.formatting import format_money
from currencies.minor_units import CurrencyError, from_minor_units, to_minor_units
from payments.errors import PaymentError
from payments.services import refund_options, refund_reasons, refund_start, refunds_for
from payments.values import Refundable, RefundOptions
from storefront.models import Order

REFUND_PERMISSION = "payments.add_refund"


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor_units(minor, currency), currency)


class RefundForm(forms.Form):
    payment = forms.TypedChoiceField(coerce=int, label="Payment to refund")
    amount = forms.DecimalField(
        min_value=Decimal("0.001"), max_digits=14, decimal_places=3, label="Amount"
    )
    reason = forms.ChoiceField(required=False)
    note = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note"
    )

    def __init__(self, *args, order: Order, refundables: list[Refundable], **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.refundables = {found.payment_id: found for found in refundables}
        self.fields["payment"].choices = [
            (found.payment_id, _choice_label(found)) for found in refundables
        ]
        self.fields["reason"].choices = refund_reasons()
        help_text = f"In {order.currency}, at most what is left on the payment."
        if any(not found.partial for found in refundables):
            help_text += " A payment marked “in full only” is refunded all at once."
        self.fields["amount"].help_text = help_text
        if refundables:
            first = refundables[0]
            self.fields["amount"].initial = from_minor_units(first.remaining, first.currency)

    def clean(self):
        data = super().clean()
        found = self.refundables.get(data.get("payment"))
        amount = data.get("amount")
        if found is None or amount is None:
            return data
        try:
            data["minor"] = to_minor_units(amount, found.currency)
        except CurrencyError as exc:
            self.add_error("amount", str(exc))
            return data
        if data["minor"] > found.remaining:
            self.add_error(
                "amount",
                f"At most {_money(found.remaining, found.currency)} is left to refund on this "
                "payment.",
            )
        elif not found.partial and data["minor"] != found.remaining:
            self.add_error(
                "amount",
                f"This payment is refunded only in full: "
                f"{_money(found.remaining, found.currency)}.",
            )
        return data


def _choice_label(found: Refundable) -> str:
    """ "Stripe, USD account: pi_1 ($21.76 left; $5.00 was lost in a dispute…)"."""
    notes = [f"{_money(found.remaining, found.currency)} left"]
    if not found.partial:
        notes.append("in full only")
    if found.note:
        notes.append(found.note)
    return f"{found.label} ({'; '.join(notes)})"


def refund_offer(order: Order) -> RefundOptions:
    """What `order`'s payments offer to refund (nothing unless it is paid)."""
    if order.status != Order.Status.PAID:
        return RefundOptions()
    return refund_options(order.payment_reference)


def order_refund_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET: the refund form for a paid order; POST: refund, then back to the order's page."""
    order = model_admin.get_object(request, object_id)
    if order is None:
        raise Http404(f"There is no order {object_id}.")
    if not request.user.has_perm(REFUND_PERMISSION):
        raise PermissionDenied
    order_url = reverse("admin:storefront_order_change", args=[order.pk])
    options = refund_options(order.payment_reference)
    refundables = list(options.refundable)
    form = RefundForm(request.POST or None, order=order, refundables=refundables)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = refund_start(
                reference=order.payment_reference,
                payment_id=data["payment"],
                amount=data["minor"],
                reason=data["reason"],
                note=data["note"],
                requested_by=request.user,
            )
        except PaymentError as exc:
            messages.error(request, f"The refund was not made: {exc.message}")
        else:
            amount = _money(refund.amount, refund.currency)
            if refund.status == refund.Status.SUCCEEDED:
                messages.success(request, f"Refunded {amount} of {order}.")
            elif refund.status == refund.Status.PENDING:
                messages.warning(
                    request,
                    f"A refund of {amount} was asked for; the provider has not confirmed it yet.",
                )
            else:
                messages.error(request, f"The refund of {amount} failed: {refund.message}")
            return HttpResponseRedirect(order_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Refund {order}",
        "order": order,
        "order_url": order_url,
        "form": form,
        "refundables": refundables,
        "unavailable": options.unavailable,
        "refunds": refunds_for(order.payment_reference),
    }
    return TemplateResponse(request, "admin/storefront/order/refund.html", context)
