"""The JSON API's contract: the committed OpenAPI schema (docs/openapi.yaml) is what the code
generates, docs/api.md names exactly its operations, the docs page renders under the CSP, and
Schemathesis, run from the live schema against the test server, finds no 5xx, no response
outside the schema and no undocumented status code.

Regenerate the schema after changing an endpoint:
`DEBUG=1 .venv/bin/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml`.
"""

import json
import re
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import checks
from schemathesis.core import NOT_SET, NotSet

from payments.bank_transfer import config
from payments.bank_transfer.models import Organisation
from payments.bank_transfer.webhook import SIGNATURE_HEADER
from payments.signatures import signature_header
from storefront.tests.factories import make_item, make_order

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "openapi.yaml"
GUIDE = ROOT / "docs" / "api.md"
METHODS = {"get", "post", "put", "patch", "delete"}
#: Examples per operation: fixed (and derandomized) so every run makes the same requests.
EXAMPLES = 40


def generated_schema() -> str:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()


def operations(schema: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_committed_schema_is_the_one_the_code_generates():
    assert SCHEMA_FILE.read_text() == generated_schema(), (
        "docs/openapi.yaml is stale: regenerate it with "
        "`DEBUG=1 .venv/bin/python manage.py spectacular --validate --fail-on-warn "
        "--file docs/openapi.yaml`"
    )


def test_the_api_guide_names_every_operation_of_the_schema_and_no_other():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    guide = GUIDE.read_text()
    named = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?]*)`", guide))

    assert operations(schema) - named == set(), "operations docs/api.md does not describe"
    assert named - operations(schema) == set(), "docs/api.md names operations the API lacks"


def test_the_schema_is_served_in_yaml_and_json(client):
    served = client.get("/api/schema/")
    as_json = client.get("/api/schema/?format=json")

    assert served.status_code == 200
    assert yaml.safe_load(served.content) == yaml.safe_load(SCHEMA_FILE.read_text())
    assert (
        json.loads(as_json.content)["paths"].keys()
        == yaml.safe_load(served.content)["paths"].keys()
    )


def test_the_docs_page_renders_every_operation_within_the_csp(page):
    """Swagger UI from the shop's own static files (no CDN): the `page` fixture fails on any
    Content-Security-Policy violation or script error."""
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/docs/")

    page.get_by_text("/api/organizations/{inn}/balance/").wait_for()
    for path in ("/api/webhook/bank/", "/buy/{item_id}/", "/buy/order/{order_id}/"):
        assert page.get_by_text(path, exact=True).count() == 1
    base = page.url.split("/api/docs/")[0]
    assert [url for url in requested if not url.startswith(base)] == []


# --- Schemathesis, against the live server ------------------------------------------------


@pytest.fixture
def live_api_schema(live_server, settings):
    settings.BANK_WEBHOOK_SECRET = ""  # the sandbox bank's secret signs, as under `make run`
    settings.BANK_SANDBOX = True
    # Payments are started, not refused at the limit: the limit has tests of its own.
    settings.SHOP_START_LIMIT = 1_000_000
    return schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")


@pytest.fixture
def balance_reader_token(transactional_db) -> str:
    """A user's API token that may read balances (what docs/api.md has an integrator make)."""
    user = get_user_model().objects.create_user("erp", password="x")
    user.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    return Token.objects.create(user=user).key


@pytest.fixture
def known(transactional_db) -> dict[str, list[str]]:
    """What exists, for half the generated requests to name: items (one in a Stripe currency,
    one in the bank's), an order and its share key, an organisation's INN."""
    card_item = make_item(price="12.50", currency="USD")
    bank_item = make_item(price="10.00", currency="RUB")
    order = make_order((card_item, 2))
    Organisation.objects.create(inn="7707083893", currency="RUB", balance=145000)
    return {
        "item_id": [str(card_item.pk), str(bank_item.pk)],
        "order_id": [str(order.pk)],
        "key": [order.access_key],
        "inn": ["7707083893"],
    }


def naming_what_exists(strategy, known: dict[str, list[str]]):
    """`strategy`'s cases, and as many again whose ids (and share key) are ones that exist."""

    def with_known(case, picks):
        for name, value in picks.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
            elif name == "key" and case.query is not None and "key" in case.query:
                case.query[name] = value
        return case

    picks = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
    return st.one_of(strategy, st.tuples(strategy, picks).map(lambda pair: with_known(*pair)))


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def call_and_check(case, *, base_url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    kwargs = {}
    if case.path == "/api/webhook/bank/" and not isinstance(case.body, NotSet):
        # Signed as the bank signs: over the exact bytes posted, with the sandbox's secret.
        body = json.dumps(case.body).encode()
        headers[SIGNATURE_HEADER] = signature_header(body, config.SANDBOX_SECRET)
        headers["Content-Type"] = "application/json"
        kwargs["data"] = body
        case.body = NOT_SET
    response = case.call(base_url=base_url, headers=headers, **kwargs)
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_as_its_schema_says(
    live_api_schema, live_server, balance_reader_token, known
):
    """Every operation, EXAMPLES generated requests each (schemathesis's strategies, run by
    Hypothesis derandomized, half of them naming what exists), and the schema's examples."""
    operations_run = []
    for result in live_api_schema.get_all_operations():
        operation = result.ok()

        @given(case=naming_what_exists(operation.as_strategy(), known))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            call_and_check(case, base_url=live_server.url, token=balance_reader_token)

        run()
        operations_run.append(operation.label)
    assert len(operations_run) == len(operations(yaml.safe_load(SCHEMA_FILE.read_text())))
