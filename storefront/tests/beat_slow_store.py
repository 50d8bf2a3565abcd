"""Celery beat's schedule store for one test (test_processes): shelve, but importing it, which
beat's first open of the schedule does, takes until the test lets it go on.

That is where CI once caught Celery's SIGTERM handler: shelve's first open imports dbm's
backend (dbm.dumb), and the handler opened the schedule again under that import. Importing
this module says so on stderr, then waits for the file named in BEAT_STORE_RELEASE.
"""

import os
import shelve
import sys
import time
from pathlib import Path

print("beat store: importing", file=sys.stderr, flush=True)
_release = Path(os.environ["BEAT_STORE_RELEASE"])
while not _release.exists():
    time.sleep(0.01)


def open(filename, flag="c", protocol=None, writeback=False):
    return shelve.open(filename, flag, protocol, writeback)  # noqa: S301 (beat's own file)
