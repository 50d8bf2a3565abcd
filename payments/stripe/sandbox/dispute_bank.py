"""Disputes as the buyer's bank and the card network make them in the sandbox: opened on a paid
PaymentIntent (by the disputed test card, `manage.py sandbox_dispute open`, or the sandbox's
admin), an inquiry escalated to a chargeback, a lost one appealed, and the ruling. The Dispute
object and its API are `disputes` (whose docstring says how each behaves like Stripe's).
"""

import time
from typing import Any

from django.db import transaction

from payments.stripe.sandbox.dispute_events import (
    destination,
    emit,
    endpoint_data,
    send_to,
    sent_to,
)
from payments.stripe.sandbox.disputes import (
    INQUIRY,
    LOSING_EVIDENCE,
    OPEN,
    REVIEW,
    WINNING_EVIDENCE,
    appeal_submit,
    decide,
    dispute_object,
    due_by,
    update_dispute,
)
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import new_id


class DisputeError(Exception):
    """A dispute the sandbox cannot open or decide (said to the developer asking for it)."""


def dispute_open(
    intent_id: str, *, reason: str = "fraudulent", inquiry: bool = False, origin: str | None = None
) -> SandboxObject:
    """Open a dispute (a chargeback, or with `inquiry` an inquiry) on a paid sandbox
    PaymentIntent, as its buyer's bank would. Its events go where the payment's went, or with
    `origin` (`manage.py sandbox_dispute`: the shop at SHOP_URL) to that shop's endpoint.

    Call it inside the transaction that paid (the events follow the payment's), or alone.
    Raises DisputeError for an unknown or unpaid PaymentIntent, or one already disputed (a
    charge is disputed once).
    """
    with transaction.atomic():
        intent = (
            SandboxObject.objects.select_for_update()
            .filter(id=intent_id, object="payment_intent")
            .first()
        )
        if intent is None:
            raise DisputeError(f"No such sandbox PaymentIntent: '{intent_id}'.")
        if intent.data["status"] != "succeeded" or not intent.data.get("latest_charge"):
            raise DisputeError(
                f"PaymentIntent {intent_id} is {intent.data['status']}: only a paid one can be "
                "disputed."
            )
        if SandboxObject.objects.filter(
            object="dispute", account=intent.account, data__payment_intent=intent_id
        ).exists():
            raise DisputeError(f"PaymentIntent {intent_id} is already disputed.")
        charge_id = intent.data["latest_charge"]
        secret, endpoint = destination(intent)
        endpoint = sent_to(endpoint, origin)
        dispute_id = new_id("dp_")
        dispute = SandboxObject(
            id=dispute_id,
            account=intent.account,
            object="dispute",
            data=dispute_object(
                dispute_id=dispute_id,
                intent=intent.data,
                charge_id=charge_id,
                reason=reason,
                created=int(time.time()),
                inquiry=inquiry,
            ),
            private={"webhook_secret": secret, "endpoint": endpoint_data(endpoint)},
        )
        emit(dispute, "charge.dispute.created")
        if not inquiry:
            _withdraw(dispute)
        dispute.save()
        return dispute


def _withdraw(dispute: SandboxObject) -> None:
    """A chargeback takes the money back: the Charge is disputed (and can no longer be
    refunded), and `charge.dispute.funds_withdrawn` says so."""
    charge = (
        SandboxObject.objects.select_for_update()
        .filter(id=dispute.data["charge"], account=dispute.account, object="charge")
        .first()
    )
    if charge is not None:
        charge.data["disputed"] = True
        charge.save(update_fields=["data"])
    emit(dispute, "charge.dispute.funds_withdrawn")


def _locked_by_id(dispute_id: str) -> SandboxObject:
    dispute = (
        SandboxObject.objects.select_for_update().filter(id=dispute_id, object="dispute").first()
    )
    if dispute is None:
        raise DisputeError(f"No such sandbox dispute: '{dispute_id}'.")
    return dispute


def _restart(dispute: SandboxObject, status: str) -> dict[str, Any]:
    """A new stage that waits for the merchant: `status`, a fresh deadline, no evidence staged
    for it yet. Returns what changed (for the event's `previous_attributes`)."""
    data = dispute.data
    previous = {"status": data["status"], "evidence_details": dict(data["evidence_details"])}
    data["status"] = status
    data["evidence_details"].update(
        due_by=due_by(int(time.time())), has_evidence=False, past_due=False
    )
    return previous


def dispute_escalate(dispute_id: str, *, origin: str | None = None) -> SandboxObject:
    """The buyer's bank turns an inquiry into a chargeback (`manage.py sandbox_dispute escalate
    dp_...`): the same dispute needs a response again, and the money is withdrawn. Raises
    DisputeError for an unknown dispute or one that is no open inquiry."""
    with transaction.atomic():
        dispute = _locked_by_id(dispute_id)
        send_to(dispute, origin)
        if dispute.data["status"] not in INQUIRY:
            raise DisputeError(
                f"Dispute {dispute_id} is {dispute.data['status']}: only an open inquiry escalates."
            )
        previous = _restart(dispute, "needs_response")
        dispute.data["is_charge_refundable"] = False
        dispute.data["payment_method_details"]["card"]["case_type"] = "chargeback"
        previous["is_charge_refundable"] = True
        emit(dispute, "charge.dispute.updated", previous)
        _withdraw(dispute)
        dispute.save(update_fields=["data", "private"])
        return dispute


def dispute_appeal_open(dispute_id: str, *, origin: str | None = None) -> SandboxObject:
    """The ruling against the merchant can be appealed (`manage.py sandbox_dispute appeal
    dp_...`): a lost dispute needs the appeal's response, by a fresh deadline. Raises
    DisputeError for an unknown dispute or one not lost."""
    with transaction.atomic():
        dispute = _locked_by_id(dispute_id)
        send_to(dispute, origin)
        if dispute.data["status"] != "lost":
            raise DisputeError(
                f"Dispute {dispute_id} is {dispute.data['status']}: only a lost one is appealed."
            )
        previous = _restart(dispute, "appeal_needs_response")
        emit(dispute, "charge.dispute.updated", previous)
        dispute.save(update_fields=["data", "private"])
        return dispute


def dispute_decide(dispute_id: str, *, won: bool, origin: str | None = None) -> SandboxObject:
    """Rule on a dispute as its bank would (`manage.py sandbox_dispute win|lose dp_...`), or
    on its appeal as the card network would.

    One still needing a response gets the test-mode evidence first (winning or losing; for an
    appeal, appeal evidence), so it passes through `under_review` (`appeal_under_review`) with
    its events, as at Stripe. Raises DisputeError for an unknown or closed dispute.
    """
    with transaction.atomic():
        dispute = (
            SandboxObject.objects.select_for_update()
            .filter(id=dispute_id, object="dispute")
            .first()
        )
        if dispute is None:
            raise DisputeError(f"No such sandbox dispute: '{dispute_id}'.")
        send_to(dispute, origin)
        status = dispute.data["status"]
        if status == "appeal_needs_response":
            emit(dispute, "charge.dispute.updated", appeal_submit(dispute, "Test-mode appeal."))
            decide(dispute, won=won)
            dispute.save(update_fields=["data", "private"])
        elif status == "appeal_under_review":
            decide(dispute, won=won)
            dispute.save(update_fields=["data", "private"])
        elif status in OPEN:
            verdict = WINNING_EVIDENCE if won else LOSING_EVIDENCE
            update_dispute(
                dispute.account, {"evidence": {"uncategorized_text": verdict}}, dispute_id
            )
        elif status in REVIEW:
            decide(dispute, won=won)
            dispute.save(update_fields=["data", "private"])
        else:
            raise DisputeError(f"Dispute {dispute_id} is already {status}.")
        return SandboxObject.objects.get(id=dispute_id, object="dispute")
