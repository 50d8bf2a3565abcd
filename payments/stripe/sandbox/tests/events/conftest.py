"""Fixtures of the sandbox's event tests: nothing is sent unless a test sends it, retries are
quick, and `receiver(*statuses)` starts a webhook endpoint on 127.0.0.1."""

import pytest

from payments.stripe.sandbox import events
from payments.stripe.sandbox.tests.events.event_tools import Receiver


@pytest.fixture(autouse=True)
def webhooks_off(settings):
    """Events are recorded, never sent, unless a test sends them itself."""
    settings.STRIPE_SANDBOX_WEBHOOKS = "off"
    return settings


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(events, "RETRY_DELAYS", (0.01, 0.01, 0.01))


@pytest.fixture
def receiver():
    started = []

    def start(*statuses):
        started.append(Receiver(statuses))
        return started[-1]

    yield start
    for server in started:
        server.close()
