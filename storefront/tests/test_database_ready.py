"""`make test-postgres`, `make test-mysql` and `make lint-migrations` ask `.ci/database_ready.py`
before they run: where the server answers but the named database is missing, it is made (the
pass runs); where nothing answers it says so, and never says "nothing answers" of a server that
does. Each case needs its server: skipped, saying so, where none answers (a failure under CI)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = BASE_DIR / ".ci" / "database_ready.py"
SERVERS = {
    "postgres": os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}


def ready(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this repository's script)
        [sys.executable, str(SCRIPT), url], capture_output=True, text=True, timeout=60
    )


def on_server(kind: str, name: str) -> str:
    """The test server's URL (TEST_POSTGRES_URL / TEST_MYSQL_URL) naming database `name`."""
    base = SERVERS[kind].split("?", 1)[0].rsplit("/", 1)[0]
    answered = ready(SERVERS[kind])
    if answered.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no {kind} server for this test: {answered.stdout}")
        pytest.skip(f"no {kind} server for this test: {answered.stdout.strip()}")
    return f"{base}/{name}"


def drop(kind: str, url: str, name: str) -> None:
    if kind == "postgres":
        import psycopg

        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    else:
        import environ
        import MySQLdb

        config = environ.Env.db_url_config(url)
        connection = MySQLdb.connect(
            host=config["HOST"], port=int(config["PORT"] or 3306), user=config["USER"],
            password=config["PASSWORD"],
        )  # fmt: skip
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_a_missing_database_on_a_server_that_answers_is_made(kind):
    name = f"ready_{uuid.uuid4().hex[:10]}"
    url = on_server(kind, name)
    try:
        first, again = ready(url), ready(url)
    finally:
        drop(kind, url, name)

    assert (first.returncode, first.stdout.strip()) == (
        0,
        f"Created the missing database '{name}' at {url}.",
    )
    assert (again.returncode, again.stdout) == (0, "")
    assert "nothing answers" not in first.stdout


@pytest.mark.parametrize("scheme", ["postgres", "mysql"])
def test_a_server_that_does_not_answer_is_named(scheme):
    url = f"{scheme}://root@127.0.0.1:9/shop"  # the discard port: nothing listens there

    answered = ready(url)

    assert answered.returncode == 1
    assert answered.stdout.startswith(f"nothing answers at {url} (")
