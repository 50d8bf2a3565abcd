"""The sandbox's pages: Stripe's hosted checkout page, as an offline stand-in."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from payments.accounts import sandbox_allowed
from payments.sandbox.checkout import (
    Card,
    CardError,
    checkout_session_pay,
    page_summary,
    return_url,
    session_for_page,
)


@require_http_methods(["GET", "POST"])
def checkout_page(request: HttpRequest, session_id: str) -> HttpResponse:
    if not sandbox_allowed():
        raise Http404("The Stripe sandbox is off.")
    session = session_for_page(session_id)
    if session is None:
        raise Http404("No such checkout session.")
    error = None
    if request.method == "POST":
        try:
            card = Card.from_form(
                request.POST.get("card_number", ""),
                request.POST.get("expiry", ""),
                request.POST.get("cvc", ""),
            )
            session = checkout_session_pay(
                session_id=session.id, card=card, email=request.POST.get("email", "")
            )
        except CardError as exc:
            error = exc.message
        else:
            url = return_url(session, success=True)
            if url:
                return redirect(url)
    lines = [
        {
            "name": line["description"],
            "description": description,
            "quantity": line["quantity"],
            "unit_amount": line["price"]["unit_amount"],
            "amount_subtotal": line["amount_subtotal"],
            "amount_total": line["amount_total"],
        }
        for line, description in zip(
            session.private["line_items"], session.private.get("descriptions", []), strict=False
        )
    ]
    context = {
        "session": session.data,
        "lines": lines,
        "summary": page_summary(session),
        "cancel_url": return_url(session, success=False),
        "success_url": return_url(session, success=True),
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "sandbox/checkout.html", context, status=402 if error else 200)
