"""Production refuses to start with the Pay in parts rail on and no PrivatBank store."""

import sys

from payments.payparts.checks import check_payparts_store
from storefront.tests.test_deploy import production_env, run

RAILS = "payments.stripe.rail.StripeRail,payments.payparts.rail.PayPartsRail"


def ids():
    return [problem.id for problem in check_payparts_store()]


def test_the_sandbox_allowed_and_no_store_is_fine():
    assert ids() == []


def test_no_store_and_no_sandbox_is_an_error(settings):
    settings.PAYPARTS_SANDBOX = False
    problems = check_payparts_store()
    assert [p.id for p in problems] == ["payments_payparts.E001"]
    assert "PAYPARTS_API_STORE_ID" in problems[0].hint


def test_a_half_configured_store_is_an_error(settings):
    settings.PAYPARTS_SANDBOX = False
    settings.PAYPARTS_API_STORE_ID = "4AAD1369CF734B64B70F"
    assert ids() == ["payments_payparts.E002"]
    settings.PAYPARTS_API_PASSWORD = "secret"
    assert ids() == []
    settings.PAYPARTS_MERCHANT_TYPE = "XX"
    assert ids() == ["payments_payparts.E003"]


def test_a_site_without_the_rail_is_not_checked(settings):
    settings.PAYMENT_RAILS = ["payments.stripe.rail.StripeRail"]
    settings.PAYPARTS_SANDBOX = False
    assert ids() == []


def test_production_with_the_rail_and_no_store_refuses_to_start(tmp_path):
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"]
    refused = run(command, production_env(tmp_path, PAYMENT_RAILS=RAILS))
    assert refused.returncode != 0
    assert "payments_payparts.E001" in refused.stderr + refused.stdout
    configured = production_env(
        tmp_path,
        PAYMENT_RAILS=RAILS,
        PAYPARTS_API_STORE_ID="4AAD1369CF734B64B70F",
        PAYPARTS_API_PASSWORD="deploy-fake-password",
    )
    result = run(command, configured)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deploy-fake-password" not in result.stdout + result.stderr
