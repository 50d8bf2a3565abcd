"""The image serves every page whichever providers are sandboxed at run time.

No Docker engine runs here, so this does what the image does without one: it runs the
Dockerfile's own collectstatic instruction (its variables as written), then serves the shop
with gunicorn in docker-compose.yml's environment (its defaults as compose would fill them in)
and opens an item page and the static files it names. Two things differ from the container,
both outside what is tested: the database is a SQLite file (compose's `db` host does not
exist here) and compose's Redis is left out (so is its host).
"""

import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from storefront.tests.test_deploy import (
    BASE_DIR,
    VENV_BIN,
    dockerfile_instructions,
    fetch,
    gunicorn,
    run,
)

pytestmark = pytest.mark.django_db(transaction=True)

_COMPOSE_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::(?P<op>[-?])(?P<word>[^}]*))?\}")
#: Hosts of compose's other services, which do not exist outside it.
OTHER_SERVICES = ("DATABASE_URL", "REDIS_URL")


def collectstatic_instruction() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's `RUN ... collectstatic` as (its variables, its command)."""
    (args,) = [
        args
        for name, args in dockerfile_instructions()
        if name == "RUN" and "collectstatic" in args
    ]
    words = shlex.split(args)
    variables = {}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        variables[name] = value
    return variables, words


def compose_environment(tmp_path: Path) -> dict[str, str]:
    """The web service's environment as `docker compose up` fills it in with an empty shell
    environment (and a SECRET_KEY, which compose insists on)."""
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    wanted = compose["services"]["web"]["environment"]
    secret = secrets.token_urlsafe(64)

    def substitute(match: re.Match) -> str:
        if match["name"] == "SECRET_KEY":
            return secret
        assert match["op"] == "-", f"compose needs {match['name']} set"
        return match["word"]

    env = {name: _COMPOSE_VARIABLE.sub(substitute, str(value)) for name, value in wanted.items()}
    for name in OTHER_SERVICES:
        env.pop(name, None)
    return env


def test_the_image_serves_an_item_page_with_the_sandbox_on(tmp_path):
    static_root = tmp_path / "staticfiles"
    base = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "STATIC_ROOT": str(static_root),
    }
    variables, command = collectstatic_instruction()
    assert command[:3] == ["python", "manage.py", "collectstatic"]
    built = subprocess.run(  # noqa: S603 (the Dockerfile's own command)
        [sys.executable, *command[1:]],
        cwd=BASE_DIR,
        env={**base, **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr

    env = {
        **base,
        **compose_environment(tmp_path),
        "READ_ENV_FILE": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    assert env["STRIPE_SANDBOX"] == "1" and env["DEBUG"] == "0"
    for step in (["migrate", "--noinput"], ["load_demo"]):
        result = run([sys.executable, "manage.py", *step], env)
        assert result.returncode == 0, result.stderr

    with gunicorn(env, tmp_path) as server:
        server.wait_until_serving()
        catalogue = fetch(server.port, "/", headers={"Host": "localhost"})
        assert catalogue.status == 200, (catalogue.body[:500], server.output()[-3000:])
        item_path = re.search(rb'href="(/item/\d+)', catalogue.body).group(1).decode()
        item = fetch(server.port, item_path, headers={"Host": "localhost"})
        statics = re.findall(rb'(?:src|href)="(/static/[^"?]+)', item.body)
        served = {
            path.decode(): fetch(server.port, path.decode(), headers={"Host": "localhost"}).status
            for path in statics
        }

    assert catalogue.status == 200, server.output()
    assert item.status == 200, server.output()
    assert any("sandbox/stripe" in path for path in served), served
    assert set(served.values()) == {200}, served
