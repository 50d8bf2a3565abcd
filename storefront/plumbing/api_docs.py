"""The API's OpenAPI schema (`/api/schema/`, drf-spectacular) and its readable page
(`/api/docs/`: Swagger UI from drf-spectacular-sidecar, served by the shop).

The page is the split view: its settings come in a script of their own rather than inline, and
its template has no inline style, so the site's Content-Security-Policy ('self' only) holds on
it as on every page. Both negotiate as DRF does by default (`?format=json` for JSON), unlike
the API's endpoints (sitewide.api_errors.AlwaysJson): the schema has a YAML and a JSON form.
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.negotiation import DefaultContentNegotiation


class SchemaView(SpectacularAPIView):
    content_negotiation_class = DefaultContentNegotiation


class DocsView(SpectacularSwaggerSplitView):
    content_negotiation_class = DefaultContentNegotiation
    template_name = "api/swagger_ui.html"
    url_name = "api_schema"
    title = "Storefront API"


def one_spelling_per_route(endpoints: list) -> list:
    """drf-spectacular's preprocessing hook: `/buy/{id}` answers as `/buy/{id}/` does
    (storefront.urls.both_spellings); the schema shows the slashed spelling, whose
    description says so, rather than every operation twice."""
    paths = {path for path, *_ in endpoints}
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].endswith("/") or endpoint[0] + "/" not in paths
    ]
