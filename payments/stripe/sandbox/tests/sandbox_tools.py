"""Reading the sandbox from tests: which account answered what."""

import json
from functools import cache
from pathlib import Path

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


# Stripe's own published example objects, the few the shape tests compare against (its source
# is named inside the file).
STRIPE_EXAMPLES = Path(__file__).resolve().parent / "stripe_examples.json"


@cache
def _examples() -> dict:
    return json.loads(STRIPE_EXAMPLES.read_text())["resources"]


def stripe_example(resource: str) -> dict:
    """Stripe's example object of `resource` (`"checkout.session"`, `"event"`, `"coupon"`...)."""
    return _examples()[resource]
