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
- beat stops cleanly on SIGTERM (every deploy and restart) even in the middle of queueing a job.
"""

import os
import signal
import threading

from celery import Celery, signals

from storefront.plumbing.logging import (
    task_request_id_bind,
    task_request_id_header,
    task_request_id_unbind,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")

app = Celery("storefront")
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


@signals.beat_init.connect
def _stop_beat_without_closing_under_a_send(sender=None, **kwargs) -> None:
    """On SIGTERM or SIGINT, leave beat's loop; its own `finally` then saves the schedule and
    closes the broker connection.

    Celery's handler does both inside the signal handler: when the signal lands while beat is
    queueing a job, the connection is closed under the send that is reading from it, the send
    fails ("I/O operation on closed file"), beat goes on to its closed schedule file and exits
    with status 1 and a CRITICAL line, on an ordinary deploy."""

    if threading.current_thread() is not threading.main_thread():
        return  # a beat run in a thread leaves signals to its process

    def _leave(signum, frame) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, _leave)
