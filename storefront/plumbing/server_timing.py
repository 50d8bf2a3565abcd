"""`Server-Timing: app;dur=<ms>, provider;dur=<ms>` on every response, with SERVER_TIMING=1.

`app` is the whole request as this middleware (the first) sees it; `provider` the part spent
in payment provider calls (`sitewide.timing`). The benchmarks read it (bench/buy.py) to tell the
shop's own time from Stripe's. Off by default: timings tell an outsider how long things take.
"""

import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from sitewide.timing import tally_start, tally_stop


class ServerTimingMiddleware:
    def __init__(self, get_response):
        if not settings.SERVER_TIMING:
            raise MiddlewareNotUsed  # not in the chain at all: no cost when off
        self.get_response = get_response

    def __call__(self, request):
        spent, token = tally_start()
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            tally_stop(token)
        total = time.perf_counter() - started
        response["Server-Timing"] = (
            f"app;dur={total * 1000:.2f}, provider;dur={spent[0] * 1000:.2f}"
        )
        return response
