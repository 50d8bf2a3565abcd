"""A NUL character in a request's address is never meant: refuse it before anything reads it.

PostgreSQL refuses `\\x00` in text, so a NUL that reaches a query (an admin list filter
`?status__exact=%00`, an object id, a provider id in a return URL) would be a 500. One check at
the door answers every such request 400 instead, whatever view it was meant for.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from sitewide.api_errors import API_PATH_PREFIXES, error_body

MESSAGE = "The address of this request contains a NUL character."


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            if request.path.startswith(API_PATH_PREFIXES):  # the API's own error shape
                return JsonResponse(error_body(MESSAGE), status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
