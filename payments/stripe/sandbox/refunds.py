"""Refunds in the sandbox: create, retrieve, list; settling later; a refund made "in the dashboard".

Like Stripe's (`POST /v1/refunds`):
- `payment_intent` or `charge` names what to refund (one of them; both must then agree); an id
  of another account, or none at all, is `resource_missing`; a PaymentIntent that has not
  succeeded has no charge to refund (400).
- `amount` (minor units, the charge's currency rules) defaults to what remains; `reason` is one
  of `duplicate`, `fraudulent`, `requested_by_customer`; `metadata` as everywhere.
- Over-refunds are refused as Stripe refuses them: a charge refunded in full already is
  `charge_already_refunded` ("Charge ch_... has already been refunded."); more than remains is
  "Refund amount ($20.00) is greater than unrefunded amount on charge ($5.00)" (`param`
  amount). What remains counts pending and succeeded refunds, not failed ones.

The refund (`re_...`, shaped like Stripe's example object) and the Charge's `amount_refunded`
and `refunded` change under the Charge's row lock, so two simultaneous refunds never together
exceed it. Then, in Stripe's order, `refund.created` and `charge.refunded` are recorded and sent
signed to the endpoint of the account that took the payment (`charges.charge_event`). Since API
version 2022-11-15 the Charge in `charge.refunded` carries no `refunds` list.

A card refund succeeds at once, except with the test cards of `cards.REFUND_BEHAVIOURS`, whose
refunds settle "some time later" (`SETTLE_AFTER_SECONDS`), as Stripe's testing docs say: 4000 0000
0000 5126's refund begins `succeeded` and turns `failed` (`failure_reason`
`expired_or_canceled_card`; the Charge gets the amount back; `refund.updated` and
`refund.failed`), 4000 0000 0000 7726's begins `pending` and turns `succeeded`
(`refund.updated`). Settling happens when the refund is next read through the API once due
(`settle_if_due`), from a background thread in the "thread" webhook mode, or at once by
`refund_settle` (tests, `manage.py sandbox_refund settle`).

`GET /v1/refunds/{id}` reads one; `GET /v1/refunds` lists the account's, newest first
(`limit`, `starting_after`, filtered by `payment_intent` or `charge`).

`refund_in_dashboard` is a refund the merchant makes in Stripe's dashboard: no idempotency key,
no metadata of ours, so the shop hears of it only by webhook (`manage.py sandbox_refund`).
"""

import logging
import threading
import time
from typing import Any

from django.db import connections, transaction

from currencies.formatting import format_money
from currencies.minor_units import from_minor_units
from payments.stripe.sandbox import events
from payments.stripe.sandbox.cards import REFUND_BEHAVIOURS
from payments.stripe.sandbox.charges import charge_endpoint, charge_event
from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import (
    RETRIEVE,
    ApiError,
    Response,
    check_amount,
    get_object,
    new_id,
    parse_params,
)
from payments.stripe.sandbox.params import Int, Metadata, Obj, ParamError, Str

logger = logging.getLogger(__name__)

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# How long "some time later" is for a refund that settles later. Read at call time.
SETTLE_AFTER_SECONDS = 5.0

REFUND_CREATE = Obj(
    {
        "payment_intent": Str(max_length=255),
        "charge": Str(max_length=255),
        "amount": Int(minimum=1),
        "reason": Str(choices=REASONS),
        "metadata": Metadata(),
        "expand": RETRIEVE.fields["expand"],
    }
)
REFUND_LIST = Obj(
    {
        "payment_intent": Str(max_length=255),
        "charge": Str(max_length=255),
        "limit": Int(minimum=1, maximum=100),
        "starting_after": Str(max_length=255),
        "expand": RETRIEVE.fields["expand"],
    }
)


def _money(amount: int, currency: str) -> str:
    """`$20.00`: how Stripe's refund messages write an amount."""
    return format_money(from_minor_units(amount, currency), currency, locale="en_US")


def refund_object(
    *, refund_id: str, charge: dict, amount: int, reason: str | None, metadata: dict, status: str
) -> dict[str, Any]:
    """A refund shaped like Stripe's example object."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_"),
        "charge": charge["id"],
        "created": int(time.time()),
        "currency": charge["currency"],
        "customer": charge.get("customer"),
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": metadata,
        "payment_intent": charge.get("payment_intent"),
        "payment_method": charge.get("payment_method"),
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def _charge_for(account: str, params: dict[str, Any]) -> SandboxObject:
    """The Charge to refund, locked: the PaymentIntent's latest one, or the one named."""
    intent_id, charge_id = params.get("payment_intent"), params.get("charge")
    if not intent_id and not charge_id:
        raise ApiError(
            400,
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    if intent_id:
        intent = get_object(account, "payment_intent", intent_id).data
        if intent["status"] != "succeeded" or not intent.get("latest_charge"):
            raise ApiError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        if charge_id and charge_id != intent["latest_charge"]:
            raise ApiError(
                400,
                f"The charge {charge_id} does not belong to the PaymentIntent {intent_id}.",
                param="charge",
            )
        charge_id = intent["latest_charge"]
    get_object(account, "charge", charge_id)
    return SandboxObject.objects.select_for_update().get(
        id=charge_id, account=account, object="charge"
    )


def _recount(charge: SandboxObject, change: int) -> None:
    data = charge.data
    data["amount_refunded"] += change
    data["refunded"] = data["amount_refunded"] >= data["amount_captured"]
    charge.save(update_fields=["data"])


def refund_make(
    *,
    account: str,
    params: dict[str, Any],
    metadata: dict[str, str] | None = None,
) -> SandboxObject:
    """Refund a Charge of `account` as Stripe does (`params` already parsed); record and send
    `refund.created` and `charge.refunded`. Raises ApiError as Stripe refuses. Call it inside
    a transaction."""
    charge = _charge_for(account, params)
    data = charge.data
    if data.get("disputed"):
        # A chargeback has already taken the money back (the sandbox's disputes are all
        # chargebacks, `is_charge_refundable: false`): Stripe refuses to refund it again.
        raise ApiError(
            400,
            f"Charge {charge.id} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = data["amount_captured"] - data["amount_refunded"]
    if remaining <= 0:
        raise ApiError(
            400,
            f"Charge {charge.id} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = params.get("amount", remaining)
    try:
        check_amount(amount, data["currency"], "amount")
    except ParamError as exc:
        raise ApiError.from_param_error(exc) from exc
    if amount > remaining:
        raise ApiError(
            400,
            f"Refund amount ({_money(amount, data['currency'])}) is greater than unrefunded "
            f"amount on charge ({_money(remaining, data['currency'])})",
            code="amount_too_large",
            param="amount",
        )
    begins, settles, failure_reason = REFUND_BEHAVIOURS.get(
        charge.private.get("card", ""), ("succeeded", None, None)
    )
    refund_id = new_id("re_")
    refund = SandboxObject.objects.create(
        id=refund_id,
        account=account,
        object="refund",
        data=refund_object(
            refund_id=refund_id,
            charge=data,
            amount=amount,
            reason=params.get("reason"),
            metadata=metadata or {},
            status=begins,
        ),
        private=(
            {
                "settle_at": time.time() + SETTLE_AFTER_SECONDS,
                "settles": settles,
                "failure_reason": failure_reason,
            }
            if settles
            else {}
        ),
    )
    _recount(charge, amount)
    charge_event(charge, "refund.created", refund.data)
    charge_event(charge, "charge.refunded", charge.data)
    if settles:
        _settle_later(refund, charge)
    return refund


def refund_settle(refund_id: str) -> SandboxObject:
    """Settle a refund that settles later (see the module's docstring) now, whether or not it
    is due, once; return it. A refund with nothing left to settle is left as it is."""
    with transaction.atomic():
        refund = SandboxObject.objects.select_for_update().get(id=refund_id, object="refund")
        settles = refund.private.get("settles")
        if not settles:
            return refund
        charge = SandboxObject.objects.select_for_update().get(
            id=refund.data["charge"], object="charge"
        )
        previous = {"status": refund.data["status"]}
        refund.data["status"] = settles
        if settles == "failed":
            previous.update(failure_balance_transaction=None, failure_reason=None)
            refund.data.update(
                failure_balance_transaction=new_id("txn_"),
                failure_reason=refund.private.get("failure_reason") or "unknown",
            )
            # The money did not go back to the buyer: the Charge has it again.
            _recount(charge, -refund.data["amount"])
        refund.private = {"settled_at": time.time()}
        refund.save(update_fields=["data", "private"])
        charge_event(charge, "refund.updated", refund.data, previous_attributes=previous)
        if settles == "failed":
            charge_event(charge, "refund.failed", refund.data)
        return refund


def settle_if_due(refund: SandboxObject) -> SandboxObject:
    """The refund as it stands now: settled first if its time has come."""
    due = refund.private.get("settle_at")
    if due is not None and due <= time.time():
        return refund_settle(refund.id)
    return refund


def _settle_later(refund: SandboxObject, charge: SandboxObject) -> None:
    """In the "thread" webhook mode, settle the refund from a background thread once due (its
    events are then sent like any other); otherwise it settles when read or asked to."""
    endpoint = charge_endpoint(charge)
    if events.mode() != "thread" or endpoint is None or endpoint.on_test_client:
        return
    refund_id = refund.id

    def settle() -> None:
        try:
            refund_settle(refund_id)
        except Exception:  # a thread's exception would go nowhere: say it in the log
            logger.exception("sandbox refund %s: settling failed", refund_id)
        finally:
            connections.close_all()

    def start() -> None:
        timer = threading.Timer(SETTLE_AFTER_SECONDS, settle)
        timer.daemon = True
        timer.start()

    transaction.on_commit(start, robust=True)


# --- The API ---------------------------------------------------------------------------------


def create_refund(account: str, params: dict[str, Any]) -> Response:
    """`POST /v1/refunds`."""
    params = parse_params(REFUND_CREATE, params)
    refund = refund_make(account=account, params=params, metadata=params.get("metadata"))
    return Response(200, refund.data)


def retrieve_refund(account: str, params: dict[str, Any], refund_id: str) -> Response:
    """`GET /v1/refunds/{id}`: the account's own refunds only, settled first if due."""
    parse_params(RETRIEVE, params)
    return Response(200, settle_if_due(get_object(account, "refund", refund_id)).data)


def list_refunds(account: str, params: dict[str, Any]) -> Response:
    """`GET /v1/refunds`: the account's refunds, newest first, one page."""
    params = parse_params(REFUND_LIST, params)
    rows = SandboxObject.objects.filter(account=account, object="refund").order_by(
        "-created", "-id"
    )
    if "payment_intent" in params:
        rows = rows.filter(data__payment_intent=params["payment_intent"])
    if "charge" in params:
        rows = rows.filter(data__charge=params["charge"])
    refunds = [settle_if_due(row) for row in rows]
    if "starting_after" in params:
        ids = [row.id for row in refunds]
        if params["starting_after"] not in ids:
            get_object(account, "refund", params["starting_after"])
            refunds = []
        else:
            refunds = refunds[ids.index(params["starting_after"]) + 1 :]
    limit = params.get("limit", 10)
    return Response(
        200,
        {
            "object": "list",
            "data": [row.data for row in refunds[:limit]],
            "has_more": len(refunds) > limit,
            "url": "/v1/refunds",
        },
    )


# --- The dashboard ---------------------------------------------------------------------------


def refund_in_dashboard(
    payment_id: str, *, amount: int | None = None, reason: str | None = None
) -> SandboxObject:
    """Refund a sandbox payment (a PaymentIntent `pi_...` or a Charge `ch_...`) as the merchant
    would in Stripe's dashboard: on the account that took it, without an idempotency key or
    metadata of ours. Raises ApiError as the API would refuse it, LookupError for an unknown id.
    """
    kind = "charge" if payment_id.startswith("ch_") else "payment_intent"
    target = SandboxObject.objects.filter(id=payment_id, object=kind).first()
    if target is None:
        raise LookupError(f"No sandbox {kind.replace('_', ' ')} {payment_id!r}.")
    params: dict[str, Any] = {kind: payment_id}
    if amount is not None:
        params["amount"] = amount
    if reason:
        if reason not in REASONS:
            raise ApiError(400, f"Invalid reason: must be one of {', '.join(REASONS)}")
        params["reason"] = reason
    with transaction.atomic():
        return refund_make(account=target.account, params=params)
