"""Reading the sandbox from tests: which account answered what."""

from payments.stripe.accounts import account_for
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.sandbox.objects import account_id_for_key


def sandbox_account(currency: str) -> str:
    """The sandbox account id of the shop's account for `currency`."""
    return account_id_for_key(account_for(currency).secret_key)


def requests_of(currency: str):
    return SandboxRequest.objects.filter(account=sandbox_account(currency))


def session_object(session_id: str) -> SandboxObject:
    return SandboxObject.objects.get(id=session_id, object="checkout.session")
