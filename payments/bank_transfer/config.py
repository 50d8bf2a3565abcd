"""The bank-transfer rail's settings, read in one place: the webhook secret (or the sandbox's),
the payee's bank details that buyers copy onto their transfer, and who may call the API."""

from dataclasses import dataclass

from django.conf import settings

#: Signs the sandbox bank's deliveries where no BANK_WEBHOOK_SECRET is set and the sandbox is
#: allowed. Public on purpose: it authenticates nothing outside a demo.
SANDBOX_SECRET = "bank_sandbox_secret"  # noqa: S105 (a demo's, public by design)

#: What a demo shop shows as its bank details when none are configured (a valid INN and BIC
#: shape, an account number no bank has issued).
SANDBOX_PAYEE = {
    "name": "Storefront Demo LLC",
    "inn": "7707083893",
    "account": "40702810000000000001",
    "bank": "Sandbox Bank",
    "bic": "044525000",
    "correspondent_account": "30101810000000000000",
}


@dataclass(frozen=True)
class Payee:
    """The merchant's bank account that transfers go to."""

    name: str
    inn: str
    account: str
    bank: str
    bic: str
    correspondent_account: str
    sandbox: bool

    def lines(self) -> list[tuple[str, str]]:
        """The details in the order a payment order form asks for them."""
        return [
            ("Payee", self.name),
            ("Payee INN", self.inn),
            ("Account number", self.account),
            ("Bank", self.bank),
            ("BIC", self.bic),
            ("Correspondent account", self.correspondent_account),
        ]


def sandbox_allowed() -> bool:
    return bool(settings.BANK_SANDBOX)


def currency() -> str:
    return settings.BANK_TRANSFER_CURRENCY.upper()


def webhook_secret() -> str:
    """BANK_WEBHOOK_SECRET, or the sandbox's where none is set and the sandbox is allowed;
    "" when neither (every delivery is then refused)."""
    if settings.BANK_WEBHOOK_SECRET:
        return settings.BANK_WEBHOOK_SECRET
    return SANDBOX_SECRET if sandbox_allowed() else ""


def in_sandbox() -> bool:
    return not settings.BANK_WEBHOOK_SECRET and sandbox_allowed()


def payee() -> Payee | None:
    """The configured payee; the sandbox's when none is and the sandbox is allowed; else None."""
    configured = settings.BANK_PAYEE
    if configured.get("account"):
        return Payee(**{key: configured.get(key, "") for key in SANDBOX_PAYEE}, sandbox=False)
    if sandbox_allowed():
        return Payee(**SANDBOX_PAYEE, sandbox=True)
    return None


def allowed_ips() -> list[str]:
    return [ip.strip() for ip in settings.BANK_WEBHOOK_ALLOWED_IPS if ip.strip()]
