"""What a request to pay asks for, read the same way by the pay pages and `/buy/...`: the rail
its button chose, that rail's own options, and where the provider sends the buyer back."""

from django.http import HttpRequest
from django.urls import reverse

from payments.services import default_rail
from payments.values import Method


def return_urls(request: HttpRequest, rail: str, cancel_query: str) -> dict[str, str]:
    """Where a provider sends the buyer back: our return page for `rail`, or the cancel page."""
    return {
        "return_url": request.build_absolute_uri(reverse("storefront:payment_return", args=[rail])),
        "cancel_url": request.build_absolute_uri(reverse("storefront:cancel")) + cancel_query,
    }


def chosen_rail(request: HttpRequest, currency: str, method: Method) -> str:
    """`?rail=` if the page's button named one, else the first rail that pays this way."""
    return request.GET.get("rail") or default_rail(currency=currency, method=method)


def chosen_options(request: HttpRequest) -> dict[str, str]:
    """What else the button's query says (a rail's own options, e.g. a number of parts): passed
    through unread; the chosen rail validates them."""
    return {name: value for name, value in request.GET.items() if name not in {"rail", "key"}}
