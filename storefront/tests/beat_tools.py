"""A celery beat scheduler for test_processes, given to beat with `--scheduler`."""

import importlib

from celery.beat import PersistentScheduler


class SlowStoreScheduler(PersistentScheduler):
    """Beat's own scheduler with its schedule in storefront.tests.beat_slow_store, whose first
    open waits for the test, as shelve's first open imports dbm.dumb."""

    @property
    def persistence(self):
        return importlib.import_module("storefront.tests.beat_slow_store")
