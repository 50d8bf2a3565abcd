"""`GET /v1/events` through the real `stripe` library: the account's own events, newest first,
paged, filtered as Stripe filters them; and sessions that expire on Stripe's clock."""

import time

import pytest
import stripe

from payments.stripe.sandbox import events
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.tests.events.event_tools import (
    Receiver,
    all_events,
    closed_port_origin,
    open_session,
    pay,
)
from payments.stripe.sandbox.tests.sandbox_tools import sandbox_account, session_object
from payments.stripe.sandbox.tests.test_sandbox_api import session_params

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhooks_off(settings, monkeypatch):
    """Events are recorded, never sent, unless a test sends them itself (quickly)."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"
    monkeypatch.setattr(events, "RETRY_DELAYS", (0.01,))


def paid_sessions(client, count: int, origin: str = "https://shop.example") -> list[str]:
    """Pay `count` sessions; each makes two events (payment_intent.succeeded, then
    checkout.session.completed). Returns the session ids."""
    ids = []
    for _ in range(count):
        session = open_session(client, origin)
        pay(session.id)
        ids.append(session.id)
    return ids


def ids(listing) -> list[str]:
    return [event.id for event in listing.data]


def refused(call, **params) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call(params)
    return caught.value


def test_an_account_lists_its_own_events_newest_first_in_stripes_list_shape(usd, eur):
    paid_sessions(usd, 2)
    paid_sessions(eur, 1)
    usd_events = [e.id for e in all_events() if e.account == sandbox_account("USD")]

    listing = usd.v1.events.list()

    assert (listing.object, listing.url, listing.has_more) == ("list", "/v1/events", False)
    assert ids(listing) == list(reversed(usd_events))
    assert len(ids(eur.v1.events.list())) == 2
    assert listing.data[0].to_dict() == SandboxObject.objects.get(id=usd_events[-1]).data


def test_pages_go_both_ways_and_auto_paging_sees_each_event_once(usd):
    paid_sessions(usd, 3)  # six events
    newest_first = list(reversed([e.id for e in all_events()]))

    first = usd.v1.events.list({"limit": 4})
    rest = usd.v1.events.list({"limit": 4, "starting_after": first.data[-1].id})
    back = usd.v1.events.list({"limit": 2, "ending_before": rest.data[0].id})

    assert (ids(first), first.has_more) == (newest_first[:4], True)
    assert (ids(rest), rest.has_more) == (newest_first[4:], False)
    assert (ids(back), back.has_more) == (newest_first[2:4], True)
    assert ids(usd.v1.events.list()) == newest_first  # the default limit, 10, holds all six
    paged = [event.id for event in usd.v1.events.list({"limit": 1}).auto_paging_iter()]
    assert paged == newest_first


def test_filters_by_created_type_types_and_delivery(usd):
    server, nowhere = Receiver(), closed_port_origin()
    try:
        for origin in (server.origin, nowhere, "https://shop.example"):  # the last: never sent
            paid_sessions(usd, 1, origin=origin)
        for event in all_events():
            if event.private["endpoint"]["origin"] in (server.origin, nowhere):
                events.deliver(event.id)
    finally:
        server.close()
    everything = {e.id: e for e in all_events()}
    created = {e.data["created"] for e in everything.values()}

    def listed(**params):
        return set(ids(usd.v1.events.list(params)))

    delivered = {i for i, e in everything.items() if e.data["pending_webhooks"] == 0}
    assert len(delivered) == 2
    assert listed(delivery_success=True) == delivered
    assert listed(delivery_success=False) == set(everything) - delivered  # failed and unsent
    assert listed(type="checkout.session.completed") == {
        e.id for e in all_events("checkout.session.completed")
    }
    assert listed(type="checkout.session.*") == listed(type="checkout.session.completed")
    assert listed(type="*") == set(everything)
    assert listed(types=["payment_intent.succeeded", "checkout.session.expired"]) == {
        e.id for e in all_events("payment_intent.succeeded")
    }
    assert listed(created={"gte": min(created), "lte": max(created)}) == set(everything)
    assert listed(created={"gt": max(created)}) == set()
    assert listed(created=min(created)) >= {
        i for i, e in everything.items() if e.data["created"] == min(created)
    }


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 101}, "limit", "less than or equal to 100"),
        ({"limit": "ten"}, "limit", "Invalid integer"),
        ({"delivery_success": "maybe"}, "delivery_success", "Invalid boolean"),
        ({"created": {"after": 1}}, "created[after]", "Received unknown parameter"),
        ({"created": {"gte": "yesterday"}}, "created[gte]", "Invalid integer"),
        ({"colour": "red"}, "colour", "Received unknown parameter"),
        ({"type": ""}, "type", "empty string"),
        ({"type": "a", "types": ["b"]}, "type", "only specify one of these parameters"),
        ({"starting_after": "evt_1", "ending_before": "evt_2"}, "ending_before", "only specify"),
        ({"types": [f"t{n}" for n in range(21)]}, "types", "at most 20"),
    ],
)
def test_bad_parameters_are_refused_as_stripe_refuses_them(usd, params, param, message):
    error = refused(usd.v1.events.list, **params)

    assert error.http_status == 400
    assert error.param == param
    assert message in error.user_message


def test_a_cursor_must_be_an_event_of_the_same_account(usd, eur):
    paid_sessions(eur, 1)
    theirs = all_events()[0].id

    for cursor in ("starting_after", "ending_before"):
        error = refused(usd.v1.events.list, **{cursor: theirs})
        assert (error.http_status, error.code, error.param) == (404, "resource_missing", cursor)


# --- Sessions that expire ------------------------------------------------------------------


def test_expires_at_is_taken_between_30_minutes_and_24_hours_from_now(usd):
    now = int(time.time())

    short = usd.v1.checkout.sessions.create(session_params(expires_at=now + 31 * 60))
    default = usd.v1.checkout.sessions.create(session_params())

    assert short.expires_at == now + 31 * 60
    assert default.expires_at - now in range(24 * 3600 - 5, 24 * 3600 + 5)
    too_soon = refused(usd.v1.checkout.sessions.create, **session_params(expires_at=now + 60))
    assert too_soon.param == "expires_at"
    assert too_soon.user_message == (
        "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
    )
    too_late = refused(
        usd.v1.checkout.sessions.create, **session_params(expires_at=now + 25 * 3600)
    )
    assert too_late.user_message == (
        "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
    )
    past = refused(usd.v1.checkout.sessions.create, **session_params(expires_at=now - 1))
    assert past.param == "expires_at"


def overdue(session_id: str) -> None:
    row = session_object(session_id)
    row.data["expires_at"] = int(time.time()) - 1
    row.save()


def test_any_request_of_the_account_expires_its_overdue_sessions_once(usd, eur):
    mine, other = open_session(usd), open_session(eur)
    overdue(mine.id)
    overdue(other.id)

    listing = usd.v1.events.list()
    usd.v1.events.list()

    (expired,) = listing.data
    assert expired.type == "checkout.session.expired"
    assert expired.data.object.id == mine.id and expired.data.object.status == "expired"
    assert session_object(mine.id).data["status"] == "expired"
    # Another account's session waits for that account's own requests (or a look at it).
    assert session_object(other.id).data["status"] == "open"
    assert len(all_events("checkout.session.expired")) == 1
    eur.v1.coupons.create({"percent_off": 10, "duration": "once"})
    assert session_object(other.id).data["status"] == "expired"


def test_a_request_refused_still_leaves_overdue_sessions_expired(usd):
    session = open_session(usd)
    overdue(session.id)

    refused(usd.v1.events.list, limit=0)

    assert session_object(session.id).data["status"] == "expired"
    assert len(all_events("checkout.session.expired")) == 1


def test_opening_a_hosted_page_expires_the_accounts_overdue_sessions(client, usd):
    first, second = open_session(usd), open_session(usd)
    overdue(first.id)

    page = client.get(f"/sandbox/checkout/{second.id}/")

    assert page.status_code == 200
    assert session_object(first.id).data["status"] == "expired"
    assert session_object(second.id).data["status"] == "open"
