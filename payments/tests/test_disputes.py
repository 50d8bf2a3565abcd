"""Disputes in the core: recorded once per provider id, following the provider's latest word
through the lifecycle (inquiry, chargeback, verdict, appeal) and refusing older ones, only for
a payment the same rail and account started; and what the merchant sees of them in the admin."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from payments.disputes import dispute_apply
from payments.lookups import UnknownPayment
from payments.models import Dispute, Payment
from payments.records import payment_record
from payments.services import disputes_for
from payments.signals import dispute_changed
from payments.values import DisputeState, DisputeStatus

pytestmark = pytest.mark.django_db

ACCOUNT = "pk_test_sandbox_usd"
DUE = datetime(2030, 3, 14, 23, 59, 59, tzinfo=UTC)
SAID = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)  # when the provider said it (an event's time)


def said(minutes: int) -> datetime:
    return SAID + timedelta(minutes=minutes)


@pytest.fixture
def payment() -> Payment:
    payment = payment_record(
        rail="stripe",
        account=ACCOUNT,
        livemode=False,
        reference="order-7",
        provider_ref="cs_test_disputed",
        currency="USD",
        amount=4250,
    )
    Payment.objects.filter(pk=payment.pk).update(
        provider_payment_ref="pi_disputed", status=Payment.Status.SUCCEEDED, amount_received=4250
    )
    return payment


def state(status=DisputeStatus.NEEDS_RESPONSE, **fields) -> DisputeState:
    values = {
        "rail": "stripe",
        "account": ACCOUNT,
        "livemode": False,
        "provider_ref": "dp_one",
        "payment_provider_id": "pi_disputed",
        "status": status,
        "amount": 4250,
        "currency": "USD",
        "reason": "fraudulent",
        "evidence_due_by": DUE,
    }
    return DisputeState(**{**values, **fields})


@pytest.fixture
def changes():
    sent = []

    def receiver(sender, dispute, **kwargs):
        sent.append(dispute.status)

    dispute_changed.connect(receiver)
    yield sent
    dispute_changed.disconnect(receiver)


def test_a_dispute_is_recorded_against_its_payment_once(
    payment, changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = dispute_apply(state())
        again = dispute_apply(state())

    assert first.pk == again.pk
    dispute = Dispute.objects.get()
    assert (dispute.payment_id, dispute.amount, dispute.currency, dispute.reason) == (
        payment.pk,
        4250,
        "USD",
        "fraudulent",
    )
    assert (dispute.status, dispute.evidence_due_by, dispute.closed_at) == (
        "needs_response",
        DUE,
        None,
    )
    assert dispute.is_open
    assert changes == ["needs_response"]  # the repeat changed nothing, and said nothing


def test_it_moves_forward_to_its_verdict(payment, changes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispute_apply(state())
        dispute_apply(state(DisputeStatus.UNDER_REVIEW))
        dispute_apply(state(DisputeStatus.LOST))

    dispute = Dispute.objects.get()
    assert dispute.status == "lost" and dispute.closed_at is not None and not dispute.is_open
    assert changes == ["needs_response", "under_review", "lost"]


@pytest.mark.parametrize(
    ("late", "after"),
    [
        (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW),
        (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WON),
        (DisputeStatus.UNDER_REVIEW, DisputeStatus.LOST),
        (DisputeStatus.WON, DisputeStatus.LOST),
    ],
)
def test_an_older_word_arriving_late_never_takes_it_back(payment, late, after):
    dispute_apply(state(after, observed_at=said(10)))
    closed_at = Dispute.objects.get().closed_at

    dispute_apply(state(late, observed_at=said(5)))

    dispute = Dispute.objects.get()
    assert dispute.status == after
    assert dispute.closed_at == closed_at


def test_the_verdict_first_then_the_opening_keeps_the_verdict(payment):
    dispute_apply(state(DisputeStatus.WON, observed_at=said(10)))
    dispute_apply(state(DisputeStatus.NEEDS_RESPONSE, observed_at=said(0)))

    assert Dispute.objects.get().status == "won"


def test_said_in_the_same_instant_the_later_step_wins_whatever_the_order(payment):
    same = said(0)
    dispute_apply(state(DisputeStatus.WON, observed_at=same))
    dispute_apply(state(DisputeStatus.UNDER_REVIEW, observed_at=same))
    dispute_apply(state(DisputeStatus.NEEDS_RESPONSE, observed_at=same))

    assert Dispute.objects.get().status == "won"


def test_an_inquiry_that_escalates_on_the_same_dispute_is_shown(
    payment, changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute_apply(state(DisputeStatus.INQUIRY_NEEDS_RESPONSE, observed_at=said(0)))
        dispute_apply(state(DisputeStatus.INQUIRY_UNDER_REVIEW, observed_at=said(1)))
        dispute_apply(state(DisputeStatus.NEEDS_RESPONSE, observed_at=said(2)))
        # The inquiry's own older word, delivered again late, changes nothing.
        dispute_apply(state(DisputeStatus.INQUIRY_UNDER_REVIEW, observed_at=said(1)))

    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.is_open, dispute.needs_response) == (
        "needs_response",
        True,
        True,
    )
    assert changes == ["inquiry_needs_response", "inquiry_under_review", "needs_response"]


def test_an_inquiry_closed_then_a_chargeback_on_the_same_charge_are_both_kept(payment):
    dispute_apply(state(DisputeStatus.INQUIRY_NEEDS_RESPONSE, observed_at=said(0)))
    dispute_apply(state(DisputeStatus.INQUIRY_CLOSED, observed_at=said(5)))
    dispute_apply(state(DisputeStatus.NEEDS_RESPONSE, provider_ref="dp_two", observed_at=said(5)))

    found = {d.provider_ref: (d.status, d.is_open) for d in Dispute.objects.all()}
    assert found == {"dp_one": ("inquiry_closed", False), "dp_two": ("needs_response", True)}
    assert Dispute.objects.get(provider_ref="dp_one").closed_at is not None


def test_a_lost_dispute_goes_to_appeal_and_is_ruled_on_again(
    payment, changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute_apply(state(DisputeStatus.NEEDS_RESPONSE, observed_at=said(0)))
        dispute_apply(state(DisputeStatus.LOST, observed_at=said(1)))
        dispute_apply(state(DisputeStatus.APPEAL_NEEDS_RESPONSE, observed_at=said(2)))
        appeal = Dispute.objects.get()
        assert (appeal.status, appeal.closed_at, appeal.needs_response) == (
            "appeal_needs_response",
            None,
            True,
        )
        dispute_apply(state(DisputeStatus.APPEAL_UNDER_REVIEW, observed_at=said(3)))
        dispute_apply(state(DisputeStatus.WON, observed_at=said(3), appealed=True))
        # The first verdict, replayed late (or in the same instant), does not undo the appeal's.
        dispute_apply(state(DisputeStatus.LOST, observed_at=said(1)))
        dispute_apply(state(DisputeStatus.LOST, observed_at=said(3)))

    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.appealed) == ("won", True)
    assert dispute.closed_at is not None
    assert changes == [
        "needs_response",
        "lost",
        "appeal_needs_response",
        "appeal_under_review",
        "won",
    ]


def test_a_word_without_a_time_is_taken_as_the_latest(payment):
    dispute_apply(state(DisputeStatus.UNDER_REVIEW, observed_at=said(0)))
    dispute_apply(state(DisputeStatus.LOST))

    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.observed_at) == ("lost", said(0))


def test_found_by_the_payments_own_id_too(payment):
    dispute_apply(state(payment_provider_id="cs_test_disputed"))

    assert Dispute.objects.get().payment_id == payment.pk


@pytest.mark.parametrize(
    "other",
    [
        {"account": "pk_test_sandbox_eur"},  # another account signed it
        {"livemode": True},  # the other mode
        {"rail": "bank_transfer"},  # another rail
        {"payment_provider_id": "pi_never_ours"},
    ],
)
def test_only_the_rail_and_account_that_took_the_payment_can_dispute_it(payment, other):
    with pytest.raises(UnknownPayment):
        dispute_apply(replace(state(), **other))

    assert not Dispute.objects.exists()


def test_the_door_lists_a_references_disputes(payment):
    dispute_apply(state())
    payment_record(
        rail="stripe",
        account=ACCOUNT,
        livemode=False,
        reference="order-8",
        provider_ref="cs_test_other",
        currency="USD",
        amount=100,
    )

    assert [d.provider_ref for d in disputes_for("order-7")] == ["dp_one"]
    assert list(disputes_for("order-8")) == []


# --- The admin ------------------------------------------------------------------------------


def test_the_dispute_admin_shows_amount_reason_deadline_and_flags_it(payment, admin_client):
    dispute_apply(state())
    dispute = Dispute.objects.get()

    listing = admin_client.get("/admin/payments/dispute/").content.decode()
    page = admin_client.get(f"/admin/payments/dispute/{dispute.pk}/change/").content.decode()

    for html in (listing, page):
        assert "dp_one" in html
        assert "$42.50" in html
        assert "fraudulent" in html
        assert "Needs a response" in html
        assert "⚠ Respond by March 14, 2030" in html
        assert "USD account (sandbox)" in html
        assert "Order 7 · $42.50 · Stripe" in html  # the disputed payment, named in words


def test_the_dispute_admin_filters_by_status(payment, admin_client):
    dispute_apply(state())
    dispute_apply(state(provider_ref="dp_two", status=DisputeStatus.WON))

    lost = admin_client.get("/admin/payments/dispute/?status__exact=won").content.decode()

    assert "dp_two" in lost and "dp_one" not in lost


def test_the_payment_page_shows_its_disputes(payment, admin_client):
    dispute_apply(state(DisputeStatus.LOST, amount=1000))

    html = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()

    assert "dp_one" in html and "$10.00" in html and "Lost" in html


def test_the_payments_list_draws_attention_to_open_disputes(payment, admin_client):
    other = payment_record(
        rail="stripe",
        account=ACCOUNT,
        livemode=False,
        reference="order-9",
        provider_ref="cs_test_undisputed",
        currency="USD",
        amount=100,
    )
    dispute_apply(state())

    html = admin_client.get("/admin/payments/payment/").content.decode()
    disputed = admin_client.get("/admin/payments/payment/?disputed=open").content.decode()

    assert "1 dispute needs a response" in html
    assert "⚠ Respond by March 14, 2030" in html
    assert "Order 7 · " in disputed and str(other) not in disputed


def test_no_warning_when_nothing_waits(payment, admin_client):
    dispute_apply(state(DisputeStatus.WON))

    html = admin_client.get("/admin/payments/payment/").content.decode()

    assert "needs a response" not in html and "need a response" not in html


def test_the_warning_links_to_every_dispute_waiting_for_a_response(payment, admin_client):
    dispute_apply(state(DisputeStatus.INQUIRY_NEEDS_RESPONSE, observed_at=said(0)))
    dispute_apply(
        state(DisputeStatus.APPEAL_NEEDS_RESPONSE, provider_ref="dp_two", observed_at=said(0))
    )
    dispute_apply(state(DisputeStatus.UNDER_REVIEW, provider_ref="dp_three", observed_at=said(0)))

    html = admin_client.get("/admin/payments/payment/").content.decode()
    link = html.split('2 disputes need a response: <a href="', 1)[1].split('"', 1)[0]
    waiting = admin_client.get(link.replace("&amp;", "&"))

    assert waiting.status_code == 200
    listing = waiting.content.decode()
    assert "dp_one" in listing and "dp_two" in listing and "dp_three" not in listing
    assert "⚠ Inquiry: respond by March 14, 2030" in listing
    assert "⚠ Appeal: respond by March 14, 2030" in listing
