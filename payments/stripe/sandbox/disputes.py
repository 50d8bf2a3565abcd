"""Disputes (chargebacks) in the sandbox: opened by a test card or by hand, answered through the
API, decided as Stripe's test mode decides them. This module is the Dispute object and its API
(`/v1/disputes/...`); what the buyer's bank and the card network do (open, escalate, appeal,
rule) is `dispute_bank`, and where a dispute's events go is `dispute_events`.

Like Stripe's:
- The test card 4000 0000 0000 0259 (`cards.CARD_DISPUTED`) pays, and then the buyer's bank
  disputes the payment as fraudulent: right after the payment, a Dispute (`dp_...`, shaped like
  Stripe's example object, `dispute` in `shared/stripe/fixtures3.json`) is opened for the whole
  amount, `reason` `fraudulent`, `status` `needs_response`, evidence due a week later at the
  end of the day (UTC), `is_charge_refundable` false (the money is already withdrawn), with
  the Charge's id (`charge`) and the PaymentIntent's (`payment_intent`). `dispute_open` does the
  same for any paid sandbox PaymentIntent (`manage.py sandbox_dispute open pi_...`, or the
  action on the sandbox's admin).
- Events, to the endpoint the payment's own events went to, after them:
  `charge.dispute.created` and `charge.dispute.funds_withdrawn` when it opens;
  `charge.dispute.updated` (with `previous_attributes`) when evidence or metadata changes;
  `charge.dispute.closed` when it is won, lost or accepted, and
  `charge.dispute.funds_reinstated` after a win.
- `GET /v1/disputes/{id}` reads it (the account's own only).
- `POST /v1/disputes/{id}` takes `evidence[...]` (Stripe's fields: text of at most 20,000
  characters, 150,000 in all; the file fields want a file upload's id, which the sandbox has
  none of), `metadata` and `submit` (default true). Submitted evidence moves the dispute to
  `under_review` (its answer says so) and, as in Stripe's test mode, `evidence[uncategorized_text]`
  = `winning_evidence` or `losing_evidence` then closes it as `won` or `lost` (at once here,
  seconds later at Stripe; a later GET shows it). `submit=false` only stages the evidence.
  Evidence on a dispute no longer needing a response is refused.
- `POST /v1/disputes/{id}/close` accepts it: `needs_response` becomes `lost`, irreversibly.

Inquiries and appeals, as the pinned API version (2026-10-28.endive) has them:
- `dispute_open(..., inquiry=True)` (`manage.py sandbox_dispute open pi_... --inquiry`) opens an
  inquiry instead: `warning_needs_response`, `case_type` `inquiry`, no money withdrawn (no
  `funds_withdrawn`; `is_charge_refundable` true). Evidence moves it to `warning_under_review`;
  a verdict closes it as `warning_closed`. `dispute_escalate` (`... escalate dp_...`) turns it
  into a chargeback on the same dispute: `needs_response`, a fresh deadline, the money withdrawn
  (`charge.dispute.updated`, `charge.dispute.funds_withdrawn`).
- `dispute_appeal_open` (`... appeal dp_...`): the ruling against the merchant can be appealed
  (pre-arbitration): a `lost` dispute becomes `appeal_needs_response` with a fresh deadline
  (`charge.dispute.updated`). Appeal evidence (`evidence[appeal][card][reason_for_filing]`,
  the only evidence the appeal stage takes) moves it to `appeal_under_review`, and
  `dispute_decide` rules on the appeal (`won`, with `funds_reinstated`, or `lost` again).

Where the events go is the Charge's endpoint and webhook secret (a sandbox Charge keeps them),
or else the PaymentIntent's own (the Payment Element's return URL) or its Checkout Session's;
the dispute keeps them in its `private` data.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from payments.stripe.sandbox.dispute_events import emit
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    RETRIEVE,
    ApiError,
    Response,
    get_object,
    parse_params,
)
from payments.stripe.sandbox.params import Bool, ListOf, Metadata, Obj, ParamError, Str

# What Stripe's test mode reads in `evidence[uncategorized_text]`.
WINNING_EVIDENCE = "winning_evidence"
LOSING_EVIDENCE = "losing_evidence"
EVIDENCE_DAYS = 7
OPEN = ("needs_response", "warning_needs_response")
REVIEW = ("under_review", "warning_under_review")
INQUIRY = ("warning_needs_response", "warning_under_review")

TEXT_EVIDENCE = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_tracking_number",
    "uncategorized_text",
)
FILE_EVIDENCE = (
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
)
EVIDENCE_TOTAL_CHARACTERS = 150_000


def _check_evidence(evidence: dict[str, Any], path: str) -> None:
    for name in FILE_EVIDENCE:
        if name in evidence:
            # Stripe checks the id against its file uploads; the sandbox has none.
            raise ParamError(
                f"No such file upload: '{evidence[name]}'",
                param=f"{path}[{name}]",
                code="resource_missing",
            )
    texts = [value for name, value in evidence.items() if name != "appeal"]
    if sum(len(value) for value in texts) > EVIDENCE_TOTAL_CHARACTERS:
        raise ParamError(
            f"The combined character count of all evidence fields is limited to "
            f"{EVIDENCE_TOTAL_CHARACTERS}.",
            param=path,
        )


DISPUTE_UPDATE = Obj(
    {
        "evidence": Obj(
            {
                **{name: Str(max_length=20_000) for name in TEXT_EVIDENCE},
                **{name: Str(max_length=5000) for name in FILE_EVIDENCE},
                "appeal": Obj({"card": Obj({"reason_for_filing": Str(max_length=20_000)})}),
            },
            check=_check_evidence,
        ),
        "metadata": Metadata(),
        "submit": Bool(),
        "expand": ListOf(Str()),
    }
)
DISPUTE_CLOSE = Obj({"expand": ListOf(Str())})


def _end_of_day(moment: datetime) -> int:
    return int(moment.replace(hour=23, minute=59, second=59, microsecond=0).timestamp())


def due_by(moment: int) -> int:
    """The evidence deadline of something that starts at `moment`: a week later, end of day."""
    return _end_of_day(datetime.fromtimestamp(moment, tz=UTC) + timedelta(days=EVIDENCE_DAYS))


def dispute_object(
    *,
    dispute_id: str,
    intent: dict[str, Any],
    charge_id: str,
    reason: str,
    created: int,
    inquiry: bool = False,
) -> dict[str, Any]:
    """A chargeback (or an inquiry) of all of `intent`, shaped like Stripe's example object."""
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": intent.get("amount_received") or intent["amount"],
        "balance_transactions": [],
        "charge": charge_id,
        "created": created,
        "currency": intent["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {
            **{name: None for name in sorted((*TEXT_EVIDENCE, *FILE_EVIDENCE))},
            "enhanced_evidence": {},
        },
        "evidence_details": {
            "due_by": due_by(created),
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "payment_intent": intent["id"],
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "case_type": "inquiry" if inquiry else "chargeback",
                # Visa's "card-absent fraud": what a `fraudulent` chargeback carries.
                "network_reason_code": "10.4",
                "network": "visa",
            },
            "type": "card",
        },
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }


def _locked(account: str, dispute_id: str) -> SandboxObject:
    get_object(account, "dispute", dispute_id)  # Stripe's 404 for another account's
    return SandboxObject.objects.select_for_update().get(id=dispute_id, object="dispute")


def decide(dispute: SandboxObject, *, won: bool) -> None:
    """The bank rules: the dispute closes as won or lost (an inquiry just closes)."""
    data = dispute.data
    previous = data["status"]
    if previous.startswith("warning_"):
        data["status"] = "warning_closed"
    else:
        data["status"] = "won" if won else "lost"
    emit(dispute, "charge.dispute.closed")
    if won and not previous.startswith("warning_"):
        emit(dispute, "charge.dispute.funds_reinstated")


def appeal_submit(dispute: SandboxObject, reason_for_filing: str) -> dict[str, Any]:
    """Appeal evidence goes to the card network: the dispute is under appeal until it rules.
    Returns what changed."""
    data = dispute.data
    previous = {
        "status": data["status"],
        "evidence_details": dict(data["evidence_details"]),
        "evidence": {"appeal": data["evidence"].get("appeal")},
    }
    data["evidence"]["appeal"] = {
        "card": {"reason_for_filing": reason_for_filing, "supporting_files": []}
    }
    data["evidence_details"]["has_evidence"] = True
    data["evidence_details"]["submission_count"] += 1
    data["status"] = "appeal_under_review"
    return previous


def _submit(dispute: SandboxObject) -> None:
    """Evidence goes to the bank: the dispute is under review until it rules."""
    data = dispute.data
    warning = data["status"].startswith("warning_")
    data["status"] = "warning_under_review" if warning else "under_review"
    data["evidence_details"]["submission_count"] += 1


def retrieve_dispute(account: str, params: dict[str, Any], dispute_id: str) -> Response:
    """`GET /v1/disputes/{id}`."""
    parse_params(RETRIEVE, params)
    return Response(200, get_object(account, "dispute", dispute_id).data)


def update_dispute(account: str, params: dict[str, Any], dispute_id: str) -> Response:
    """`POST /v1/disputes/{id}`: evidence (submitted unless `submit=false`) and metadata."""
    raw, params = params, parse_params(DISPUTE_UPDATE, params)
    dispute = _locked(account, dispute_id)
    data = dispute.data
    evidence = params.get("evidence", {})
    if evidence and (data["status"] == "appeal_needs_response" or "appeal" in evidence):
        return _update_appeal(dispute, params)
    if evidence and data["status"] not in OPEN:
        raise ApiError(
            400,
            f"This dispute is {data['status']}: its evidence can no longer be updated.",
            param="evidence",
        )
    before = {
        "evidence": dict(data["evidence"]),
        "evidence_details": dict(data["evidence_details"]),
        "metadata": dict(data["metadata"]),
        "status": data["status"],
    }
    data["evidence"].update(evidence)
    if evidence:
        data["evidence_details"]["has_evidence"] = True
    if "metadata" in params:
        # As at Stripe, a key posted empty is unset.
        unset = {key for key, value in raw["metadata"].items() if value == ""}
        merged = {**data["metadata"], **params["metadata"]}
        data["metadata"] = {key: value for key, value in merged.items() if key not in unset}
    submitted = (
        params.get("submit", True)
        and data["status"] in OPEN
        and (data["evidence_details"]["has_evidence"])
    )
    if submitted:
        _submit(dispute)
    previous = {key: value for key, value in before.items() if data[key] != value}
    if previous:
        emit(dispute, "charge.dispute.updated", previous)
    answer = _snapshot(data)
    verdict = data["evidence"].get("uncategorized_text")
    if submitted and verdict in (WINNING_EVIDENCE, LOSING_EVIDENCE):
        decide(dispute, won=verdict == WINNING_EVIDENCE)
    dispute.save(update_fields=["data", "private"])
    return Response(200, answer)


def _update_appeal(dispute: SandboxObject, params: dict[str, Any]) -> Response:
    """`POST /v1/disputes/{id}` in the appeal stage: only appeal evidence, submitted unless
    `submit=false` (then only staged)."""
    data = dispute.data
    evidence = params.get("evidence", {})
    if data["status"] != "appeal_needs_response":
        raise ApiError(
            400,
            f"This dispute is {data['status']}: appeal evidence is taken only when it is "
            "appeal_needs_response.",
            param="evidence[appeal]",
        )
    if set(evidence) - {"appeal"}:
        raise ApiError(
            400, "Only appeal evidence can be updated during the appeal stage.", param="evidence"
        )
    reason = (evidence.get("appeal") or {}).get("card", {}).get("reason_for_filing", "")
    if reason and params.get("submit", True):
        emit(dispute, "charge.dispute.updated", appeal_submit(dispute, reason))
    elif reason:
        data["evidence"]["appeal"] = {"card": {"reason_for_filing": reason, "supporting_files": []}}
        data["evidence_details"]["has_evidence"] = True
    dispute.save(update_fields=["data", "private"])
    return Response(200, _snapshot(data))


def close_dispute(account: str, params: dict[str, Any], dispute_id: str) -> Response:
    """`POST /v1/disputes/{id}/close`: accept the dispute; it is lost."""
    parse_params(DISPUTE_CLOSE, params)
    dispute = _locked(account, dispute_id)
    if dispute.data["status"] not in OPEN:
        raise ApiError(
            400, f"This dispute is {dispute.data['status']} and cannot be closed.", param="dispute"
        )
    decide(dispute, won=False)
    dispute.save(update_fields=["data", "private"])
    return Response(200, dispute.data)


def _snapshot(data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "evidence": dict(data["evidence"]),
        "evidence_details": dict(data["evidence_details"]),
        "metadata": dict(data["metadata"]),
    }
