"""The system check that stops a production site that cannot take a currency's money."""

from payments.stripe.checks import check_stripe_accounts


def ids():
    return [problem.id for problem in check_stripe_accounts()]


def test_sandbox_allowed_and_no_keys_is_fine(settings):
    assert ids() == []


def test_production_without_keys_names_the_variables_to_set(settings):
    settings.STRIPE_SANDBOX = False

    problems = check_stripe_accounts()

    assert [p.id for p in problems] == ["payments.E002", "payments.E002"]
    assert "STRIPE_EUR_SECRET_KEY" in problems[0].hint
    assert "STRIPE_SANDBOX=1" in problems[0].hint


def test_partial_and_mixed_mode_keys_are_errors(settings):
    settings.STRIPE_SANDBOX = False
    settings.STRIPE_ACCOUNTS = {
        "EUR": {"secret_key": "sk_live_a", "publishable_key": "pk_test_a", "webhook_secret": "w"},
        "USD": {"secret_key": "sk_test_b", "publishable_key": "", "webhook_secret": ""},
    }

    problems = check_stripe_accounts()

    assert [p.id for p in problems] == ["payments.E004", "payments.E003"]
    assert "STRIPE_USD_PUBLISHABLE_KEY" in problems[1].hint


def test_missing_webhook_secret_is_a_warning(settings):
    settings.STRIPE_ACCOUNTS = {
        **settings.STRIPE_ACCOUNTS,
        "USD": {"secret_key": "sk_test_b", "publishable_key": "pk_test_b", "webhook_secret": ""},
    }

    assert ids() == ["payments.W001"]


def test_a_currency_stripe_does_not_support_is_an_error(settings):
    settings.SHOP_CURRENCIES = ["USD", "XYZ"]

    assert ids() == ["payments.E001"]
