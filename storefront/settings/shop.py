"""The shop's own knobs: the seller named on invoices, the catalogue's pages and their cache,
the limits per client (storefront.plumbing.throttle), and which way the Buy and Pay buttons
go."""

from django.core.exceptions import ImproperlyConfigured

from storefront.settings.background import REDIS_URL
from storefront.settings.environment import DEBUG, TESTING, env

# The seller named on invoices; the address's lines are separated by "\n" (or real newlines).
SHOP_NAME = env.str("SHOP_NAME", default="Storefront")
SHOP_ADDRESS = env.str("SHOP_ADDRESS", default="").replace("\\n", "\n")

# Items per catalogue page (`/?page=2`): a page costs the same however large the catalogue.
SHOP_CATALOGUE_PAGE_SIZE = 24
# The catalogue's and item pages are kept as rendered, in each process's memory, until what they
# show changes (storefront.plumbing.page_cache). Whether a kept page is current is asked of the
# shared cache, so it is on where there is one (REDIS_URL) and in tests (one process); off on a
# laptop (DEBUG: edited templates show at once) and where processes share no cache.
SHOP_PAGE_CACHE = TESTING or (bool(REDIS_URL) and not DEBUG)
# How long a process trusts the page version it last read from the shared cache (seconds): a
# change made in another process shows there this much later at most; 0 asks on every request.
SHOP_PAGE_VERSION_SECONDS = 0.25

# How many payments one client may start (/buy/..., the pay pages) per window before a 429
# (storefront.plumbing.throttle; the window slides, and is every limit below's).
SHOP_START_LIMIT = env.int("SHOP_START_LIMIT", default=30)
SHOP_START_WINDOW_SECONDS = env.int("SHOP_START_WINDOW_SECONDS", default=60)
# How many return pages (where a provider sends the buyer back) one client may open per window.
SHOP_RETURN_LIMIT = env.int("SHOP_RETURN_LIMIT", default=60)
# How many new orders (POST /order/add/ with no open order) one client may make per window.
SHOP_ORDER_LIMIT = env.int("SHOP_ORDER_LIMIT", default=20)

# Which way the Buy and Pay buttons go: "checkout" (Stripe Checkout) or "payment_element" (the
# card form on our own page). The other way stays offered beside it.
SHOP_PAYMENT_FLOW = env.str("SHOP_PAYMENT_FLOW", default="checkout")
if SHOP_PAYMENT_FLOW not in ("checkout", "payment_element"):
    raise ImproperlyConfigured(
        f"SHOP_PAYMENT_FLOW must be checkout or payment_element, not {SHOP_PAYMENT_FLOW!r}."
    )
