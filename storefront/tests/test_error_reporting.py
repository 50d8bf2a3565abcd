"""A site that reports its own errors: to Sentry when SENTRY_DSN is set (secrets scrubbed, no
personal data), by e-mail to ADMINS otherwise, and nowhere at all when neither is set."""

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from storefront.plumbing.error_reporting import event_scrub, sentry_init
from storefront.tests.test_deploy import BASE_DIR, production_env

SECRET = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"


class _SentryIngest(BaseHTTPRequestHandler):
    """Stands in for Sentry's ingest endpoint: keeps each envelope's bytes."""

    envelopes: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.envelopes.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def ingest():
    _SentryIngest.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SentryIngest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://public@127.0.0.1:{server.server_port}/1", _SentryIngest.envelopes
    server.shutdown()
    server.server_close()
    sentry_sdk.init(dsn=None)  # this process reports nothing again


def test_every_string_of_an_event_is_scrubbed():
    event = {
        "exception": {"values": [{"value": f"Stripe said no to {SECRET}"}]},
        "extra": {"frames": [{"vars": {"key": SECRET, "n": 3}}]},
        "breadcrumbs": [("message", f"key={SECRET}")],
    }

    scrubbed = json.dumps(event_scrub(event))

    assert SECRET not in scrubbed
    assert scrubbed.count("sk_live_[REDACTED]") == 3
    assert '"n": 3' in scrubbed


def test_share_link_keys_and_cookies_never_leave():
    event = {"request": {"url": "/order/5/", "query_string": "key=abc", "cookies": "s=1"}}

    assert event_scrub(event) == {"request": {"url": "/order/5/"}}


def test_an_error_reaches_sentry_without_the_secret_in_it(ingest):
    dsn, envelopes = ingest
    sentry_init(dsn=dsn, environment="test", release="abc123", traces_sample_rate=0.0)

    try:
        key = SECRET
        raise RuntimeError(f"the provider refused {key}")
    except RuntimeError as error:
        sentry_sdk.capture_exception(error)
    sentry_sdk.flush(timeout=5)

    assert envelopes, "nothing reached the ingest endpoint"
    sent = b"".join(envelopes).decode()
    assert "the provider refused sk_live_[REDACTED]" in sent
    assert SECRET not in sent
    assert '"environment":"test"' in sent.replace(" ", "")


PROBE = """
import json, logging.config, sentry_sdk, django
django.setup()
from django.conf import settings
print(json.dumps({
    "sentry_active": sentry_sdk.get_client().is_active(),
    "admins": settings.ADMINS,
    "request_handlers": settings.LOGGING["loggers"].get("django.request", {}).get("handlers", []),
}))
"""


def _probe(env: dict[str, str]) -> dict:
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "storefront.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_dsn_nothing_is_started_and_admins_get_mail(tmp_path):
    found = _probe(production_env(tmp_path, ADMINS="ops@example.com,cto@example.com"))

    assert found["sentry_active"] is False
    assert found["admins"] == [["", "ops@example.com"], ["", "cto@example.com"]]
    assert found["request_handlers"] == ["mail_admins"]


def test_with_a_dsn_sentry_reports_and_admins_are_not_mailed(tmp_path):
    found = _probe(
        production_env(tmp_path, SENTRY_DSN="http://public@127.0.0.1:9/1", ADMINS="ops@example.com")
    )

    assert found["sentry_active"] is True
    assert found["request_handlers"] == []


def test_with_neither_nothing_is_reported(tmp_path):
    found = _probe(production_env(tmp_path))

    assert found == {"sentry_active": False, "admins": [], "request_handlers": []}
