"""For tests of the background work: tasks queued to a broker, as with Redis, instead of run
eagerly as the test suite runs them by default (no REDIS_URL)."""

from collections.abc import Iterator
from contextlib import contextmanager

from celery import signals

from storefront.celery import app


@contextmanager
def tasks_queued() -> Iterator[list[dict]]:
    """Within the block, queued tasks go to Celery's in-memory broker and nothing runs them
    (as with a broker and no worker); yields the list of what was queued: each task's name,
    keyword arguments and message headers. The broker is emptied afterwards."""
    queued: list[dict] = []

    def record(sender=None, body=None, headers=None, **kwargs) -> None:
        _args, task_kwargs, _embed = body
        queued.append({"task": sender, "kwargs": task_kwargs, "headers": dict(headers or {})})

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    signals.before_task_publish.connect(record, weak=False)
    try:
        yield queued
    finally:
        signals.before_task_publish.disconnect(record)
        app.conf.task_always_eager = eager
        app.control.purge()
