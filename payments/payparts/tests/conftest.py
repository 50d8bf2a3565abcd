"""Fixtures of the Pay in parts tests: the rail on, no store configured, the sandbox bank."""

import importlib
import os

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse

RAILS = ["payments.stripe.rail.StripeRail", "payments.payparts.rail.PayPartsRail"]


def _routes_loaded() -> None:
    """The URLconf reads each rail's routes once, when it loads: if another app's tests loaded
    it with a list of rails without this one, load it again with the site's own rails and this
    one (so that no other rail loses its routes for the tests that come later)."""
    try:
        reverse("payparts_callback")
    except NoReverseMatch:
        import payments.urls

        site = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"]).PAYMENT_RAILS
        with override_settings(PAYMENT_RAILS=list(dict.fromkeys([*site, *RAILS]))):
            importlib.reload(payments.urls)
            importlib.reload(importlib.import_module(django_settings.ROOT_URLCONF))
        clear_url_caches()


@pytest.fixture(autouse=True)
def payparts(settings):
    """Whatever a developer's .env says: the sandbox bank, never PrivatBank."""
    settings.PAYMENT_RAILS = list(RAILS)
    settings.PAYPARTS_API_STORE_ID = ""
    settings.PAYPARTS_API_PASSWORD = ""
    settings.PAYPARTS_SANDBOX = True
    settings.PAYPARTS_PARTS_COUNT_MAX = 6
    settings.PAYPARTS_MERCHANT_TYPE = "PP"
    _routes_loaded()
    return settings
