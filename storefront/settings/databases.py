"""The database: DATABASE_URL, kept-open connections, the connection budget (storefront.W010),
and what SQLite and MySQL/MariaDB need of their connections and test databases."""

import os
import tempfile
from pathlib import Path

from storefront.settings.environment import BASE_DIR, env, production

# SQLite file beside manage.py unless DATABASE_URL says otherwise (dj-database-url syntax).
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", engine=None
    )
}
# Seconds a connection is kept open between requests. In production, 60: opening one per
# request (0) was all of /healthz's cost and a fifth of /item's. Each gunicorn thread keeps its
# own, so a site holds WEB_CONCURRENCY x GUNICORN_THREADS connections (8 by default) per
# instance: keep that within PostgreSQL's max_connections (see docs/deploy.md). Laptops and
# test runs default to 0 (runserver starts a thread per request).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if production else 0)
# A kept-open connection is tested before each request reuses it (after a database restart).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
# The connection budget (storefront.W010, docs/deploy.md): how many connections the database
# allows this site (small managed plans: about 20), and what opens them at most at once. Every
# gunicorn thread holds one (kept CONN_MAX_AGE seconds, or for its request), so does every
# Celery pool process; beat, a release step's migrate and a one-off command take a few more.
# The Procfile's web command reads WEB_CONCURRENCY and GUNICORN_THREADS too; WEB_INSTANCES
# and WORKER_INSTANCES say how many of each service run (keep them equal to the platform's).
DATABASE_MAX_CONNECTIONS = env.int("DATABASE_MAX_CONNECTIONS", default=20)
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=2)
GUNICORN_THREADS = env.int("GUNICORN_THREADS", default=4)
WEB_INSTANCES = env.int("WEB_INSTANCES", default=1)
WORKER_INSTANCES = env.int("WORKER_INSTANCES", default=1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads write at once (a webhook arriving while the buyer's page loads): let a
    # writer take the lock when its transaction starts and others wait for it, instead of
    # failing. Tests use a file too, since in-memory SQLite fails such waits at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"storefront-test-{os.getpid()}.sqlite3")
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # MySQL and MariaDB as Django advises: strict mode (a value that does not fit is refused,
    # never truncated or zeroed), utf8mb4 (all of Unicode; MySQL's "utf8" stops at three
    # bytes) and READ COMMITTED. DATABASE_URL's own options (?charset=...&init_command=...)
    # win over these; the check storefront.E010 refuses a connection left without them.
    _mysql = DATABASES["default"].setdefault("OPTIONS", {})
    _mysql.setdefault("charset", "utf8mb4")
    _mysql.setdefault(
        "init_command",
        "SET sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    )
    _mysql.setdefault("isolation_level", "read committed")
    # The test database as a production one should be created (docs/databases.md).
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
