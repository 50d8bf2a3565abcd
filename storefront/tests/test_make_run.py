"""`make run` is the development server: with DEBUG=0 it refuses at once, in one clear line,
instead of serving 500s (no collected statics) or a traceback (no SECRET_KEY)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_with_debug_off_refuses_in_one_line():
    env = {**os.environ, "DEBUG": "0"}
    # -o install: the virtualenv this test runs in is the one make would make.
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", "install", "run"],  # noqa: S607
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert done.stdout.strip().splitlines() == [
        "make run is the development server and needs DEBUG=1; for production settings run "
        "gunicorn as the README's Deploy section says."
    ]
    assert "Traceback" not in done.stderr
