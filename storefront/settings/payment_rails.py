"""How the shop takes money: the currencies it sells in, the rails (payments.rails) and what
fulfils their payments, and each rail's own settings (bank transfers, PrivatBank's Pay in
parts, Stripe's accounts per currency). Whether a rail's sandbox may run is said here; its app
is installed by settings.application."""

import os
import re

from storefront.settings.environment import DEBUG, TESTING, env

# --- The currencies sold -------------------------------------------------------------------

# Currencies the shop sells in. Any currency with Stripe keys in the environment is added, so
# setting STRIPE_JPY_SECRET_KEY (and its two companions) is all it takes to sell in JPY.
_KEYED_CURRENCIES = {
    match.group(1)
    for name in os.environ
    if (
        match := re.fullmatch(
            r"STRIPE_([A-Z]{3})_(?:SECRET_KEY|PUBLISHABLE_KEY|WEBHOOK_SECRET)", name
        )
    )
}
SHOP_CURRENCIES = sorted(
    {code.upper() for code in env.list("SHOP_CURRENCIES", default=["USD", "EUR"])}
    | _KEYED_CURRENCIES
)

# --- Bank transfers -------------------------------------------------------------------------

# Organisations pay by bank transfer into one bank account, in BANK_TRANSFER_CURRENCY (below).
# Their bank signs each notification with BANK_WEBHOOK_SECRET; without it, the sandbox bank's
# secret is used where the sandbox is allowed (DEBUG, tests, or BANK_SANDBOX=1), and a
# production site running the rail refuses to start.
BANK_WEBHOOK_SECRET = env.str("BANK_WEBHOOK_SECRET", default="")
# Comma-separated addresses the bank posts from (the client's address: TRUSTED_PROXY_COUNT);
# empty: any, signature only.
BANK_WEBHOOK_ALLOWED_IPS = env.list("BANK_WEBHOOK_ALLOWED_IPS", default=[])
# The bearer token of GET /api/organizations/<inn>/balance/ (staff sessions need none).
BANK_API_TOKEN = env.str("BANK_API_TOKEN", default="")
BANK_SANDBOX = env.bool("BANK_SANDBOX", default=DEBUG or TESTING)
# The bank details buyers copy onto their transfer (and the invoice shows).
BANK_PAYEE = {
    "name": env.str("BANK_PAYEE_NAME", default=""),
    "inn": env.str("BANK_PAYEE_INN", default=""),
    "account": env.str("BANK_PAYEE_ACCOUNT", default=""),
    "bank": env.str("BANK_PAYEE_BANK", default=""),
    "bic": env.str("BANK_PAYEE_BIC", default=""),
    "correspondent_account": env.str("BANK_PAYEE_CORRESPONDENT_ACCOUNT", default=""),
}

# --- PrivatBank "Pay in parts" ----------------------------------------------------------------

# UAH orders paid in instalments (payments.payparts). The store's id and password come from the
# bank; without them the offline sandbox bank takes the payments where it is allowed (DEBUG,
# tests, or PAYPARTS_SANDBOX=1), and a production site running the rail refuses to start.
PAYPARTS_API_STORE_ID = env.str("PAYPARTS_API_STORE_ID", default="")
PAYPARTS_API_PASSWORD = env.str("PAYPARTS_API_PASSWORD", default="")
PAYPARTS_API_URL = env.str("PAYPARTS_API_URL", default="https://payparts2.privatbank.ua/ipp/v2/")
PAYPARTS_API_REDIRECT_URL = env.str(
    "PAYPARTS_API_REDIRECT_URL", default="https://payparts2.privatbank.ua/ipp/v2/payment"
)
# The buyer chooses 2 to this many parts (the bank allows up to 25).
PAYPARTS_PARTS_COUNT_MAX = env.int("PAYPARTS_PARTS_COUNT_MAX", default=6)
# II instant instalment, PP pay in parts, PB, IA: as agreed with the bank.
PAYPARTS_MERCHANT_TYPE = env.str("PAYPARTS_MERCHANT_TYPE", default="PP")
PAYPARTS_SANDBOX = env.bool("PAYPARTS_SANDBOX", default=DEBUG or TESTING)

# --- Payments -------------------------------------------------------------------------------

# The rails this site takes money on, in the order their buttons appear (payments.rails). A
# line removed turns a rail off; its past payments stay readable in the admin.
# The bank-transfer rail is on by default wherever a bank is configured or sandboxed; listed
# explicitly without BANK_WEBHOOK_SECRET, production refuses to start (a deploy check).
PAYMENT_RAILS = env.list(
    "PAYMENT_RAILS",
    default=["payments.stripe.rail.StripeRail"]
    + (
        ["payments.bank_transfer.rail.BankTransferRail"]
        if BANK_SANDBOX or BANK_WEBHOOK_SECRET or BANK_PAYEE["account"]
        else []
    )
    + (
        ["payments.payparts.rail.PayPartsRail"]
        if PAYPARTS_SANDBOX or PAYPARTS_API_STORE_ID or PAYPARTS_API_PASSWORD
        else []
    ),
)
# The currency bank transfers arrive in. While the bank-transfer rail runs, the shop sells in it
# (currencies.offered) through that rail only: it is kept out of SHOP_CURRENCIES, so it gets
# no Stripe account (STRIPE_ACCOUNTS) and no Stripe button.
BANK_TRANSFER_CURRENCY = env.str("BANK_TRANSFER_CURRENCY", default="RUB").upper()
# Likewise UAH while the Pay in parts rail runs: PrivatBank takes it, Stripe does not here.
PAYPARTS_CURRENCY = "UAH"
# Currencies that one rail alone takes, by the rail's dotted path: offered while that rail runs
# (currencies.offered), and kept out of SHOP_CURRENCIES, so they get no Stripe account.
RAIL_CURRENCIES = {
    "payments.bank_transfer.rail.BankTransferRail": BANK_TRANSFER_CURRENCY,
    "payments.payparts.rail.PayPartsRail": PAYPARTS_CURRENCY,
}
SHOP_CURRENCIES = [
    code
    for code in SHOP_CURRENCIES
    if code not in {RAIL_CURRENCIES[path] for path in PAYMENT_RAILS if path in RAIL_CURRENCIES}
]
# What a succeeded payment fulfils, by the kind of its reference ("order-5" → "order").
PAYMENT_FULFILMENT = {"order": "storefront.shop.order_fulfilment.order_mark_paid"}
PAYMENT_FULFILMENT_FACTS = {"order": "storefront.shop.order_fulfilment.order_payment_facts"}
PAYMENT_REFUNDED = {"order": "storefront.shop.order_fulfilment.order_refunded"}

# --- Stripe ---------------------------------------------------------------------------------

# One Stripe account per currency. A currency without keys runs on the offline sandbox, which
# is allowed by default only when DEBUG is on; STRIPE_SANDBOX=1 allows it explicitly (demo
# deployments), STRIPE_SANDBOX=0 forbids it.
STRIPE_ACCOUNTS = {
    code: {
        "secret_key": env.str(f"STRIPE_{code}_SECRET_KEY", default=""),
        "publishable_key": env.str(f"STRIPE_{code}_PUBLISHABLE_KEY", default=""),
        "webhook_secret": env.str(f"STRIPE_{code}_WEBHOOK_SECRET", default=""),
    }
    for code in SHOP_CURRENCIES
}
STRIPE_SANDBOX = env.bool("STRIPE_SANDBOX", default=DEBUG or TESTING)
# A web worker cannot wait for ever: (connect, read) seconds per attempt, and retries of network
# errors and 409/5xx answers, which Stripe's idempotency keys make safe.
STRIPE_TIMEOUT = (
    env.float("STRIPE_CONNECT_TIMEOUT", default=3.0),
    env.float("STRIPE_READ_TIMEOUT", default=10.0),
)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Where accounts with keys send their API requests: Stripe's own (empty), or another base such
# as Stripe's mock server (`http://127.0.0.1:12111`), a recording proxy or a regional endpoint.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="").rstrip("/")
# How the sandbox sends its webhook events: "thread" (after commit, in the background, to the
# shop's own endpoint) or "off" (recorded only; `manage.py sandbox_events resend` sends one).
STRIPE_SANDBOX_WEBHOOKS = env.str("STRIPE_SANDBOX_WEBHOOKS", default="thread")
# Which Stripe.js the sandbox's stub behaves as: "current" (no redirectToCheckout, as Stripe.js
# is since 2025: the shop follows the session's URL) or "legacy" (with it).
STRIPE_SANDBOX_JS_VERSION = env.str("STRIPE_SANDBOX_JS_VERSION", default="current")
# How long a Checkout Session takes payment, in minutes: Stripe allows 30 to 1440 (24 hours).
# Short, so an abandoned checkout closes (and its order can be cancelled) soon.
CHECKOUT_EXPIRES_MINUTES = env.int("CHECKOUT_EXPIRES_MINUTES", default=30)
