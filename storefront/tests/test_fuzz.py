"""Every route of the site, driven with generated ids, query strings, methods and bodies (NUL
bytes, huge values, unicode, malformed JSON): nothing answers 5xx, nothing shows a traceback,
and the database grows by a bounded number of rows however many requests arrive.

Hypothesis runs a small fixed number of examples (it is part of `make test`, on SQLite and on
PostgreSQL); `HYPOTHESIS_EXAMPLES=2000` runs more by hand.
"""

import collections
import os
import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storefront.tests.factories import make_item

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "150"))
# Rows all the fuzzed requests together may add: bounded records (a rejection row per rail,
# account and hour; an order per browser at most), never one row per request.
GROWTH_LIMIT = 40


def _routes(patterns, prefix: str = "") -> list[str]:
    """Every route as a pattern string with `<converter:name>` placeholders."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return sorted(set(found))


PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")
NASTY_TEXT = st.one_of(
    # Values that reach views, not only the resolver's 404: ids that exist, known slugs.
    st.sampled_from(["1", "2", "usd", "eur", "stripe", "bank_transfer", "payparts", "bank"]),
    st.text(max_size=40),
    st.sampled_from(["\x00", "%00", "a" * 600, "cs_test_" + "a" * 500, "pi_\x00", "../..", "💶"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from(
        [b"", b"\x00", b"{", b"[]", b"null", b'{"id": "\x00"}', b'{"id": 1, "type": []}',
         b"x" * 200_000, '{"amount": "💶"}'.encode()]
    ),
)  # fmt: skip
QUERIES = st.dictionaries(
    st.sampled_from(["key", "session_id", "payment_intent", "currency", "rail", "item", "order",
                     "q", "o", "p", "status__exact", "next", "parts", "orderId"]),
    NASTY_TEXT,
    max_size=4,
)  # fmt: skip


def _path(route: str, values: list[str]) -> str:
    parts = iter(values)
    return "/" + PLACEHOLDER.sub(lambda m: next(parts), route).lstrip("^").rstrip("$")


def _rows() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def shop():
    make_item(name="Notebook", price="19.99", currency="USD")
    make_item(name="Tote", price="24.00", currency="EUR")


def test_no_route_answers_5xx_or_grows_the_database_without_bound(shop):
    routes = _routes(get_resolver().url_patterns)
    assert len(routes) > 20  # the shop, payments, the rails, the sandboxes, the admin
    # The admin's many routes all start with the login redirect: visit the rest more often.
    public = [route for route in routes if not route.startswith("admin/")]
    admin = [route for route in routes if route.startswith("admin/")]
    before = _rows()
    client = Client(raise_request_exception=False)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        route=st.one_of(st.sampled_from(public), st.sampled_from(public), st.sampled_from(admin)),
        values=st.lists(NASTY_TEXT, min_size=3, max_size=3),
        method=st.sampled_from(["get", "post", "put", "delete", "head"]),
        query=QUERIES,
        body=BODIES,
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded"]
        ),
    )  # fmt: skip
    def request_anything(route, values, method, query, body, content_type):
        path = _path(route, values)
        send = getattr(client, method)
        if method in ("post", "put"):
            response = send(path, body, content_type=content_type, QUERY_STRING="")
        else:
            response = send(path, query)
        assert response.status_code < 500, (method, path, query, response.status_code)
        text = b"".join(response) if response.streaming else response.content
        assert b"Traceback" not in text
        seen[response.status_code] += 1

    seen = collections.Counter()
    request_anything()
    after = _rows()
    grown = {
        label: after[label] - before[label] for label in after if after[label] != before[label]
    }
    assert sum(grown.values()) <= GROWTH_LIMIT, (grown, dict(seen))
