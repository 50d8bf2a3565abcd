"""The shop's processes (web, worker, beat) in every deploy file, the settings REDIS_URL turns
on, and celery beat starting from the Procfile's line (docker-compose.yml can be read here,
not run: there is no Docker engine on these machines)."""

import json
import shelve
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from celery.beat import PersistentScheduler
from django.conf import settings

from storefront.celery import app
from storefront.tasks import order_mail_send_task
from storefront.tests.beat_tools import SlowStoreScheduler
from storefront.tests.worker_tools import (
    BASE_DIR,
    START_TIMEOUT,
    TEST_REDIS_URL,
    Process,
    RedisReplyHold,
    app_env,
    beat_next_run,
    beat_period,
    procfile,
    procfile_process,
    redis_or_skip,
)

PERIODIC = {
    "payments-reconcile": "payments.tasks.payments_reconcile_task",
    "payments-redeliveries-fold": "payments.tasks.notification_redeliveries_fold_task",
    "orders-expire": "storefront.tasks.orders_expire_task",
    "order-mails-resend": "storefront.tasks.order_mails_resend_task",
    "sessions-clear": "storefront.tasks.sessions_clear_task",
}


PROCFILE_SCHEDULE = "/tmp/celerybeat-schedule"  # noqa: S108 (the Procfile's, read, not written)


def render_services() -> dict[str, dict]:
    blueprint = yaml.safe_load((BASE_DIR / "render.yaml").read_text())
    return {service["name"]: service for service in blueprint["services"]}


def test_the_procfile_runs_a_worker_and_one_beat_of_the_celery_app():
    commands = procfile()

    assert commands["worker"].startswith("celery -A storefront worker")
    assert commands["beat"].startswith("celery -A storefront beat")
    # Beat's schedule file somewhere any user may write (the image runs as a non-root user).
    assert "--schedule /tmp/" in commands["beat"]


def test_render_runs_the_worker_and_beat_on_a_key_value_instance():
    services = render_services()
    web, worker = services["storefront"], services["storefront-worker"]
    beat = services["storefront-beat"]
    key_value = services["storefront-kv"]
    commands = procfile()

    assert (worker["type"], beat["type"], key_value["type"]) == ("worker", "worker", "keyvalue")
    assert worker["startCommand"] == commands["worker"]
    assert beat["startCommand"] == commands["beat"]
    assert beat["numInstances"] == 1
    # A queue must never lose a task to make room.
    assert key_value["maxmemoryPolicy"] == "noeviction"
    assert key_value["ipAllowList"] == []
    for service in (web, worker, beat):
        variables = {entry["key"]: entry for entry in service["envVars"]}
        assert variables["REDIS_URL"]["fromService"] == {
            "type": "keyvalue",
            "name": "storefront-kv",
            "property": "connectionString",
        }
        assert variables["DATABASE_URL"] == {
            "key": "DATABASE_URL",
            "fromDatabase": {"name": "storefront-db", "property": "connectionString"},
        }
    # The worker and beat read every other setting from the web service: one place to set it.
    web_only = {"WEB_CONCURRENCY", "GUNICORN_THREADS"}
    own = {"PYTHON_VERSION", "DATABASE_URL", "REDIS_URL"}
    for service in (worker, beat):
        variables = {entry["key"]: entry for entry in service["envVars"]}
        assert set(variables) == {entry["key"] for entry in web["envVars"]} - web_only
        for name in set(variables) - own:
            assert variables[name]["fromService"] == {
                "type": "web",
                "name": "storefront",
                "envVarKey": name,
            }
    # A deploy waits for the worker's tasks under way, up to the time limit and a margin.
    assert worker["maxShutdownDelaySeconds"] > settings.CELERY_TASK_TIME_LIMIT


def test_heroku_adds_redis_and_runs_one_of_each_process():
    app = json.loads((BASE_DIR / "app.json").read_text())

    assert {"plan": "heroku-redis:mini", "as": "REDIS"} in app["addons"]
    assert {name: spec["quantity"] for name, spec in app["formation"].items()} == {
        "web": 1,
        "worker": 1,
        "beat": 1,
    }
    # Heroku Redis's certificate is self-signed.
    assert app["env"]["REDIS_SSL_CERT_REQS"]["value"] == "none"


def test_docker_compose_runs_redis_a_worker_and_beat_as_the_procfile_says():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    commands = procfile()

    assert services["redis"]["image"].startswith("redis:")
    assert "noeviction" in services["redis"]["command"]
    for name in ("worker", "beat"):
        service = services[name]
        assert service["image"] == services["web"]["image"]
        assert service["command"] == ["sh", "-c", "exec " + commands[name]]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["worker"]["stop_grace_period"] == "150s"


def test_beat_queues_each_periodic_job_and_none_piles_up():
    schedule = settings.CELERY_BEAT_SCHEDULE
    now = datetime.now(UTC)

    assert {name: entry["task"] for name, entry in schedule.items()} == PERIODIC
    for entry in schedule.values():
        # A run not started by the time the next is due is dropped, not run late.
        assert timedelta(seconds=entry["options"]["expires"]) <= beat_period(entry["schedule"], now)


RESTART_EVERY = {  # how often each job runs
    "payments-reconcile": timedelta(hours=1),
    "payments-redeliveries-fold": timedelta(minutes=5),
    "orders-expire": timedelta(hours=1),
    "order-mails-resend": timedelta(minutes=5),
    "sessions-clear": timedelta(days=1),
}


@pytest.mark.parametrize("name", sorted(RESTART_EVERY))
def test_a_restarted_beat_runs_each_job_when_it_was_due_not_an_interval_later(name):
    """Every deploy and daily restart starts beat with an empty schedule file (/tmp): a job
    still runs at its time, however often beat restarts (an hourly reconcile would never run
    on a shop deploying every half hour if each start put it an hour off)."""
    job = settings.CELERY_BEAT_SCHEDULE[name]["schedule"]
    started = datetime(2026, 12, 8, 9, 30, 7, tzinfo=UTC)
    due = beat_next_run(job, started)

    assert beat_period(job, started) == RESTART_EVERY[name]
    assert started < due <= started + RESTART_EVERY[name]
    for restarted in (started + (due - started) / 3, due - timedelta(seconds=30)):
        assert beat_next_run(job, restarted) == due


# --- Settings --------------------------------------------------------------------------------


def probe(env: dict[str, str]) -> dict:
    """The background-work settings as a process started with `env` sees them."""
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'cache': s.CACHES['default']['BACKEND'], 'location': s.CACHES['default'].get('LOCATION'),"
        "'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
        "'concurrency': s.CELERY_WORKER_CONCURRENCY, 'time_limit': s.CELERY_TASK_TIME_LIMIT,"
        "'soft_time_limit': s.CELERY_TASK_SOFT_TIME_LIMIT,"
        "'visibility': s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']}))"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_redis_url_makes_redis_the_broker_and_the_shared_cache(tmp_path):
    env = app_env(tmp_path, REDIS_URL="redis://cache.internal:6379/0")

    found = probe(env)

    assert found["cache"] == "storefront.plumbing.redis_cache.RedisCache"  # Django's, clients kept
    assert found["location"] == found["broker"] == "redis://cache.internal:6379/0"
    assert found["eager"] is False
    assert (found["concurrency"], found["time_limit"], found["soft_time_limit"]) == (2, 120, 90)
    assert found["visibility"] == 3600


def test_a_tls_redis_url_checks_the_certificate_unless_told_not_to(tmp_path):
    verified = probe(app_env(tmp_path, REDIS_URL="rediss://:pw@kv.example.com:6380"))
    heroku = probe(
        app_env(tmp_path, REDIS_URL="rediss://:pw@kv.example.com:6380", REDIS_SSL_CERT_REQS="none")
    )

    assert verified["broker"] == "rediss://:pw@kv.example.com:6380?ssl_cert_reqs=required"
    assert (
        heroku["broker"]
        == heroku["location"]
        == ("rediss://:pw@kv.example.com:6380?ssl_cert_reqs=none")
    )


def test_without_redis_url_tasks_run_eagerly_and_the_cache_is_the_process_own(tmp_path):
    """`make run`: one process, no broker."""
    env = app_env(tmp_path, DEBUG="1", REDIS_URL="", CELERY_WORKER_CONCURRENCY="")

    found = probe(env)

    assert found["eager"] is True
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["broker"].startswith("memory://")


def test_the_test_suite_never_uses_a_redis_url_it_finds():
    """Tests that need Redis start their own processes on TEST_REDIS_URL; the rest stay eager."""
    assert settings.REDIS_URL == ""
    assert order_mail_send_task.app.conf.task_always_eager is True


# --- celery beat, as the Procfile starts it ----------------------------------------------------


def beat_command(schedule: Path) -> str:
    """The Procfile's beat line with its schedule file in the test's own directory."""
    line = procfile()["beat"]
    assert PROCFILE_SCHEDULE in line
    return line.replace(PROCFILE_SCHEDULE, str(schedule))


def overdue_schedule(path: Path) -> None:
    """Beat's schedule file as a beat stopped two days ago leaves it: every job is due, so the
    next beat queues them all as it starts."""
    scheduler = PersistentScheduler(app=app, schedule_filename=str(path), lazy=False)
    for entry in scheduler.schedule.values():
        entry.last_run_at = entry.default_now() - timedelta(days=2)
    scheduler.close()


def assert_stopped_cleanly(beat: Process, schedule: Path) -> None:
    assert beat.wait() == 0, beat.output()
    assert "Traceback" not in beat.output()
    assert [r for r in beat.records() if r["level"] in {"ERROR", "CRITICAL"}] == []
    with shelve.open(str(schedule), flag="r") as kept:  # noqa: S301 (whole, for the next beat)
        assert set(PERIODIC) <= set(kept["entries"])


def test_beat_starts_from_the_procfile_and_stops_on_sigterm(tmp_path):
    redis_or_skip()
    env = app_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert env["REDIS_URL"] == TEST_REDIS_URL
    schedule = tmp_path / "beat-schedule"

    with procfile_process("beat", env, tmp_path, command=beat_command(schedule)) as beat:
        beat.wait_for_line("beat: Starting")
        beat.signal(signal.SIGTERM, group=False)
        assert_stopped_cleanly(beat, schedule)


def test_beat_stopped_while_it_opens_its_schedule_exits_cleanly_and_opens_it_once(tmp_path):
    """A deploy's SIGTERM can land as beat opens its schedule file, just after it logs
    "Starting". Celery's own handler opened the file again inside the handler, under the
    first open: dbm.dumb, half imported, had no `open`, and beat logged ERROR and CRITICAL
    lines and exited with status 1 (a CI run once caught it so). Here the store's import
    waits until the signal has been handled, so the signal lands there every time."""
    redis_or_skip()
    schedule = tmp_path / "beat-schedule"
    release = tmp_path / "release-the-store"
    env = app_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    env["BEAT_STORE_RELEASE"] = str(release)
    command = (
        f"{beat_command(schedule)} --scheduler {SlowStoreScheduler.__module__}:SlowStoreScheduler"
    )

    with procfile_process("beat", env, tmp_path, command=command) as beat:
        beat.wait_for_line("beat store: importing")
        beat.signal(signal.SIGTERM, group=False)
        beat.wait_for_line("beat: Shutting down")  # handled, while the open still waits
        release.touch()
        assert_stopped_cleanly(beat, schedule)
        assert beat.output().count("beat store: importing") == 1


def test_beat_stopped_while_it_queues_a_job_exits_cleanly_and_keeps_its_schedule(tmp_path):
    """A deploy's SIGTERM can land while beat waits for Redis to take a job. Celery's own
    handler closed the connection under that send: beat logged the failed send, then a
    CRITICAL line, and exited with status 1 (a CI run once caught it so)."""
    redis_or_skip()
    schedule = tmp_path / "beat-schedule"
    overdue_schedule(schedule)

    with RedisReplyHold(trigger=b"_task") as redis_hold:
        env = app_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
        env["REDIS_URL"] = redis_hold.url
        with procfile_process("beat", env, tmp_path, command=beat_command(schedule)) as beat:
            assert redis_hold.held.wait(START_TIMEOUT), beat.output()  # sending, not sleeping
            beat.signal(signal.SIGTERM, group=False)
            assert_stopped_cleanly(beat, schedule)


@pytest.mark.parametrize("name", sorted(PERIODIC))
def test_each_periodic_task_is_registered(name):
    app.loader.import_default_modules()
    assert PERIODIC[name] in app.tasks
