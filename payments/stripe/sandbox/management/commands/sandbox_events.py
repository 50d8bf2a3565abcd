"""`manage.py sandbox_events`: the sandbox's webhook events, listed, sent again, or as a `curl`.

    python manage.py sandbox_events list [--limit 20]
    python manage.py sandbox_events resend evt_... [--origin http://127.0.0.1:8000]
    python manage.py sandbox_events curl evt_... [--origin http://127.0.0.1:8000]

`resend` POSTs the same event (same id, same body) once more, now, with a fresh signature, and
records the attempt like any other. `curl` prints a command that does the same from a shell; its
signature is valid for five minutes (the endpoint's tolerance), so print a new one after that.
`--origin` sends to the account's endpoint on another server than the one the event was made
for (a session made by the test client points at `http://testserver`).
"""

import shlex
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from payments.stripe.sandbox import events
from payments.stripe.sandbox.models import SandboxObject

SIGNATURE_VALID_MINUTES = 5


class Command(BaseCommand):
    help = "List the Stripe sandbox's webhook events, send one again, or print it as a curl."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="The most recent events, newest first.")
        listing.add_argument("--limit", type=int, default=20, help="How many (default 20).")
        for name, text in (
            ("resend", "Deliver an event again now (one attempt) and print the answer."),
            ("curl", "Print a curl command that delivers the event, freshly signed."),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("event_id", help="The event's id (evt_...).")
            action.add_argument(
                "--origin",
                help="Send to this server (scheme://host:port) instead of the event's own.",
            )

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "list":
            self.show_list(options["limit"])
            return
        try:
            if action == "resend":
                self.resend(options["event_id"], options["origin"])
            else:
                self.curl(options["event_id"], options["origin"])
        except events.EventError as exc:
            raise CommandError(str(exc)) from exc

    def show_list(self, limit: int) -> None:
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        rows = SandboxObject.objects.filter(object="event").order_by("-created", "-id")[:limit]
        if not rows:
            self.stdout.write("No sandbox events yet.")
            return
        table = [("ID", "TYPE", "CREATED", "DELIVERY", "LAST", "ENDPOINT")]
        for event in rows:
            endpoint = events.event_endpoint(event)
            table.append(
                (
                    event.id,
                    event.data["type"],
                    datetime.fromtimestamp(event.data["created"], UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    events.delivery_state(event),
                    _last_outcome(event),
                    endpoint.url if endpoint else "-",
                )
            )
        widths = [max(len(row[column]) for row in table) for column in range(len(table[0]) - 1)]
        for row in table:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())

    def resend(self, event_id: str, origin: str | None) -> None:
        event = events.event_get(event_id)
        endpoint = events.event_endpoint(event, origin)
        if endpoint is None:
            raise events.EventUndeliverable(
                f"Event {event_id} has no webhook endpoint (its session had no return URL): "
                "give one with --origin."
            )
        self.stdout.write(f"POST {endpoint.url}  ({event.data['type']} {event_id})")
        record = events.attempt(event_id, trigger="resend", origin=origin)
        if record["status"] is None:
            raise CommandError(f"Not delivered: {record['error']}")
        self.stdout.write(f"{record['status']} {record['response'] or ''}".rstrip())
        if not 200 <= record["status"] < 300:
            raise CommandError(f"The endpoint did not accept the event ({record['status']}).")

    def curl(self, event_id: str, origin: str | None) -> None:
        event = events.event_get(event_id)
        endpoint = events.event_endpoint(event, origin)
        if endpoint is None:
            raise events.EventUndeliverable(
                f"Event {event_id} has no webhook endpoint (its session had no return URL): "
                "give one with --origin."
            )
        body = events.event_body(event)
        headers = events.delivery_headers(events.signature_header(event, body))
        lines = [f"curl -sS -i -X POST {shlex.quote(endpoint.url)}"]
        lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
        lines.append(f"--data-binary {shlex.quote(body)}")
        self.stdout.write(
            f"# {event.data['type']} {event_id}: the signature is valid for "
            f"{SIGNATURE_VALID_MINUTES} minutes."
        )
        self.stdout.write(" \\\n  ".join(lines))


def _last_outcome(event: SandboxObject) -> str:
    deliveries = event.private.get("deliveries") or []
    if not deliveries:
        return "-"
    last = deliveries[-1]
    return str(last["status"]) if last["status"] is not None else "error"
