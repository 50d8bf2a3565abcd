"""The deploy check: production refuses to run the rail without a secret or a payee."""

import pytest

from payments.bank_transfer.checks import check_bank_transfer


def ids(settings):
    return [problem.id for problem in check_bank_transfer()]


def test_a_configured_rail_passes(settings):
    assert ids(settings) == []


def test_no_secret_in_production_is_an_error_naming_the_variable(settings):
    settings.BANK_WEBHOOK_SECRET = ""

    (problem,) = check_bank_transfer()

    assert problem.id == "payments.E020"
    assert "BANK_WEBHOOK_SECRET" in problem.msg


def test_no_payee_in_production_is_an_error(settings):
    settings.BANK_PAYEE = {"account": ""}

    assert ids(settings) == ["payments.E021"]


def test_the_sandbox_or_the_rail_off_needs_neither(settings):
    settings.BANK_WEBHOOK_SECRET = ""
    settings.BANK_PAYEE = {"account": ""}
    settings.BANK_SANDBOX = True
    assert ids(settings) == []

    settings.BANK_SANDBOX = False
    settings.PAYMENT_RAILS = ["payments.stripe.rail.StripeRail"]
    assert ids(settings) == []


@pytest.mark.django_db
def test_manage_py_check_deploy_refuses(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.BANK_WEBHOOK_SECRET = ""
    with pytest.raises(SystemCheckError, match=r"payments\.E020"):
        call_command("check", "--deploy", "--tag", "security")
