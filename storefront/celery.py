"""The Celery app: `celery -A storefront worker` runs the background work, `celery -A storefront
beat` queues the periodic jobs (see docs/operations.md, Processes).

Configured from Django's settings (`CELERY_*`, read from the environment in
storefront/settings/background.py): `REDIS_URL` is the broker; without it tasks run eagerly, in
the process that queued them, so a laptop needs no broker. Tasks live in the `tasks.py` of the
app that owns the work (`storefront.tasks`, `payments.tasks`), found by `autodiscover_tasks`,
and are queued once the transaction that made them necessary commits.

Three things are wired here:
- logging stays Django's (`settings.LOGGING`: one line per record, JSON in production), in the
  worker as in the web process, instead of Celery's own set-up;
- the request id of the request that queued a task travels in the message's headers and is on
  every line the task logs (`storefront.plumbing.logging.task_request_id_*`);
- beat stops cleanly on SIGTERM (every deploy and restart) whatever it is doing: opening its
  schedule file, queueing a job or sleeping (`CleanStopBeat`).
"""

import os
from functools import cached_property

from celery import Celery, platforms, signals
from celery.apps.beat import Beat

from storefront.plumbing.logging import (
    task_request_id_bind,
    task_request_id_header,
    task_request_id_unbind,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")


class CleanStopBeat(Beat):
    """`celery beat` that a SIGTERM or SIGINT stops without doing beat's work in the handler.

    Celery's handler saves the schedule and closes the broker connection inside the signal
    handler, whatever beat was doing when the signal landed. Under a send, it closed the
    connection the send was reading from; while beat was opening its schedule file, it opened
    the file a second time under the first open (dbm.dumb, half imported, had no `open`).
    Either way beat logged an ERROR and a CRITICAL line and exited with status 1, on an
    ordinary deploy. Here the handler only ends the run; `Service.start`'s own `finally` saves
    and closes, once nothing is half done."""

    def install_sync_handler(self, service) -> None:
        def _stop(signum, frame) -> None:
            if "scheduler" not in vars(service):
                # Still opening the schedule file: let it finish, then leave before the
                # first tick (start() checks this flag, then saves and closes).
                service.stop()
                return
            raise SystemExit(0)  # cuts a sleep or a send short; start()'s finally follows

        platforms.signals.update(SIGTERM=_stop, SIGINT=_stop)


class StorefrontCelery(Celery):
    @cached_property
    def Beat(self):
        return self.subclass_with_self(CleanStopBeat)


app = StorefrontCelery("storefront")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _keep_django_logging(**kwargs) -> None:
    """Leave logging as Django's LOGGING set it (a receiver here stops Celery's own set-up)."""


@signals.before_task_publish.connect
def _send_request_id(headers: dict | None = None, **kwargs) -> None:
    if headers is not None:
        headers.update(task_request_id_header())


@signals.task_prerun.connect
def _take_request_id(task=None, **kwargs) -> None:
    task_request_id_bind(task.request if task is not None else None)


@signals.task_postrun.connect
def _drop_request_id(task=None, **kwargs) -> None:
    task_request_id_unbind(task.request if task is not None else None)
