"""The shop's PrivatBank store, from settings: configured (PAYPARTS_API_STORE_ID and
PAYPARTS_API_PASSWORD), or the sandbox bank's store where the sandbox may run.

A store's identity on our records (`Payment.account`) is its store id: it names the account
to the merchant, and it is not secret (the password is, and is never logged or rendered).
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings

from payments.errors import AccountUnavailable

CURRENCY = "UAH"
SANDBOX_APP = "payments.payparts.sandbox"
# The sandbox bank's own store. Not secrets: they sign nothing a real bank would accept.
SANDBOX_STORE_ID = "SANDBOX0PAYPARTS0001"
SANDBOX_PASSWORD = "sandbox-payparts-password"  # noqa: S105 (the sandbox bank's, public)
SANDBOX_PAGE_PATH = "/sandbox/payparts/payment"
# The bank's limits on one payment (UAH) and on the number of parts.
AMOUNT_MIN = 300_00
AMOUNT_MAX = 50_000_00
PARTS_MIN = 2
PARTS_MAX = 25
MERCHANT_TYPES = ("II", "PP", "PB", "IA")


@dataclass(frozen=True)
class Store:
    store_id: str
    password: str = field(repr=False)
    api_url: str
    redirect_url: str
    sandbox: bool

    @property
    def livemode(self) -> bool:
        return not self.sandbox


def configured() -> bool:
    return bool(settings.PAYPARTS_API_STORE_ID and settings.PAYPARTS_API_PASSWORD)


def sandbox_allowed() -> bool:
    return bool(settings.PAYPARTS_SANDBOX) and apps.is_installed(SANDBOX_APP)


def store() -> Store:
    """The store payments are made with now. Raises AccountUnavailable without one."""
    if configured():
        return Store(
            store_id=settings.PAYPARTS_API_STORE_ID,
            password=settings.PAYPARTS_API_PASSWORD,
            api_url=settings.PAYPARTS_API_URL,
            redirect_url=settings.PAYPARTS_API_REDIRECT_URL,
            sandbox=False,
        )
    if sandbox_allowed():
        # The API URL stays the bank's: the client's sandbox transport answers in its place,
        # as Stripe's sandbox does. The buyer's page is on the shop's own origin (the rail
        # makes this path absolute).
        return Store(
            store_id=SANDBOX_STORE_ID,
            password=SANDBOX_PASSWORD,
            api_url=settings.PAYPARTS_API_URL,
            redirect_url=SANDBOX_PAGE_PATH,
            sandbox=True,
        )
    raise AccountUnavailable(
        "Paying in parts is not available right now: no PrivatBank store is configured."
    )


def store_with_identity(store_id: str) -> Store | None:
    """The store whose id is `store_id`, if it is the one in use now."""
    try:
        found = store()
    except AccountUnavailable:
        return None
    return found if found.store_id == store_id else None


def parts_max() -> int:
    return max(PARTS_MIN, min(PARTS_MAX, int(settings.PAYPARTS_PARTS_COUNT_MAX)))


def merchant_type() -> str:
    return settings.PAYPARTS_MERCHANT_TYPE
