"""The catalogue's pages and the item pages as rendered, kept so that a page is rendered once
per change of what it shows rather than once per request.

What is kept: a page's HTML with markers where each request's own parts go, the CSRF token of
its forms and its own address (the forms' `next`). A request gets the kept page with its own
parts spliced in: its browser's token, or a new one with its cookie, as `{% csrf_token %}`
would have written. Nothing else on these pages depends on who asks (no cart, no user, one
language), so a kept page is answered without the database or the session. A browser with
messages waiting (after a redirect) gets a page rendered for it, which is not kept.

Where: in each process's memory (Django's LocMemCache, at most PAGES_KEPT pages, each for at
most KEPT_SECONDS), never in Redis: the shop's Redis is also Celery's broker, and with its
`noeviction` policy a memory filled with pages would refuse tasks.

Whether a kept page is current: it carries the page version it was rendered at, a short random
value in the shared cache (Redis with REDIS_URL: the same for every process and instance).
`shop_pages_changed()` replaces it when the transaction changing what the pages show commits;
the admin's saves and deletes of items and taxes call it, and so does `load_demo`. The process
that replaced it knows at once; the others go on trusting the version they last read for
`settings.SHOP_PAGE_VERSION_SECONDS` (a quarter of a second), so that a kept page costs no
round trip to Redis (one costs a request more than the rest of a kept page's work), and show
the change that much later at most (0: every request asks). Everything
else a page shows comes from settings and code (the currencies offered, the rails and their
accounts, the payment flow, the templates, the static files' hashed names), which change only
with a restart, and a process starts with nothing kept; a setting changed while a process runs
(tests do it) empties its pages. A change made another way (a shell, `loaddata`) shows within
KEPT_SECONDS, or at once after `shop_pages_changed()`.

`settings.SHOP_PAGE_CACHE` turns it on: by default with REDIS_URL, where every process sees the
same version, and in tests; not on a laptop (`make run`, DEBUG: an edited template shows on the
next request) nor where processes share no cache (each would keep pages another process's
change cannot reach). When the shared cache does not answer, pages are rendered every time and
this process's kept ones are dropped; the cache is asked again after a few seconds.
"""

import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import get_language

from storefront.plumbing.shared_cache import CacheOutage

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Pages one process keeps at most (the least recently used go first): about 5 KB an item
#: page, 20 KB a catalogue page.
PAGES_KEPT = 1000
#: How long a kept page is used at most (seconds), whatever the version says.
KEPT_SECONDS = 300
VERSION_KEY = "shop-pages:version"

# Where each request's parts go. Random per process, so no content can hold them by chance or
# design; the token's has a token's shape (64 letters and digits, which no escaping changes).
_CSRF_MARK = secrets.token_hex(32)
_PATH_MARK = f"page-path-{secrets.token_hex(16)}"
_CSRF_MARK_BYTES = _CSRF_MARK.encode()
_PATH_MARK_BYTES = _PATH_MARK.encode()

_kept = LocMemCache(
    "storefront.plumbing.page_cache",
    {"TIMEOUT": KEPT_SECONDS, "OPTIONS": {"MAX_ENTRIES": PAGES_KEPT, "CULL_FREQUENCY": 4}},
)


def new_outage() -> CacheOutage:
    return CacheOutage(
        logger,
        "page cache: the shared cache cannot be reached (%s); pages are rendered every time",
    )


outage = new_outage()
# (version, when it was read); a version is None while there is none to trust.
_NOTHING_READ = (None, -math.inf)
_last_read = _NOTHING_READ


def page_render(request: HttpRequest, template_name: str, context: dict) -> HttpResponse:
    """`template_name` rendered as a page `shop_page` may keep: with markers for the CSRF
    token and for `page_path`, the page's own address."""
    response = render(
        request, template_name, {**context, "csrf_token": _CSRF_MARK, "page_path": _PATH_MARK}
    )
    response.keepable = True
    return response


def shop_page(
    request: HttpRequest, key: tuple, rendered: Callable[[], HttpResponse]
) -> HttpResponse:
    """The page `key` (what selects it: its kind and the view's arguments) for this request:
    the kept one while it is current, else `rendered()` (kept if it is a `page_render` of
    200), with this request's CSRF token and address in it."""
    if not settings.SHOP_PAGE_CACHE or len(get_messages(request)):
        return _spliced(request, rendered())
    version, kept = _kept_current(key)
    if kept is not None:
        content, content_type = kept
        return HttpResponse(_splice(request, content), content_type=content_type)
    response = rendered()
    keepable = getattr(response, "keepable", False) and response.status_code == 200
    if version is not None and keepable:
        _kept.set(_kept_key(key), (version, (response.content, response["Content-Type"])))
    return _spliced(request, response)


def shop_value(key: tuple, computed: Callable[[], object]) -> object:
    """A value read from what the pages show (a currency's taxes for new orders), kept beside
    the pages and out of date with them: the same version decides, so a buyer is charged what
    the page they bought from showed. A copy each time (the cache pickles it). Computed every
    time where pages are not kept or the shared cache does not answer."""
    key = ("value", *key)
    version, kept = _kept_current(key) if settings.SHOP_PAGE_CACHE else (None, None)
    if kept is not None:
        return kept
    value = computed()
    if version is not None:
        _kept.set(_kept_key(key), (version, value))
    return value


def kept_values_written(write: Callable[[], _T], *, again: Callable[[], _T] | None = None) -> _T:
    """`write()`, a transaction (the caller in none) writing rows that name what `shop_value`
    keeps: an item, the taxes for new orders. One deleted in a way the pages were not told of
    (a shell, SQL) is still kept for up to KEPT_SECONDS, and the database refuses what names it
    (IntegrityError: nothing written). Then every kept page and value is out of date
    (`shop_pages_changed`, in every process), and `again` (by default `write`) runs once more,
    reading afresh."""
    try:
        return write()
    except IntegrityError:
        shop_pages_changed()
        return (again or write)()


def _kept_current(key: tuple) -> tuple[str | None, object | None]:
    """(the current version, what is kept under `key` at it, else None); (None, None) while
    the shared cache does not answer, when nothing may be kept."""
    version = _version()
    if version is None:
        return None, None
    kept = _kept.get(_kept_key(key))
    return version, kept[1] if kept is not None and kept[0] == version else None


def shop_pages_changed() -> None:
    """Every kept page is out of date, in every process, once the current transaction commits
    (at once outside one): call it wherever what the catalogue or an item page shows changes."""
    transaction.on_commit(_version_replace)


def pages_forget() -> None:
    """Drop the pages this process keeps, and the version it last read (each test starts with
    neither)."""
    global _last_read
    _kept.clear()
    _last_read = _NOTHING_READ


def _version_replace() -> None:
    global _last_read
    pages_forget()
    version = secrets.token_hex(8)
    try:
        cache.set(VERSION_KEY, version, timeout=None)
        _last_read = (version, _monotonic())
    except Exception as exc:
        outage.happened(exc)
        logger.warning(
            "page cache: the shared cache cannot be reached (%s) to say the pages changed; "
            "other processes may show them as they were for up to %d seconds",
            type(exc).__name__,
            KEPT_SECONDS,
        )


def _version() -> str | None:
    """The current page version (made if there is none), as read at most
    SHOP_PAGE_VERSION_SECONDS ago; None while the shared cache does not answer."""
    global _last_read
    version, read_at = _last_read
    now = _monotonic()
    if now - read_at < settings.SHOP_PAGE_VERSION_SECONDS:
        return version
    if outage.ongoing():
        return None
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            made = secrets.token_hex(8)
            version = made if cache.add(VERSION_KEY, made, timeout=None) else cache.get(VERSION_KEY)
    except Exception as exc:
        # A change may go unrecorded while it does not answer: nothing kept is trusted after.
        outage.happened(exc)
        pages_forget()
        return None
    if version is not None:
        _last_read = (version, now)
    return version


def _monotonic() -> float:
    return time.monotonic()


def _kept_key(key: tuple) -> str:
    return hashlib.blake2b(repr((get_language(), key)).encode(), digest_size=16).hexdigest()


def _splice(request: HttpRequest, content: bytes) -> bytes:
    if _CSRF_MARK_BYTES in content:
        content = content.replace(_CSRF_MARK_BYTES, get_token(request).encode())
    return content.replace(_PATH_MARK_BYTES, escape(request.get_full_path()).encode())


def _spliced(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if getattr(response, "keepable", False):
        response.content = _splice(request, response.content)
    return response


def _settings_changed(**kwargs) -> None:
    pages_forget()


setting_changed.connect(_settings_changed)
