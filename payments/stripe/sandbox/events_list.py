"""`GET /v1/events` in the sandbox: an account's events, newest first, paged as Stripe pages.

What Stripe's List Events does, and so what this does:
- only the account's own events (another key's are invisible, as everywhere in the sandbox);
- newest first; `limit` 1 to 100 (default 10); `has_more` says whether the list goes on;
  `starting_after` (older than that event) or `ending_before` (newer than it), not both, each
  the id of one of the account's events (an unknown one is `resource_missing`);
- `created`: an exact Unix time, or bounds `created[gt|gte|lt|lte]`;
- `type`: one event type, or a group with `*` as a wildcard (`checkout.session.*`), or
  `types[]`: up to 20 exact types, never both;
- `delivery_success`: whether the event reached its webhook endpoint. `false` lists those
  still pending or given up on: every event recorded while `STRIPE_SANDBOX_WEBHOOKS=off`, or
  for a session made through the test client, or that its endpoint kept refusing. This is
  what `payments_reconcile` asks first, to find what the shop missed.

The answer is Stripe's list object (`object: "list"`, `data`, `has_more`, `url`), so the
`stripe` library's `auto_paging_iter()` pages through it with `starting_after`.
"""

from typing import Any

from django.db.models import Q, QuerySet

from payments.stripe.sandbox.models import SandboxObject
from payments.stripe.sandbox.objects import ApiError, Response, parse_params
from payments.stripe.sandbox.params import Bool, Int, IntRange, ListOf, Obj, ParamError, Str

LIST_URL = "/v1/events"
DEFAULT_LIMIT = 10


def _check_list(params: dict[str, Any], path: str) -> None:
    for first, second in (("type", "types"), ("ending_before", "starting_after")):
        if first in params and second in params:
            raise ParamError(
                f"You may only specify one of these parameters: {first}, {second}.",
                param=first,
                code="parameters_exclusive",
            )


EVENTS_LIST = Obj(
    {
        "created": IntRange(),
        "delivery_success": Bool(),
        "ending_before": Str(),
        "starting_after": Str(),
        "limit": Int(minimum=1, maximum=100),
        "type": Str(),
        "types": ListOf(Str(), max_items=20),
        "expand": ListOf(Str()),
    },
    check=_check_list,
)

# `created` bounds as lookups on the event's own `created` (Unix seconds).
_CREATED_LOOKUPS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


def _filtered(account: str, params: dict[str, Any]) -> QuerySet[SandboxObject]:
    events = SandboxObject.objects.filter(account=account, object="event")
    for bound, value in params.get("created", {}).items():
        events = events.filter(**{f"data__created__{_CREATED_LOOKUPS[bound]}": value})
    if "type" in params:
        wanted = params["type"]
        if wanted.endswith("*"):
            events = events.filter(data__type__startswith=wanted.removesuffix("*"))
        else:
            events = events.filter(data__type=wanted)
    if "types" in params:
        events = events.filter(data__type__in=params["types"])
    if "delivery_success" in params:
        delivered = Q(data__pending_webhooks=0)
        events = events.filter(delivered if params["delivery_success"] else ~delivered)
    return events


def _cursor(account: str, event_id: str, param: str) -> SandboxObject:
    cursor = SandboxObject.objects.filter(id=event_id, account=account, object="event").first()
    if cursor is None:
        raise ApiError(404, f"No such event: '{event_id}'", code="resource_missing", param=param)
    return cursor


def list_events(account: str, params: dict[str, Any]) -> Response:
    """`GET /v1/events`: the account's events, filtered and paged as Stripe does."""
    params = parse_params(EVENTS_LIST, params)
    limit = params.get("limit", DEFAULT_LIMIT)
    events = _filtered(account, params)
    # Newest first; the row's own time (microseconds) and id break ties within a second.
    if "ending_before" in params:
        cursor = _cursor(account, params["ending_before"], "ending_before")
        newer = events.filter(
            Q(created__gt=cursor.created) | Q(created=cursor.created, id__gt=cursor.id)
        ).order_by("created", "id")
        page = list(newer[: limit + 1])
        has_more = len(page) > limit
        page = list(reversed(page[:limit]))
    else:
        if "starting_after" in params:
            cursor = _cursor(account, params["starting_after"], "starting_after")
            events = events.filter(
                Q(created__lt=cursor.created) | Q(created=cursor.created, id__lt=cursor.id)
            )
        page = list(events.order_by("-created", "-id")[: limit + 1])
        has_more = len(page) > limit
        page = page[:limit]
    return Response(
        200,
        {
            "object": "list",
            "data": [event.data for event in page],
            "has_more": has_more,
            "url": LIST_URL,
        },
    )
