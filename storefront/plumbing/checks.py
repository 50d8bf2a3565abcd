"""System checks of the shop's own: a production site needs a real SECRET_KEY, and should
send its buyers' e-mails somewhere (warnings: a shop can take payments without them).

Tagged `deploy`, like Django's own security checks: `check --deploy`, the release step and
every gunicorn worker (storefront/wsgi.py) run them; offline commands do not need a key.
"""

from django.conf import settings
from django.core.checks import Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

INSECURE_PREFIX = "django-insecure-"
HINT = (
    "With DEBUG off, set SECRET_KEY to a long random string (50 characters or more), e.g. the "
    'output of: python -c "import secrets; print(secrets.token_urlsafe(64))"'
)


def check_secret_key(app_configs=None, **kwargs) -> list:
    if settings.DEBUG or settings.TESTING:
        return []
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal to read an empty key
        key = ""
    if not key:
        return [Error("SECRET_KEY is not set.", hint=HINT, id="storefront.E001")]
    # The same bar as Django's security.W009, made an error.
    if len(key) < 50 or len(set(key)) < 5 or key.startswith(INSECURE_PREFIX):
        return [
            Error(
                "SECRET_KEY is not a real secret key (too short or a placeholder).",
                hint=HINT,
                id="storefront.E001",
            )
        ]
    return []


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def check_email(app_configs=None, **kwargs) -> list:
    """Receipts and refund notices need a mail server, a sender, and the shop's public URL."""
    if settings.DEBUG or settings.TESTING:
        return []
    warnings = []
    if not settings.EMAIL_URL_SET:
        warnings.append(
            Warning(
                "EMAIL_URL is not set: receipts and refund notices are only written to the log.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587.",
                id="storefront.W001",
            )
        )
    elif settings.DEFAULT_FROM_EMAIL.rstrip(">").endswith("@localhost"):
        warnings.append(
            Warning(
                f"E-mails to buyers would come from {settings.DEFAULT_FROM_EMAIL}, which mail "
                "servers refuse.",
                hint="Set DEFAULT_FROM_EMAIL, e.g. Storefront <shop@example.com>.",
                id="storefront.W002",
            )
        )
    if any(f"//{host}" in settings.SHOP_URL for host in LOCAL_HOSTS):
        warnings.append(
            Warning(
                f"SHOP_URL is {settings.SHOP_URL}: links in buyers' e-mails would not work.",
                hint="Set SHOP_URL to the shop's public address, e.g. https://shop.example.com.",
                id="storefront.W003",
            )
        )
    return warnings


# --- MySQL and MariaDB ------------------------------------------------------------------------

STRICT_MODES = {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES"}
MYSQL_HINT = (
    "Give DATABASE_URL the options the settings default to, e.g. mysql://user:pass@host/db"
    "?charset=utf8mb4&init_command=SET+sql_mode%3D%27STRICT_TRANS_TABLES%27, and create the "
    "database with CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci (docs/databases.md)."
)


def check_mysql(app_configs=None, databases=None, **kwargs) -> list:
    """Refuse a MySQL or MariaDB connection without strict mode or utf8mb4.

    Without strict mode the server stores a value that does not fit by truncating or zeroing
    it, with a warning nobody reads; without utf8mb4 a four-byte character (an emoji in a
    buyer's name) is refused or mangled. Tagged `database` like Django's own mysql.W002, so it
    runs in `migrate` and `check --database default` (it asks the server).
    """
    from django.db import connections

    problems = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "mysql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT @@SESSION.sql_mode, @@SESSION.character_set_connection, "
                "@@character_set_database"
            )
            sql_mode, connection_charset, database_charset = cursor.fetchone()
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "DATABASE() AND table_type = 'BASE TABLE' AND table_collation NOT LIKE "
                "'utf8mb4%' ORDER BY table_name"
            )
            narrow_tables = [name for (name,) in cursor.fetchall()]
        if not STRICT_MODES & set(sql_mode.upper().split(",")):
            problems.append(
                Error(
                    f"The database connection '{alias}' is not in strict mode "
                    f"(sql_mode is '{sql_mode}').",
                    hint=MYSQL_HINT,
                    id="storefront.E010",
                )
            )
        narrow = []
        if connection_charset != "utf8mb4":
            narrow.append(f"the connection is {connection_charset}")
        if database_charset != "utf8mb4":
            narrow.append(f"the database is {database_charset}")
        if narrow_tables:
            more = " ..." if len(narrow_tables) > 5 else ""
            narrow.append(f"tables {', '.join(narrow_tables[:5])}{more} are not")
        if narrow:
            problems.append(
                Error(
                    f"The database connection '{alias}' is not all utf8mb4: {'; '.join(narrow)}.",
                    hint=MYSQL_HINT,
                    id="storefront.E011",
                )
            )
    return problems


# Connections besides the web's and the worker's: beat (1), and a release step's migrate or a
# one-off command (`heroku run`, cron) while the site serves (2).
CONNECTION_HEADROOM = {"beat": 1, "release and one-off commands": 2}


def connection_budget() -> dict[str, int]:
    """The most connections each part of a deployed site opens at once."""
    return {
        "web": settings.WEB_INSTANCES * settings.WEB_CONCURRENCY * settings.GUNICORN_THREADS,
        "worker": settings.WORKER_INSTANCES * settings.CELERY_WORKER_CONCURRENCY,
        **CONNECTION_HEADROOM,
    }


def check_connection_budget(app_configs=None, **kwargs) -> list:
    """A site that can open more connections than the database allows fails at its busiest."""
    if settings.DEBUG or settings.TESTING:
        return []
    if connections["default"].vendor == "sqlite":
        return []  # a file: no connection limit
    budget = connection_budget()
    needed = sum(budget.values())
    if needed <= settings.DATABASE_MAX_CONNECTIONS:
        return []
    parts = ", ".join(f"{name} {count}" for name, count in budget.items())
    return [
        Warning(
            f"This site may open {needed} database connections at once ({parts}), more than "
            f"DATABASE_MAX_CONNECTIONS={settings.DATABASE_MAX_CONNECTIONS}: at its busiest, "
            "requests and tasks would fail with 'too many connections'.",
            hint="Lower WEB_CONCURRENCY, GUNICORN_THREADS or CELERY_WORKER_CONCURRENCY, run "
            "fewer instances (WEB_INSTANCES, WORKER_INSTANCES), or move to a database plan "
            "with more connections and set DATABASE_MAX_CONNECTIONS to its limit.",
            id="storefront.W010",
        )
    ]
