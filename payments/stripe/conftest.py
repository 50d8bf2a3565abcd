"""Fixtures of the payment tests: the official library talking to the sandbox, per account."""

import pytest
import stripe

from payments.stripe.sandbox.client import SandboxHTTPClient


@pytest.fixture
def usd():
    """A StripeClient on the USD sandbox account."""
    return stripe.StripeClient("sk_test_sandbox_usd", http_client=SandboxHTTPClient())


@pytest.fixture
def eur():
    """A StripeClient on the EUR sandbox account."""
    return stripe.StripeClient("sk_test_sandbox_eur", http_client=SandboxHTTPClient())
