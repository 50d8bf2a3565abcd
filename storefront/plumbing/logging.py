"""Log lines for a platform's log stream: one line per record, a request id, no secrets.

Wired up in `settings.LOGGING` and `settings.MIDDLEWARE`:

- `RequestIdMiddleware` takes the request id the platform's router sends (`X-Request-ID`, as
  Heroku and Render do) or makes one, keeps it for the records logged while the request runs,
  echoes it in the response and logs one line per request (never the query string: share links
  carry order keys there).
- `RequestIdFilter` puts that id on every record (`-` outside a request).
- `RedactSecretsFilter` blanks anything shaped like a Stripe secret (`sk_live_…`, `sk_test_…`,
  `rk_live_…`, `whsec_…`) in the message, its arguments and the traceback. The payment layer
  never logs keys; this is the second line of defence, for a mistake yet to be made.
- `JsonLineFormatter` writes each record as one JSON object on one line (tracebacks included).
- A task queued while a request runs carries the request's id in its message
  (`task_request_id_header`, called as Celery publishes it), and the worker puts it back for
  the lines the task logs (`task_request_id_bind`/`_unbind`, around each task: see
  storefront.celery). A task run eagerly runs inside the request and keeps its id anyway.
"""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished

REQUEST_ID_HEADER = "X-Request-ID"
# A router's id is kept only if it is a plain token; anything else could forge log lines.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

SECRET_PATTERN = re.compile(r"\b(sk_live_|sk_test_|rk_live_|rk_test_|whsec_)[A-Za-z0-9_+/=]+")
REDACTED = "[REDACTED]"


def current_request_id() -> str:
    """The id of the request being handled in this thread, `-` when there is none."""
    return _request_id.get()


def redact(text: str) -> str:
    """Replace every Stripe secret in `text` with its prefix and `[REDACTED]`."""
    return SECRET_PATTERN.sub(lambda match: match.group(1) + REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id` attribute (for the formatters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Redact Stripe secrets from a record before any handler formats it.

    The message is merged with its arguments first (so a key passed as `%s` is caught too),
    and an exception's traceback is formatted here and redacted, so the formatter prints the
    redacted text instead of formatting the exception again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "request_id", "request"}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record, on one line: time, level, logger, request id, message.

    Values passed with `extra=` are added when they are plain (str, int, float, bool, None);
    objects such as Django's `request` are left out (their repr carries the query string).
    """

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", _request_id.get()),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and isinstance(value, str | int | float | bool):
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return redact(json.dumps(line, ensure_ascii=False, default=str))


request_logger = logging.getLogger("storefront.requests")


class RequestIdMiddleware:
    """Tag the request with an id (the router's or a new one) and log one line when it ends.

    First in MIDDLEWARE, so every record logged while the request runs carries the id, and so
    is the response header, even on a redirect or an error page. The id stays set until the
    response is closed (`request_finished`): Django logs a 4xx/5xx after the middleware
    returned, and that line belongs to the request too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _ACCEPTED_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        _request_id.set(request_id)
        started = time.monotonic()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        # A platform probes /healthz every few seconds: only its failures are news.
        if not (request.path == "/healthz" and response.status_code == 200):
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        return response


# The message header that carries the queuing request's id to a task.
TASK_REQUEST_ID_HEADER = "shop_request_id"
# Where a worker keeps what to restore after the task (a contextvar token).
_TASK_CONTEXT = "_shop_request_id_context"


def task_request_id_header() -> dict[str, str]:
    """The header that takes this request's id along with a task being queued (none outside
    a request)."""
    request_id = _request_id.get()
    return {} if request_id == "-" else {TASK_REQUEST_ID_HEADER: request_id}


def task_request_id_bind(task_request) -> None:
    """Before a task runs in a worker: its lines carry the id its message brought (`-` if
    none). An eager task (no worker) runs inside the request and keeps the request's id."""
    if task_request is None or getattr(task_request, "is_eager", False):
        return
    request_id = getattr(task_request, TASK_REQUEST_ID_HEADER, None)
    if not (isinstance(request_id, str) and _ACCEPTED_REQUEST_ID.fullmatch(request_id)):
        request_id = "-"
    setattr(task_request, _TASK_CONTEXT, _request_id.set(request_id))


def task_request_id_unbind(task_request) -> None:
    """After a task ran in a worker: the next one starts without its id."""
    token = getattr(task_request, _TASK_CONTEXT, None)
    if token is not None:
        setattr(task_request, _TASK_CONTEXT, None)
        _request_id.reset(token)


def _forget_request_id(**kwargs) -> None:
    _request_id.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="storefront.plumbing.logging.request_id")
