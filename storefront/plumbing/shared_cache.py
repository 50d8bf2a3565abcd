"""What a process remembers of the shared cache (Redis, with REDIS_URL) not answering.

The throttle counts in that cache (storefront.plumbing.throttle) and the page cache asks it which
kept pages are current (storefront.plumbing.page_cache). When it does not answer, neither stops the
shop: calls go through uncounted, pages are rendered afresh. Each of them remembers the failure in
its own `CacheOutage`, so that for a few seconds it does not ask again (a Redis that does not
answer costs a request its socket timeout, a second) and says so in its own words, at most once
a minute.
"""

import logging
import math
import threading
import time

# The cache's unreachability is logged at most this often (seconds), per process and user.
CACHE_DOWN_LOG_INTERVAL = 60
# After the cache failed, it is not asked again for this long (seconds), per process: a cache
# that does not answer costs a request its timeout every few seconds, not every request.
CACHE_RETRY_SECONDS = 5


def _monotonic() -> float:
    return time.monotonic()


class CacheOutage:
    """One process's memory of the cache failing, for one of its users: when to ask it again,
    when it was said. `said` is the warning, with `%s` for the error's class."""

    def __init__(self, logger: logging.Logger, said: str) -> None:
        self._lock = threading.Lock()
        self._logger = logger
        self._said = said
        self.retry_at = -math.inf
        self.logged_at = -math.inf

    def ongoing(self) -> bool:
        return _monotonic() < self.retry_at

    def happened(self, exc: Exception) -> None:
        """Note the failure; say it at most once a minute."""
        now = _monotonic()
        with self._lock:
            self.retry_at = now + CACHE_RETRY_SECONDS
            if now - self.logged_at < CACHE_DOWN_LOG_INTERVAL:
                return
            self.logged_at = now
        # The class only: a cache client's message may name its server and credentials.
        self._logger.warning(self._said, type(exc).__name__)
