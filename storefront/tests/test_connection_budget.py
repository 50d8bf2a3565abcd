"""The connection budget: a deployed site warns (storefront.W010) when its processes together
may open more database connections than the database allows (README, Deploy)."""

import sys

from django.db import connections

from storefront.plumbing.checks import check_connection_budget, connection_budget
from storefront.tests.test_deploy import production_env, run

# Never connected to: `check --deploy` reads the settings only.
POSTGRES_URL = "postgres://shop:secret@db.example.com:5432/shop"


def check_deploy(tmp_path, **changes):
    return run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(tmp_path, DATABASE_URL=POSTGRES_URL, **changes),
    )


def test_the_defaults_fit_a_small_plan(tmp_path):
    # 1 web instance x 2 workers x 4 threads, 1 worker x 2 processes, beat, 2 spare: 13 of 20.
    result = check_deploy(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storefront.W010" not in result.stdout + result.stderr


def test_a_second_web_instance_on_a_small_plan_is_warned_of(tmp_path):
    result = check_deploy(tmp_path, WEB_INSTANCES="2")

    assert result.returncode != 0
    assert "storefront.W010" in result.stderr
    assert "may open 21 database connections at once (web 16, worker 2, beat 1" in result.stderr
    assert "DATABASE_MAX_CONNECTIONS=20" in result.stderr


def test_a_larger_plan_takes_them(tmp_path):
    result = check_deploy(tmp_path, WEB_INSTANCES="2", DATABASE_MAX_CONNECTIONS="25")

    assert result.returncode == 0, result.stdout + result.stderr


def test_threads_and_task_processes_count(settings, monkeypatch):
    settings.DEBUG = settings.TESTING = False
    monkeypatch.setattr(connections["default"], "vendor", "postgresql")
    settings.WEB_INSTANCES, settings.WEB_CONCURRENCY, settings.GUNICORN_THREADS = 1, 2, 8
    settings.WORKER_INSTANCES, settings.CELERY_WORKER_CONCURRENCY = 2, 2
    settings.DATABASE_MAX_CONNECTIONS = 20

    assert connection_budget()["web"] == 16 and connection_budget()["worker"] == 4
    [warning] = check_connection_budget()
    assert warning.id == "storefront.W010" and "23 database connections" in warning.msg

    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    assert check_connection_budget() == []  # a file has no connection limit
