"""One StripeClient per account, never the global key; Stripe errors become PaymentError."""

import pytest
import stripe

from payments.errors import PaymentError
from payments.stripe import client as gateway
from payments.stripe.accounts import account_for


def test_each_account_has_its_own_client_with_its_own_key():
    usd, eur = account_for("USD"), account_for("EUR")

    usd_client, eur_client = gateway.client_for(usd), gateway.client_for(eur)

    assert usd_client is not eur_client
    assert usd_client._requestor.api_key == usd.secret_key
    assert eur_client._requestor.api_key == eur.secret_key
    assert gateway.client_for(usd) is usd_client  # built once, reused
    assert stripe.api_key is None  # the global key is never set


def test_clients_retry_explicitly(settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 3

    client = gateway.client_for(account_for("USD"))

    assert client._requestor._options.max_network_retries == 3


def test_real_accounts_use_requests_with_a_bounded_timeout(settings):
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "USD": {
            "secret_key": "sk_test_x1",
            "publishable_key": "pk_test_x1",
            "webhook_secret": "whsec_x1",
        },
    }
    settings.STRIPE_TIMEOUT = (2.0, 7.0)

    http_client = gateway.client_for(account_for("USD"))._requestor._client

    assert isinstance(http_client, stripe.RequestsClient)
    assert http_client._timeout == (2.0, 7.0)


def test_account_repr_never_shows_secrets():
    account = account_for("EUR")

    assert account.secret_key not in repr(account)
    assert account.webhook_secret not in repr(account)


def test_partly_configured_account_is_unavailable_not_sandboxed(settings):
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "EUR": {"secret_key": "sk_test_only", "publishable_key": "", "webhook_secret": ""},
    }

    with pytest.raises(PaymentError) as caught:
        account_for("EUR")
    assert caught.value.status == 503


@pytest.mark.django_db
def test_the_sandbox_log_never_claims_to_reach_stripe(caplog):
    import logging

    from payments.stripe import client as gateway
    from payments.stripe.accounts import account_for

    with caplog.at_level(logging.INFO, logger="stripe"):
        gateway.stripe_object_create(
            account_for("USD"),
            kind="tax_rate",
            params={"display_name": "VAT", "percentage": "19", "inclusive": True},
            idempotency_key="log-test",
        )

    lines = [record.getMessage() for record in caplog.records if record.name == "stripe"]
    assert lines and all("api.stripe.com" not in line for line in lines)
    assert any("stripe-sandbox.invalid/v1/tax_rates" in line for line in lines)
