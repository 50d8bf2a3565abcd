"""The sandbox answers the official `stripe` library the way Stripe's API does."""

import json

import pytest
import stripe

from payments.stripe.sandbox.client import SandboxHTTPClient
from payments.stripe.sandbox.models import SandboxObject, SandboxRequest
from payments.stripe.sandbox.tests.sandbox_tools import stripe_example

pytestmark = pytest.mark.django_db


def session_params(**overrides):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1999,
                    "product_data": {"name": "Notebook"},
                },
                "quantity": 2,
            }
        ],
        "success_url": "https://shop.example/success/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel/",
    }
    params.update(overrides)
    return params


def price(currency, amount, name="Thing"):
    return {
        "price_data": {
            "currency": currency,
            "unit_amount": amount,
            "product_data": {"name": name},
        },
        "quantity": 1,
    }


def refused(client, params, **options) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as caught:
        client.v1.checkout.sessions.create(params, options or None)
    assert not SandboxObject.objects.exists()
    return caught.value


def test_session_is_created_like_stripe_does(usd):
    session = usd.v1.checkout.sessions.create(
        session_params(client_reference_id="item-7", metadata={"item_id": "7"})
    )

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3998, 3998, "usd")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.client_reference_id == "item-7"
    assert session.metadata.to_dict() == {"item_id": "7"}
    assert session.payment_intent is None
    assert session.url == f"https://shop.example/sandbox/checkout/{session.id}/"
    assert session.last_response.headers["Stripe-Version"] == stripe.api_version


def test_session_has_every_field_of_stripes_own_example():
    example = stripe_example("checkout.session")
    client = stripe.StripeClient("sk_test_sandbox_usd", http_client=SandboxHTTPClient())

    session = client.v1.checkout.sessions.create(session_params()).to_dict()

    assert set(session) == set(example)
    for key, value in example.items():
        if value is not None and session[key] is not None:
            assert type(session[key]) is type(value), key


def test_retrieve_and_expand_line_items(usd):
    created = usd.v1.checkout.sessions.create(session_params())

    session = usd.v1.checkout.sessions.retrieve(created.id, {"expand": ["line_items"]})

    assert session.id == created.id
    [line] = session.line_items.data
    assert (line.object, line.description, line.quantity) == ("item", "Notebook", 2)
    assert (line.price.unit_amount, line.amount_total, line.currency) == (1999, 3998, "usd")
    assert usd.v1.checkout.sessions.line_items.list(created.id).data[0].id == line.id


def test_another_account_cannot_see_the_session(usd, eur):
    created = usd.v1.checkout.sessions.create(session_params())

    with pytest.raises(stripe.InvalidRequestError) as caught:
        eur.v1.checkout.sessions.retrieve(created.id)

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.user_message == f"No such checkout.session: '{created.id}'"


def test_payment_method_types_is_an_unknown_parameter(usd):
    error = refused(usd, session_params(payment_method_types=["card"]))

    assert isinstance(error, stripe.InvalidRequestError)
    assert (error.http_status, error.code, error.param) == (
        400,
        "parameter_unknown",
        "payment_method_types",
    )
    assert error.user_message == "Received unknown parameter: payment_method_types"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        (session_params(line_items=None), "line_items", "parameter_missing"),
        (session_params(mode=None), "mode", "parameter_missing"),
        (
            session_params(line_items=[{"price_data": {"currency": "usd"}, "quantity": 1}]),
            "line_items[0][price_data][product_data]",
            "parameter_missing",
        ),
        (
            session_params(line_items=[{**price("usd", 500), "colour": "red"}]),
            "line_items[0][colour]",
            "parameter_unknown",
        ),
        (
            session_params(line_items=[{**price("usd", 500), "quantity": "two"}]),
            "line_items[0][quantity]",
            "parameter_invalid_integer",
        ),
        (session_params(client_reference_id=""), "client_reference_id", "parameter_invalid_empty"),
        (session_params(success_url="not a url"), "success_url", "url_invalid"),
        (
            session_params(line_items=[price("kwd", 5125)]),
            "line_items[0][price_data][unit_amount]",
            "amount_invalid",
        ),
        (
            session_params(line_items=[price("isk", 50050)]),
            "line_items[0][price_data][unit_amount]",
            "amount_invalid",
        ),
    ],
)
def test_requests_stripe_would_refuse_are_refused(usd, params, param, code):
    params = {key: value for key, value in params.items() if value is not None}

    error = refused(usd, params)

    assert isinstance(error, stripe.InvalidRequestError)
    assert (error.http_status, error.param, error.code) == (400, param, code)


def test_unsupported_currency_is_refused(usd):
    error = refused(usd, session_params(line_items=[price("xyz", 500)]))

    assert error.param == "line_items[0][price_data][currency]"
    assert error.user_message.startswith("Invalid currency: xyz.")


def test_line_items_in_two_currencies_are_refused(usd):
    error = refused(usd, session_params(line_items=[price("usd", 500), price("eur", 500)]))

    assert error.param == "line_items[1][price_data][currency]"


def test_totals_under_stripes_minimum_or_over_its_maximum_are_refused(usd):
    too_small = refused(usd, session_params(line_items=[price("usd", 49)]))
    too_large = refused(usd, session_params(line_items=[price("usd", 100_000_000)]))

    assert too_small.code == "amount_too_small"
    assert "at least 0.50 USD" in too_small.user_message
    assert too_large.code == "amount_too_large"


@pytest.mark.parametrize(
    ("currency", "amount"), [("jpy", 1500), ("kwd", 5120), ("isk", 100000), ("usd", 50)]
)
def test_amounts_that_follow_the_currency_rules_are_accepted(usd, currency, amount):
    session = usd.v1.checkout.sessions.create(session_params(line_items=[price(currency, amount)]))

    assert (session.amount_total, session.currency) == (amount, currency)


def test_idempotent_replay_returns_the_same_session(usd):
    first = usd.v1.checkout.sessions.create(session_params(), {"idempotency_key": "key-1"})
    again = usd.v1.checkout.sessions.create(session_params(), {"idempotency_key": "key-1"})

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert SandboxObject.objects.filter(object="checkout.session").count() == 1


def test_idempotency_key_reused_with_other_parameters_is_refused(usd):
    usd.v1.checkout.sessions.create(session_params(), {"idempotency_key": "key-2"})

    with pytest.raises(stripe.IdempotencyError):
        usd.v1.checkout.sessions.create(
            session_params(client_reference_id="other"), {"idempotency_key": "key-2"}
        )
    assert SandboxObject.objects.filter(object="checkout.session").count() == 1


def test_idempotency_keys_belong_to_one_account(usd, eur):
    first = usd.v1.checkout.sessions.create(session_params(), {"idempotency_key": "shared"})
    second = eur.v1.checkout.sessions.create(session_params(), {"idempotency_key": "shared"})

    assert first.id != second.id


def test_a_refused_request_does_not_burn_its_idempotency_key(usd):
    with pytest.raises(stripe.InvalidRequestError):
        usd.v1.checkout.sessions.create(
            session_params(line_items=[price("usd", 1)]), {"idempotency_key": "key-3"}
        )

    session = usd.v1.checkout.sessions.create(session_params(), {"idempotency_key": "key-3"})
    assert session.id.startswith("cs_test_")


def test_every_request_is_recorded_with_its_account_but_never_its_key(usd):
    session = usd.v1.checkout.sessions.create(session_params())
    usd.v1.checkout.sessions.retrieve(session.id)

    create, retrieve = SandboxRequest.objects.all()
    assert (create.method, create.path, create.status_code) == (
        "POST",
        "/v1/checkout/sessions",
        200,
    )
    assert (retrieve.method, retrieve.path) == ("GET", f"/v1/checkout/sessions/{session.id}")
    assert create.account == retrieve.account and create.account.startswith("acct_")
    assert create.key_last4 == "_usd"
    stored = json.dumps([create.params, create.response, create.account])
    assert "sk_test_sandbox_usd" not in stored


@pytest.mark.parametrize(
    "key",
    [
        "sk_live_abcdefghijklmnop",
        "pk_test_sandbox_usd",
        "not-a-key",
        " ",
        # Shaped like test keys, but never issued by this sandbox: Stripe answers 401 too.
        "sk_test_51AbCdEfGhIjKlMnOp",
        "rk_test_sandbox_usd",
        "sk_test_sandbox_usdx",
    ],
)
def test_keys_the_sandbox_never_issued_are_refused(key):
    client = stripe.StripeClient(key, http_client=SandboxHTTPClient())

    with pytest.raises(stripe.AuthenticationError):
        client.v1.checkout.sessions.create(session_params())
    assert not SandboxObject.objects.exists()


def test_sandbox_refuses_to_run_in_production_without_permission(settings):
    settings.DEBUG = False
    settings.STRIPE_SANDBOX = False
    client = stripe.StripeClient("sk_test_sandbox_usd", http_client=SandboxHTTPClient())

    with pytest.raises(stripe.APIConnectionError, match="sandbox is disabled"):
        client.v1.checkout.sessions.create(session_params())
    assert not SandboxRequest.objects.exists()


def test_expire_closes_an_open_session(usd):
    session = usd.v1.checkout.sessions.create(session_params())

    expired = usd.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        usd.v1.checkout.sessions.expire(session.id)


def test_a_session_past_expires_at_reads_as_expired(usd):
    session = usd.v1.checkout.sessions.create(session_params())
    obj = SandboxObject.objects.get(id=session.id)
    obj.data["expires_at"] = 1
    obj.save()

    assert usd.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_unknown_routes_answer_404(usd):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        usd.v1.customers.create({})

    assert caught.value.http_status == 404
    assert "Unrecognized request URL" in caught.value.user_message
