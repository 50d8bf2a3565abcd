"""The sandbox's pages: Stripe's hosted checkout page, as an offline stand-in."""

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from payments.stripe.accounts import sandbox_allowed
from payments.stripe.sandbox import payment_confirmation
from payments.stripe.sandbox.cards import Card, CardError
from payments.stripe.sandbox.hosted_checkout import (
    authentication_failure,
    authentication_pending,
    checkout_session_authenticate,
    checkout_session_pay,
    page_summary,
    return_url,
    session_for_page,
)
from payments.stripe.sandbox.objects import ApiError
from payments.stripe.sandbox.params import Email, ParamError


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
            email = request.POST.get("email", "").strip()
            if email and not session.data.get("customer_email"):
                _check_email(email)
            card = Card.from_form(
                request.POST.get("card_number", ""),
                request.POST.get("expiry", ""),
                request.POST.get("cvc", ""),
            )
            session = checkout_session_pay(session_id=session.id, card=card, email=email)
        except CardError as exc:
            error = exc.message
        else:
            if authentication_pending(session) is not None:
                return redirect("sandbox:checkout_authenticate", session_id=session.id)
            url = return_url(session, success=True)
            if url:
                return redirect(url)
    else:
        error = authentication_failure(session)
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
    # A declined card is an answer, not an error of the page: 200, the form and the message (a
    # 402 would be logged as an error by every browser's console).
    return render(request, "sandbox/checkout.html", context)


def _check_email(email: str) -> None:
    """Refuse an address the way Stripe's page does, before the card is tried."""
    try:
        Email().parse(email, "email")
    except ParamError:
        raise CardError("Your email address is invalid.") from None


@require_http_methods(["GET", "POST"])
def checkout_authenticate(request: HttpRequest, session_id: str) -> HttpResponse:
    """The 3-D Secure step of a hosted checkout's payment: complete it, or fail it."""
    if not sandbox_allowed():
        raise Http404("The Stripe sandbox is off.")
    session = session_for_page(session_id)
    if session is None:
        raise Http404("No such checkout session.")
    if request.method == "POST":
        session = checkout_session_authenticate(
            session_id=session.id, complete=request.POST.get("outcome") == "complete"
        )
    intent = authentication_pending(session)
    if intent is None:
        # Answered (or paid, or expired): the checkout page says how it stands, or the shop's
        # success page takes over.
        url = return_url(session, success=True) if session.data["status"] == "complete" else None
        return redirect(url or reverse("sandbox:checkout", args=[session.id]))
    return render(request, "sandbox/authenticate.html", {"intent": intent})


@csrf_exempt  # Like Stripe's API for Stripe.js: the client secret is the credential, not a cookie.
@require_POST
def payment_intent_confirm(request: HttpRequest, intent_id: str) -> JsonResponse:
    """What Stripe.js's confirmPayment asks of Stripe, for the stub Stripe.js."""
    if not sandbox_allowed():
        raise Http404("The Stripe sandbox is off.")
    try:
        body = json.loads(request.body)
        result = payment_confirmation.confirm_in_browser(
            intent_id=intent_id,
            client_secret=str(body.get("client_secret", "")),
            publishable_key=str(body.get("publishable_key", "")),
            card={k: str(v) for k, v in (body.get("card") or {}).items()},
            return_url=str(body.get("return_url", "")),
        )
    except (ValueError, AttributeError):
        return JsonResponse(
            {"error": {"type": "invalid_request_error", "message": "Malformed request."}},
            status=400,
        )
    except payment_confirmation.ConfirmError as exc:
        return JsonResponse({"error": exc.error}, status=400)
    return JsonResponse(result)


@require_http_methods(["GET", "POST"])
def payment_intent_authenticate(request: HttpRequest, intent_id: str) -> HttpResponse:
    """The confirmation step a 3-D Secure card asks for: complete it, or fail it."""
    if not sandbox_allowed():
        raise Http404("The Stripe sandbox is off.")
    try:
        intent = payment_confirmation.intent_for_page(intent_id)
    except ApiError:
        raise Http404("No such payment.") from None
    if request.method == "POST":
        url = payment_confirmation.authentication_finish(
            intent_id=intent.id, complete=request.POST.get("outcome") == "complete"
        )
        return redirect(url)
    return render(request, "sandbox/authenticate.html", {"intent": intent.data})
