"""`manage.py periodic_tasks_run`: run celery beat's periodic tasks once each, here and now.

Where no beat runs (`make run`, a laptop) this is the periodic work: run it by hand or from
cron. On a deployed site it runs one job on the spot (`--only payments-reconcile`), through
the same task and lock as beat's runs.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from storefront.celery import app


class Command(BaseCommand):
    help = (
        "Run each periodic task of celery beat's schedule once, in this process: reconcile, "
        "order expiry, the stranded-mail sweep, clearsessions. Without a beat (make run), run "
        "it every few minutes from cron or by hand. Exits non-zero if a task failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=sorted(settings.CELERY_BEAT_SCHEDULE),
            help="run only this one (repeatable)",
        )

    def handle(self, *args, only: list[str] | None, **options) -> None:
        app.loader.import_default_modules()
        failed = []
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            if only and name not in only:
                continue
            task = app.tasks[entry["task"]]
            try:
                outcome = task.apply(kwargs=entry.get("kwargs", {}), throw=True).get()
            except Exception as exc:  # one job's failure does not keep the others from running
                failed.append(name)
                self.stderr.write(f"{name}: failed: {type(exc).__name__}: {exc}")
                continue
            self.stdout.write(f"{name}: {outcome}")
        if failed:
            raise CommandError(f"{len(failed)} periodic task(s) failed: {', '.join(failed)}.")
