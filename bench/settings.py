"""The shop's own settings, plus what only the benchmarks need.

`bench.urls` adds a trivial view (`/bench/ok`) beside the shop's routes, so the shop's URLconf
stays as it is. `BENCH_STATEMENTS=1` counts each request's SQL statements in a response header
(`bench.middleware`), and `BENCH_PROVIDER_CPU=1` the CPU its thread spent in Stripe calls. An
app without its own Server-Timing hook (an older checkout measured as "before") gets the same
measurement from `bench.middleware` when `SERVER_TIMING=1`.
"""

import importlib.util
import os

from storefront.settings import *  # noqa: F403
from storefront.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"

_first = []
if os.environ.get("BENCH_STATEMENTS") == "1":
    _first.append("bench.middleware.StatementCountMiddleware")
if os.environ.get("BENCH_PROVIDER_CPU") == "1":
    _first.append("bench.middleware.ProviderCpuMiddleware")
if os.environ.get("SERVER_TIMING") == "1" and importlib.util.find_spec("sitewide.timing") is None:
    _first.append("bench.middleware.ServerTimingBackportMiddleware")
MIDDLEWARE = [*_first, *MIDDLEWARE]
