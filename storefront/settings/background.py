"""Background work and the shared cache: Celery on Redis (storefront.celery), the cache every
process shares, and celery beat's schedule."""

from celery.schedules import crontab

from storefront.settings.application import TIME_ZONE
from storefront.settings.environment import TESTING, env

# Redis is the broker that hands tasks to the worker processes, and the cache every process
# shares (the throttle counts there). Unset (a laptop, `make run`): no broker, the tasks run
# eagerly in the process that queued them, once its transaction commits, and the cache is each
# process's memory. The test suite ignores it: tests that need Redis start their own processes
# on TEST_REDIS_URL.
REDIS_URL = "" if TESTING else env.str("REDIS_URL", default="")
# rediss:// (TLS): the server's certificate is checked ("required") unless this says "none",
# which Heroku Redis's self-signed certificate needs.
REDIS_SSL_CERT_REQS = env.str("REDIS_SSL_CERT_REQS", default="required")
if REDIS_URL.startswith("rediss://") and "ssl_cert_reqs=" not in REDIS_URL:
    REDIS_URL += ("&" if "?" in REDIS_URL else "?") + f"ssl_cert_reqs={REDIS_SSL_CERT_REQS}"
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, keeping its redis clients (storefront.plumbing.redis_cache).
            "BACKEND": "storefront.plumbing.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request a second, not a hang: the throttle
            # then lets it through and /healthz says the cache is degraded.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
# Without Redis, the in-memory broker is only there for eager tasks (their arguments go through
# JSON as they would to a worker); nothing is queued on it.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# An eager task that raises is the caller's error (the on_commit hooks that queue tasks log it).
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queueing happens after the paying transaction commits, in the request: a Redis that does not
# answer costs it seconds, not a minute (the owed row stays, for the stranded-mail sweep).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# A task is acknowledged when it has finished, not when it was handed out: a worker killed
# mid-task (a deploy's SIGKILL, a crash) leaves it to be delivered again, and each task's guard
# (OrderMail's claim in the database, reconcile's lock in Redis) keeps a second delivery from
# doing the work twice. One task reserved at a time per process, so a long one holds back no other.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes per worker (prefork pool); each holds a database connection of its own.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
# Seconds a task may run before its process is killed (the soft limit, three quarters of it,
# raises inside the task first). A mail claim older than this is a dead worker's.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT * 3 // 4)
# Seconds after which Redis hands a task that was delivered but never acknowledged (its worker
# was killed) to another worker. Longer than any task runs and any retry waits.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS |= {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # How often a worker looks for such tasks (kombu's default: every 100 seconds).
    "unacked_restore_interval": min(10, max(1, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
# Log lines keep this site's format and request ids (storefront.plumbing.logging), in the worker
# too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# celery beat's schedule (one beat process per site). Each job runs at fixed times of the clock
# (crontab), not "an interval after beat started": beat's schedule file lives in the instance's
# /tmp, so every deploy and daily restart starts it empty, and an interval would start again
# from zero each time (a shop deploying twice an hour would never reconcile, one restarted daily
# never clear its sessions). Each run expires when the next is due, so a worker back after an
# outage runs one, not a backlog. Without a beat (`make run`): `python manage.py
# periodic_tasks_run` runs each once.
CELERY_BEAT_SCHEDULE = {
    "payments-reconcile": {
        "task": "payments.tasks.payments_reconcile_task",
        "schedule": crontab(minute=10),  # hourly
        "kwargs": {"since_hours": 24},
        "options": {"expires": 3600},
    },
    # Redeliveries counted in the cache, into their events' rows (payments.redeliveries).
    "payments-redeliveries-fold": {
        "task": "payments.tasks.notification_redeliveries_fold_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 300},
    },
    "orders-expire": {
        "task": "storefront.tasks.orders_expire_task",
        "schedule": crontab(minute=40),  # hourly
        "kwargs": {"untouched_days": 2},
        "options": {"expires": 3600},
    },
    "order-mails-resend": {
        "task": "storefront.tasks.order_mails_resend_task",
        "schedule": crontab(minute="2-59/5"),  # every 5 minutes, beside the fold
        "options": {"expires": 300},
    },
    "sessions-clear": {
        "task": "storefront.tasks.sessions_clear_task",
        "schedule": crontab(hour=3, minute=25),  # daily
        "options": {"expires": 86400},
    },
}
