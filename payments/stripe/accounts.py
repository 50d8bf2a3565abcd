"""The Stripe account of each currency, as configured in the environment."""

import re
from dataclasses import dataclass, field

from django.conf import settings

from payments.errors import AccountUnavailable
from payments.stripe import NAME
from payments.values import ProviderState

# Keys the sandbox hands out for a currency with no real account. They only ever reach the
# sandbox's HTTP client; real Stripe would refuse them.
SANDBOX_KEY_PREFIXES = {
    "secret_key": "sk_test_sandbox_",
    "publishable_key": "pk_test_sandbox_",
    "webhook_secret": "whsec_sandbox_",
}


@dataclass(frozen=True)
class StripeAccount:
    """One Stripe account: the keys that take one currency's money."""

    currency: str
    secret_key: str = field(repr=False)
    publishable_key: str
    webhook_secret: str = field(repr=False)
    sandbox: bool

    @property
    def livemode(self) -> bool:
        return self.secret_key.startswith(("sk_live_", "rk_live_"))

    @property
    def slug(self) -> str:
        """Lower-case currency code, as used in URLs (`/payments/webhooks/stripe/eur/`)."""
        return self.currency.lower()

    @property
    def identity(self) -> str:
        """What names this account on our records (`Payment.account`): its publishable key.

        Public, and distinct for every Stripe account and for its test and live modes, so a
        payment started on one account (or mode) is never confused with another's, even
        when the merchant points a currency at a different account.
        """
        return self.publishable_key

    def state(self, *, livemode: bool | None = None, **fields) -> ProviderState:
        """A payment's state as this account reports it, in the core's words.

        `livemode` is the mode it was reported in (an event's); the account's own by default.
        """
        return ProviderState(
            rail=NAME,
            account=self.identity,
            livemode=self.livemode if livemode is None else livemode,
            **fields,
        )

    @property
    def label(self) -> str:
        """`USD account (sandbox)`: the account in a merchant's words."""
        mode = "sandbox" if self.sandbox else ("live" if self.livemode else "test")
        return f"{self.currency} account ({mode})"


# What a Stripe object id looks like: a prefix, an underscore, letters, digits and underscores,
# 255 characters at most. A return URL's id is checked against it before any query or request.
_STRIPE_ID = re.compile(r"[a-z]+_[A-Za-z0-9_]{1,250}")


def is_stripe_id(value: str, prefix: str) -> bool:
    """Whether `value` has the shape of a Stripe id starting with `prefix` (`"cs_"`, `"pi_"`)."""
    return value.startswith(prefix) and _STRIPE_ID.fullmatch(value) is not None


def sandbox_allowed() -> bool:
    return bool(settings.STRIPE_SANDBOX)


def account_for(currency: str) -> StripeAccount:
    """Return the account that takes payments in `currency`.

    A currency whose three keys are all unset runs on the sandbox when the sandbox is allowed.
    Raises AccountUnavailable when the shop does not sell in the currency, or when it has no
    keys and the sandbox is not allowed (production without configuration).
    """
    code = currency.upper()
    keys = settings.STRIPE_ACCOUNTS.get(code)
    if code not in settings.SHOP_CURRENCIES or keys is None:
        raise AccountUnavailable(f"Payments in {code} are not available in this shop.")
    if any(keys.values()):
        if not (keys["secret_key"] and keys["publishable_key"]):
            # Half a configuration is a mistake, not a request for the sandbox.
            raise AccountUnavailable(
                f"Payments in {code} are not available right now: the Stripe account is "
                "only partly configured."
            )
        return StripeAccount(currency=code, sandbox=False, **keys)
    if not sandbox_allowed():
        raise AccountUnavailable(
            f"Payments in {code} are not available right now: no Stripe account is configured."
        )
    return StripeAccount(
        currency=code,
        sandbox=True,
        **{name: prefix + code.lower() for name, prefix in SANDBOX_KEY_PREFIXES.items()},
    )


def configured_accounts() -> list[StripeAccount]:
    """Every account the shop can use now, one per offered currency, skipping unavailable ones."""
    accounts = []
    for code in settings.SHOP_CURRENCIES:
        try:
            accounts.append(account_for(code))
        except AccountUnavailable:
            continue
    return accounts


def account_with_identity(identity: str) -> StripeAccount | None:
    """The configured account that `identity` (a Payment's `account`) names, if any."""
    return next((a for a in configured_accounts() if a.identity == identity), None)


def is_sandbox_identity(identity: str) -> bool:
    """Whether `identity` names a sandbox account (configured now or not)."""
    return identity.startswith(SANDBOX_KEY_PREFIXES["publishable_key"])


def any_sandbox_in_use() -> bool:
    return any(account.sandbox for account in configured_accounts())
