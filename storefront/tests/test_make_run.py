"""`make run` is the development server: with DEBUG=0 it refuses at once, in one clear line,
instead of serving 500s (no collected statics) or a traceback (no SECRET_KEY)."""

import os
import shutil
import subprocess
import sys
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
        "gunicorn as docs/deploy.md says."
    ]
    assert "Traceback" not in done.stderr


FAKE_PYTHON = """#!/bin/sh
# Stands in for the venv's python under `make run`: says where this process's e-mail links go.
exec {python} -c '
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
import django
django.setup()
from storefront.documents.mail import shop_link
print(" ".join(sys.argv[2:4]), shop_link("/order/1/"))
' "$@"
"""


def make_run_links(tmp_path: Path, *make_args: str, **env: str) -> list[str]:
    """What each process `make run` starts would put into an e-mail's link (a stand-in venv
    whose python prints it, instead of migrating and serving)."""
    fake_bin = tmp_path / "venv" / "bin"
    fake_bin.mkdir(parents=True)
    python = fake_bin / "python"
    python.write_text(FAKE_PYTHON.format(python=sys.executable))
    python.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k not in ("SHOP_URL", "PORT", "HOST")}
    command = ["make", "--no-print-directory", "-s", "-o", "install", "run"]
    done = subprocess.run(  # noqa: S603 (make, this repository's Makefile)
        [*command, f"VENV={tmp_path / 'venv'}", *make_args],
        cwd=BASE_DIR,
        env={**base, "READ_ENV_FILE": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_links_e_mails_to_the_port_it_serves_on(tmp_path):
    lines = make_run_links(tmp_path, PORT="8801")

    assert lines == [
        "migrate --noinput http://127.0.0.1:8801/order/1/",
        "load_demo http://127.0.0.1:8801/order/1/",
        "ensure_local_admin --if-debug http://127.0.0.1:8801/order/1/",
        "runserver 127.0.0.1:8801 http://127.0.0.1:8801/order/1/",
    ]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_on_every_address_links_to_the_local_one_and_shop_url_wins(tmp_path):
    everywhere = make_run_links(tmp_path / "a", "HOST=0.0.0.0", "PORT=8080")
    chosen = make_run_links(tmp_path / "b", PORT="8801", SHOP_URL="https://shop.example.com")

    assert everywhere[-1] == "runserver 0.0.0.0:8080 http://127.0.0.1:8080/order/1/"
    assert {line.split()[-1] for line in chosen} == {"https://shop.example.com/order/1/"}
