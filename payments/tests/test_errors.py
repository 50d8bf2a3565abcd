"""`PaymentError` carries an HTTP error status that views answer with, so a misuse of it is a
500 (or a success) where a buyer should read a refusal. Three nets: the constructor refuses a
bad status; every call in the code is read and checked against the constructor's signature;
and every registered rail's refusal paths are driven and must raise a PaymentError whose status
is an HTTP error status.
"""

import ast
import inspect
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from djmoney.money import Money

from payments.errors import PaymentError
from payments.models import Payment
from payments.rails import all_rails
from payments.values import Method, Payable, PayableLine

ROOT = Path(settings.BASE_DIR)
CODE = ("payments", "storefront", "currencies")
RAILS = [
    "payments.stripe.rail.StripeRail",
    "payments.bank_transfer.rail.BankTransferRail",
    "payments.payparts.rail.PayPartsRail",
]


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        (("No.", 400), {}, TypeError),
        (("No.",), {"status": "400"}, TypeError),
        (("No.",), {"status": True}, TypeError),
        (("No.",), {"status": 200}, ValueError),
        (("No.",), {"status": 302}, ValueError),
        (("No.",), {"status": 600}, ValueError),
        ((404,), {}, TypeError),
    ],
)
def test_the_constructor_refuses_a_status_that_is_not_an_http_error(args, kwargs, error):
    with pytest.raises(error):
        PaymentError(*args, **kwargs)


def test_the_constructor_keeps_a_good_status():
    assert PaymentError("No.", status=400).status == 400
    assert PaymentError("No.").status == 502


def _error_classes() -> dict[str, type[PaymentError]]:
    found, todo = {}, [PaymentError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def _calls(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            yield name, node


def test_every_payment_error_in_the_code_is_called_as_its_constructor_allows():
    import payments.lookups  # noqa: F401 (UnknownPayment, a subclass defined there)

    classes = _error_classes()
    assert {"PaymentError", "AccountUnavailable", "NotificationRejected"} <= set(classes)
    checked, wrong = 0, []
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for name, call in _calls(path):
                if name not in classes:
                    continue
                checked += 1
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
                    keyword.arg is None for keyword in call.keywords
                ):
                    wrong.append(f"{where}: *args/**kwargs hide what is passed")
                    continue
                signature = inspect.signature(classes[name].__init__)
                try:
                    signature.bind(None, *call.args, **{k.arg: k.value for k in call.keywords})
                except TypeError as exc:
                    wrong.append(f"{where}: {name}(...) {exc}")
                    continue
                for keyword in call.keywords:
                    if keyword.arg == "status" and isinstance(keyword.value, ast.Constant):
                        status = keyword.value.value
                        if type(status) is not int or not 400 <= status <= 599:
                            wrong.append(f"{where}: status={status!r}")
    assert checked > 50  # the nets are really cast
    assert wrong == []


@pytest.fixture
def every_rail(settings):
    settings.PAYMENT_RAILS = list(RAILS)
    settings.BANK_TRANSFER_CURRENCY = "RUB"
    settings.BANK_SANDBOX = True
    settings.PAYPARTS_API_STORE_ID = ""
    settings.PAYPARTS_API_PASSWORD = ""
    settings.PAYPARTS_SANDBOX = True
    return all_rails()


def refused(call, **kwargs) -> PaymentError:
    """What `call(**kwargs)` raises: a PaymentError with an HTTP error status."""
    with pytest.raises(PaymentError) as caught:
        call(**kwargs)
    error = caught.value
    assert isinstance(error.status, int) and 400 <= error.status <= 599, error.status
    assert isinstance(error.message, str) and error.message
    return error


def payable(currency: str, **options) -> Payable:
    return Payable(
        reference="order-999999",
        currency=currency,
        total=1000_00,
        description="Order #999999",
        lines=(PayableLine("Thing", Money("1000.00", currency)),),
        options=options,
    )


URLS = {"return_url": "http://testserver/back/", "cancel_url": "http://testserver/cancel/"}
# Links a buyer (or anyone) may follow back from a provider, naming nothing we issued.
BAD_LINKS = [
    {},
    {"session_id": "cs_test_never_issued", "orderId": "order-1-ffffffff", "reference": "x"},
    {"payment_intent": "pi_never_issued", "orderId": "\x00", "session_id": "a" * 600},
]


@pytest.mark.django_db
def test_every_rail_refuses_a_currency_it_does_not_take_with_an_http_error(every_rail):
    assert set(every_rail) == {"stripe", "bank_transfer", "payparts"}
    for rail in every_rail.values():
        assert not rail.accepts(currency="XTS")
        for method in rail.methods:
            refused(rail.start, payable=payable("XTS"), method=method, **URLS)
    # Each rail's own currency offered to the others.
    for currency in ("RUB", "UAH", "USD"):
        for rail in every_rail.values():
            if rail.accepts(currency=currency):
                continue
            for method in rail.methods:
                refused(rail.start, payable=payable(currency), method=method, **URLS)
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_every_rail_refuses_unknown_accounts_and_bad_links_with_an_http_error(every_rail):
    request = RequestFactory().post("/", b"{}", content_type="application/json")
    for rail in every_rail.values():
        refused(rail.notification_read, request=request, account="no-such-account")
        for query in BAD_LINKS:
            refused(rail.confirm, query=query)
        stranger = Payment(
            rail=rail.name,
            account="no-such-account",
            livemode=False,
            reference="order-999999",
            provider_ref="never-issued",
            currency="XTS",
            amount_expected=100,
        )
        refused(rail.payment_state, payment=stranger)
        if not rail.refund_supported(stranger):
            refused(
                rail.refund,
                payment=stranger,
                amount=1,
                reason="requested_by_customer",
                request_key="k",
            )


@pytest.mark.django_db
def test_pay_in_parts_refuses_its_own_bad_options_with_an_http_error(every_rail):
    rail = every_rail["payparts"]
    for parts in ("1", "x", "26", "²", "9" * 5000):
        error = refused(
            rail.start, payable=payable("UAH", parts=parts), method=Method.REDIRECT, **URLS
        )
        assert error.status == 400
    small = Payable(reference="order-1", currency="UAH", total=100, description="Order #1")
    assert refused(rail.start, payable=small, method=Method.REDIRECT, **URLS).status == 400
