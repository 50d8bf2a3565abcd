"""The demo's paying organisation is not the shop it pays: its INN differs from the payee's."""

import pytest
from django.core.management import call_command
from stdnum.ru import inn as russian_inn

from payments.bank_transfer import config
from payments.bank_transfer.models import Organisation

pytestmark = pytest.mark.django_db


def test_the_demo_payer_has_a_valid_inn_of_its_own(settings):
    settings.BANK_PAYEE = {key: "" for key in config.SANDBOX_PAYEE}
    settings.BANK_SANDBOX = True
    call_command("load_demo", verbosity=0)

    payer = Organisation.objects.get(name="Demo Buyer LLC")
    payee = config.payee()

    assert payee is not None and payee.sandbox
    assert russian_inn.is_valid(payer.inn) and russian_inn.is_valid(payee.inn)
    assert payer.inn != payee.inn
