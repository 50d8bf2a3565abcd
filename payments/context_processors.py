from django.http import HttpRequest

from payments.stripe.accounts import any_sandbox_in_use


def sandbox(request: HttpRequest) -> dict[str, bool]:
    """`sandbox_mode` is true when any currency takes its payments in the offline sandbox."""
    return {"sandbox_mode": any_sandbox_in_use()}
