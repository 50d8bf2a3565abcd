"""The admin's "Payment accounts" page: per rail and account, what reached us and when
reconcile last asked, so a merchant sees a silent webhook before a buyer writes in."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, F, Sum, Value, When
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from payments.models import ReceivedNotification, ReconcileRun
from payments.rails import all_rails

# A failure is a delivery we could not take: refused (not authentic), failed while processed,
# or contradicting an earlier one.
FAILURE_STATUSES = (
    ReceivedNotification.Status.FAILED,
    ReceivedNotification.Status.REJECTED,
    ReceivedNotification.Status.CONFLICT,
)
FAILURE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class AccountStatus:
    rail: str
    rail_name: str
    account: str
    label: str
    last_event: ReceivedNotification | None
    failures: int
    failures_url: str
    last_run: ReconcileRun | None
    last_run_url: str | None


def account_statuses() -> list[AccountStatus]:
    """Every account of every rail this site runs, with its latest notification, its failed
    deliveries of the last 24 hours and its latest reconcile run."""
    since = timezone.now() - FAILURE_WINDOW
    events_url = reverse("admin:payments_receivednotification_changelist")
    statuses = []
    for rail in all_rails().values():
        for account in rail.accounts():
            events = ReceivedNotification.objects.filter(rail=rail.name, account=account)
            # A rejected row stands for every refusal of its hour (`rejections`), a failed or
            # conflicting one for its one delivery.
            failed = events.filter(status__in=FAILURE_STATUSES, received_at__gte=since)
            failures = (
                failed.aggregate(
                    n=Sum(
                        Case(
                            When(status=ReceivedNotification.Status.REJECTED, then=F("rejections")),
                            default=Value(1),
                        )
                    )
                )["n"]
                or 0
            )
            run = ReconcileRun.objects.filter(rail=rail.name, account=account).first()
            statuses.append(
                AccountStatus(
                    rail=rail.name,
                    rail_name=rail.verbose_name,
                    account=account,
                    label=rail.account_label(account),
                    last_event=events.filter(signature_valid=True).first(),
                    failures=failures,
                    failures_url=f"{events_url}?"
                    + urlencode(
                        {
                            "rail": rail.name,
                            "account": account,
                            "status__in": ",".join(FAILURE_STATUSES),
                        }
                    ),
                    last_run=run,
                    last_run_url=(
                        reverse("admin:payments_reconcilerun_change", args=[run.pk])
                        if run
                        else None
                    ),
                )
            )
    return statuses


def accounts_view(model_admin, request: HttpRequest) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Payment accounts",
        "statuses": account_statuses(),
        "failure_hours": int(FAILURE_WINDOW.total_seconds() // 3600),
    }
    return TemplateResponse(request, "admin/payments/accounts.html", context)
