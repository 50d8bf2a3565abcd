"""The sandbox bank: `manage.py bank_sandbox` pays an order by transfer through the shop's own
endpoint, signed with the sandbox's secret, and prints a curl line that does the same."""

import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from payments.bank_transfer.models import Organisation
from payments.bank_transfer.tests.bank_tools import INN
from payments.services import payment_start
from payments.values import Method, Payable
from storefront.models import Order
from storefront.tests.factories import make_item, make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandboxed(settings):
    settings.BANK_WEBHOOK_SECRET = ""
    settings.BANK_SANDBOX = True


@pytest.fixture
def order():
    order = make_order((make_item(price="500.00", currency="RUB"), 1))
    payable = Payable(reference=f"order-{order.pk}", currency="RUB", total=50000, description="")
    payment_start(
        rail="bank_transfer", method=Method.ON_PAGE, payable=payable, return_url="", cancel_url=""
    )
    return order


def test_a_sandbox_transfer_pays_the_order(sandboxed, order, live_server, capsys):
    call_command(
        "bank_sandbox", "transfer", inn=INN, amount=50000, reference=f"INV-{order.pk}",
        url=live_server.url,
    )  # fmt: skip

    assert capsys.readouterr().out.startswith("200 ")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Organisation.objects.get(inn=INN).balance == 0


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_line_is_a_valid_delivery(sandboxed, live_server, capsys):
    call_command("bank_sandbox", "curl", inn=INN, amount=700, url=live_server.url)
    line = capsys.readouterr().out.strip()

    result = subprocess.run(  # noqa: S603 (the line our command printed)
        ["/bin/sh", "-c", line], capture_output=True, text=True, timeout=30
    )

    assert '"outcome": "processed"' in result.stdout, result.stdout + result.stderr
    assert Organisation.objects.get(inn=INN).balance == 700


def test_a_refused_delivery_fails_the_command(sandboxed, live_server):
    # An INN of the wrong shape (an INN whose check digits fail is booked and flagged since
    # issue 19, so it no longer makes a refused delivery).
    with pytest.raises(CommandError, match="400"):
        call_command("bank_sandbox", "transfer", inn="123456789", amount=1, url=live_server.url)


def test_without_a_secret_or_the_sandbox_it_says_so(settings):
    settings.BANK_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="BANK_WEBHOOK_SECRET"):
        call_command("bank_sandbox", "curl", inn=INN, amount=1)


def test_without_url_it_posts_to_the_shop_at_shop_url(sandboxed, order, live_server, settings):
    settings.SHOP_URL = live_server.url  # as `PORT=8801 make run` sets it for its server
    out = StringIO()
    call_command(
        "bank_sandbox", "transfer", inn=INN, amount=50000, reference=f"INV-{order.pk}", stdout=out
    )

    assert out.getvalue().startswith("200 ")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
