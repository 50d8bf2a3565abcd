"""Project-wide test set-up. The shared fixtures live beside what they are about and are
registered here, by name, rather than defined here: `storefront/tests/fixtures.py` (an empty
cache per test, the `browser` and `page` fixtures) and `payments/stripe/tests/fixtures.py`
(every test on the offline Stripe sandbox, never the network; `offer_currency`; `pay_order`).
"""

pytest_plugins = [
    "storefront.tests.fixtures",
    "payments.stripe.tests.fixtures",
]


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} ({database['NAME']})"
