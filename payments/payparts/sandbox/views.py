"""The sandbox bank's hosted page: the buyer approves, declines or cancels the instalment plan.

The page is what PrivatBank's `payment?token=...` is: it names the store, the products, the
amount and the parts. A decision moves the plan, queues the signed callback, and sends the
buyer to the shop's `redirectUrl`.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from currencies.formatting import format_money
from currencies.minor_units import to_minor_units
from payments.payparts import config
from payments.payparts.instalments import instalments_text
from payments.payparts.sandbox.delivery import callback_deliver_on_commit
from payments.payparts.sandbox.models import InstalmentPlan

DECISIONS = {
    "approve": ("SUCCESS", ""),
    "decline": ("REJECTED", "The bank declined the instalment plan."),
    "cancel": ("CANCELED", "The buyer cancelled the payment."),
}
FINAL = {"SUCCESS", "FAIL", "CANCELED", "REJECTED"}


@require_http_methods(["GET", "POST"])
def payment_page(request: HttpRequest) -> HttpResponse:
    plan = get_object_or_404(InstalmentPlan, token=request.GET.get("token", ""))
    if request.method == "POST" and plan.payment_state not in FINAL:
        decision = DECISIONS.get(request.POST.get("decision", ""))
        if decision is not None:
            with transaction.atomic():
                moved = (
                    InstalmentPlan.objects.filter(pk=plan.pk)
                    .exclude(payment_state__in=FINAL)
                    .update(payment_state=decision[0], message=decision[1])
                )
                plan.refresh_from_db()
                if moved:
                    callback_deliver_on_commit(plan)
            return redirect(plan.redirect_url)
    # The bank's own split of the amount: what the buyer's card is charged, part by part.
    schedule = instalments_text(to_minor_units(plan.amount, config.CURRENCY), plan.parts_count)
    return render(
        request,
        "payparts_sandbox/payment.html",
        {
            "plan": plan,
            "amount": format_money(plan.amount, config.CURRENCY),
            "products": [_product_line(product) for product in plan.products],
            "schedule": schedule,
            "done": plan.payment_state in FINAL,
        },
    )


def _product_line(product: dict) -> str:
    """`Blanket × 2 at 1 800,00 ₴`: a product of the plan as the bank's page writes it (a price
    the shop sent that is no number is shown as sent)."""
    try:
        price = format_money(Decimal(str(product.get("price"))), config.CURRENCY)
    except (InvalidOperation, ValueError):
        price = f"{product.get('price')} {config.CURRENCY}"
    return f"{product.get('name')} × {product.get('count')} at {price}"
