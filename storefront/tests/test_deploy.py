"""Deployment: production settings, startup refusals, gunicorn as the Procfile runs it, the
platform files (Procfile, runtime.txt, render.yaml, app.json, Dockerfile, docker-compose.yml),
`/healthz` and the log lines.

The app is run the way a platform runs it: in a subprocess, with an environment built from
scratch (no .env, nothing from this test run), on 127.0.0.1 only, every wait bounded.
"""

import html
import http.client
import io
import json
import logging
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import psycopg
import pytest
import stripe
import yaml
from django.conf import settings as django_settings
from django.db import OperationalError

from storefront.plumbing.logging import JsonLineFormatter, current_request_id, redact

BASE_DIR = Path(django_settings.BASE_DIR)
# The venv's bin directory (python, gunicorn): not resolved, so the venv stays active.
VENV_BIN = Path(sys.executable).parent
SHOP_HOST = "shop.example.com"
TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
# Whatever runs longer than this is stuck: fail, never hang.
COMMAND_TIMEOUT = 60
START_TIMEOUT = 30

FAKE_STRIPE_KEYS = {
    f"STRIPE_{code}_{name}": f"{prefix}deploy0{code.lower()}0fake0value"
    for code in ("USD", "EUR")
    for name, prefix in (
        ("SECRET_KEY", "sk_test_"),
        ("PUBLISHABLE_KEY", "pk_test_"),
        ("WEBHOOK_SECRET", "whsec_"),
    )
}


# --- Running the app as a platform does ------------------------------------------------------


def production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """A production-like environment from scratch; `NAME=None` leaves NAME out."""
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        # gunicorn keeps its control socket under $HOME: the test's own, not the user's.
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "READ_ENV_FILE": "0",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": SHOP_HOST,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        # Buyers' e-mails go somewhere real (nothing is sent here: no order is paid).
        "EMAIL_URL": "smtp+tls://shop:password@smtp.example.com:587",
        "DEFAULT_FROM_EMAIL": f"Storefront <shop@{SHOP_HOST}>",
        "SHOP_URL": f"https://{SHOP_HOST}",
        **FAKE_STRIPE_KEYS,
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(command: str | list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a command (a string goes through `sh -c`, as platforms run Procfile lines)."""
    args = ["sh", "-c", command] if isinstance(command, str) else command
    return subprocess.run(  # noqa: S603 (our own commands)
        args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )


def procfile() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def local_web_command() -> str:
    """The Procfile's web command, listening on 127.0.0.1 instead of every interface.

    PORT stays `$PORT`, expanded by the shell from the environment, as on the platforms.
    """
    command = procfile()["web"]
    assert "--bind 0.0.0.0:$PORT" in command
    return command.replace("--bind 0.0.0.0:$PORT", "--bind 127.0.0.1:$PORT")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> Response:
    """GET from 127.0.0.1:port without following redirects."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path
    started: float

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> float:
        """Poll /healthz until it answers 200; return the seconds since the start."""
        deadline = self.started + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited ({self.process.returncode}):\n{self.output()}")
            try:
                if fetch(self.port, "/healthz").status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not serve /healthz in {START_TIMEOUT}s:\n{self.output()}")

    def wait_for_exit(self) -> int:
        try:
            return self.process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"gunicorn still runs after {START_TIMEOUT}s:\n{self.output()}")


def _stop(process: subprocess.Popen) -> None:
    """Stop the shell and gunicorn under it (their own process group), politely first."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def gunicorn(env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    """The Procfile's web command on a free port of 127.0.0.1; always stopped afterwards."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            ["sh", "-c", local_web_command()],  # noqa: S607
            cwd=BASE_DIR,
            env={**env, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield Server(process, port, log_path, time.monotonic())
        finally:
            _stop(process)


# --- Production settings ---------------------------------------------------------------------


def test_check_deploy_passes_with_production_variables(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(tmp_path),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    name: getattr(s, name)
    for name in (
        "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER", "SECURE_REDIRECT_EXEMPT", "SECURE_REFERRER_POLICY",
        "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
    )
} | {"STATIC_ROOT": str(s.STATIC_ROOT), "STATICFILES": s.STORAGES["staticfiles"]["BACKEND"]}
  | {name: s.DATABASES["default"][name] for name in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}))
"""


def probe_settings(env: dict[str, str]) -> dict:
    result = run(
        [sys.executable, "-c", SETTINGS_PROBE],
        {**env, "DJANGO_SETTINGS_MODULE": "storefront.settings"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_secure_and_render_host_is_allowed(tmp_path):
    found = probe_settings(
        production_env(tmp_path, RENDER_EXTERNAL_HOSTNAME="storefront-x1.onrender.com")
    )

    assert found["DEBUG"] is False
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_HSTS_SECONDS"] == 31_536_000
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["SECURE_REDIRECT_EXEMPT"] == ["^healthz$"]
    assert found["SECURE_REFERRER_POLICY"] == "same-origin"
    assert found["ALLOWED_HOSTS"] == [SHOP_HOST, "storefront-x1.onrender.com"]
    assert found["CSRF_TRUSTED_ORIGINS"] == ["https://storefront-x1.onrender.com"]
    assert found["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert found["STATIC_ROOT"] == str(tmp_path / "staticfiles")
    # Persistent connections, each tested before a request reuses it.
    assert found["CONN_MAX_AGE"] == 60
    assert found["CONN_HEALTH_CHECKS"] is True


def test_environment_overrides_and_empty_values(tmp_path):
    found = probe_settings(
        production_env(
            tmp_path,
            SECURE_HSTS_SECONDS="3600",
            SESSION_COOKIE_SECURE="0",
            SECURE_SSL_REDIRECT="",  # empty: the default
            CSRF_TRUSTED_ORIGINS="https://shop.example.com",
            CONN_MAX_AGE="0",
        )
    )

    assert found["SECURE_HSTS_SECONDS"] == 3600
    assert found["SESSION_COOKIE_SECURE"] is False
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["CSRF_TRUSTED_ORIGINS"] == ["https://shop.example.com"]
    assert found["CONN_MAX_AGE"] == 0
    assert found["CONN_HEALTH_CHECKS"] is False


def test_a_laptop_needs_no_secret_key_and_no_https(tmp_path):
    """`make run`: DEBUG=1, no SECRET_KEY, no Stripe keys, plain http://127.0.0.1."""
    env = production_env(tmp_path, DEBUG="1", SECRET_KEY=None, ALLOWED_HOSTS=None)
    found = probe_settings({k: v for k, v in env.items() if not k.startswith("STRIPE_")})

    assert found["DEBUG"] is True
    assert found["SECURE_SSL_REDIRECT"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0
    assert found["SESSION_COOKIE_SECURE"] is False
    assert found["CSRF_COOKIE_SECURE"] is False
    assert found["STATICFILES"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert found["CONN_MAX_AGE"] == 0


# --- Startup refusals ------------------------------------------------------------------------

WITHOUT_EUR_KEYS = {name: None for name in FAKE_STRIPE_KEYS if name.startswith("STRIPE_EUR_")}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"SECRET_KEY": None}, ["SECRET_KEY is not set"], id="no-secret-key"),
        pytest.param({"SECRET_KEY": ""}, ["SECRET_KEY is not set"], id="empty-secret-key"),
        pytest.param(
            {"SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(48)},
            ["SECRET_KEY is not a real secret key"],
            id="placeholder-secret-key",
        ),
        pytest.param(
            {"SECRET_KEY": secrets.token_urlsafe(24)},
            ["SECRET_KEY is not a real secret key"],
            id="short-secret-key",
        ),
        pytest.param(
            WITHOUT_EUR_KEYS,
            ["payments.E002", "STRIPE_EUR_SECRET_KEY", "STRIPE_SANDBOX=1"],
            id="currency-without-keys",
        ),
    ],
)
def test_gunicorn_refuses_to_start(tmp_path, changes, expected):
    """The Procfile's web command exits, non-zero, saying which variable to set."""
    with gunicorn(production_env(tmp_path, **changes), tmp_path) as server:
        returncode = server.wait_for_exit()
        output = server.output()

    assert returncode != 0
    for text in expected:
        assert text in output
    assert "STRIPE_USD_" not in output  # USD has its keys: only what is wrong is named


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"SECRET_KEY": None}, ["SECRET_KEY is not set"], id="no-secret-key"),
        pytest.param(
            WITHOUT_EUR_KEYS, ["payments.E002", "STRIPE_EUR_SECRET_KEY"], id="currency-without-keys"
        ),
    ],
)
def test_release_step_refuses_too(tmp_path, changes, expected):
    """The Procfile's release step (check, migrate) stops the deploy before the new code serves."""
    result = run(procfile()["release"], production_env(tmp_path, **changes))

    assert result.returncode != 0
    for text in expected:
        assert text in result.stdout + result.stderr


def test_gunicorn_starts_on_the_sandbox_when_it_is_asked_for(tmp_path):
    """No EUR keys but STRIPE_SANDBOX=1: it starts; Docker's HEALTHCHECK finds it healthy."""
    env = production_env(tmp_path, STRIPE_SANDBOX="1", **WITHOUT_EUR_KEYS)
    with gunicorn(env, tmp_path) as server:
        server.wait_until_serving()
        health = fetch(server.port, "/healthz")
        healthcheck = run(dockerfile_healthcheck(), {**env, "PORT": str(server.port)})

    assert health.status == 200
    assert health.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert healthcheck.returncode == 0, healthcheck.stderr


# --- gunicorn against PostgreSQL, as deployed ------------------------------------------------


@pytest.fixture
def deploy_database() -> Iterator[str]:
    """A database of its own on the test PostgreSQL (never pytest-django's), dropped after."""
    try:
        admin = psycopg.connect(TEST_POSTGRES_URL, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        where = urlsplit(TEST_POSTGRES_URL)
        message = (
            f"gunicorn-on-PostgreSQL test: nothing answers at {where.hostname}:{where.port or 5432}"
            f" ({type(exc).__name__}); set TEST_POSTGRES_URL"
        )
        if os.environ.get("CI") == "true":  # CI refuses to skip, as for the PostgreSQL pass
            pytest.fail(message)
        pytest.skip(message)
    name = f"storefront_deploy_test_{os.getpid()}"
    try:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        yield urlsplit(TEST_POSTGRES_URL)._replace(path=f"/{name}").geturl()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_gunicorn_serves_the_shop_on_postgres(tmp_path, deploy_database):
    """Release (migrate), build (collectstatic), demo data, then the Procfile's web command."""
    env = production_env(tmp_path, DATABASE_URL=deploy_database)
    for command in (
        procfile()["release"],
        "python manage.py collectstatic --noinput",
        "python manage.py load_demo",
    ):
        result = run(command, env)
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["css/shop.css"]
    assert hashed_css != "css/shop.css"
    request_id = f"deploy-test-{uuid.uuid4().hex}"
    https = {"Host": SHOP_HOST, "X-Forwarded-Proto": "https"}

    with gunicorn(env, tmp_path) as server:
        seconds_to_serve = server.wait_until_serving()
        plain = fetch(server.port, "/", {"Host": SHOP_HOST})
        page = fetch(server.port, "/", {**https, "X-Request-ID": request_id})
        static = fetch(server.port, f"/static/{hashed_css}", {**https, "Accept-Encoding": "gzip"})
        health = fetch(server.port, "/healthz", {"Host": "10.0.0.7:10000"})  # a probe's Host
        unknown_host = fetch(server.port, "/", {"Host": "10.0.0.7:10000"})

    assert seconds_to_serve < START_TIMEOUT
    # Plain HTTP is sent to HTTPS; behind the proxy (X-Forwarded-Proto) the shop answers.
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://{SHOP_HOST}/"
    assert page.status == 200, page.body[:2000]
    assert html.escape("Field Notes Notebook") in page.body.decode()
    assert f"/static/{hashed_css}" in page.body.decode()
    assert page.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert page.headers["X-Request-ID"] == request_id
    assert "Secure" in page.headers["Set-Cookie"]  # the CSRF cookie of the page's forms
    # WhiteNoise: the hashed name, compressed, cached for ever.
    assert static.status == 200
    assert static.headers["Content-Encoding"] == "gzip"
    assert "immutable" in static.headers["Cache-Control"]
    # /healthz over plain HTTP with any Host; every other page still checks the Host.
    assert health.status == 200
    assert health.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert unknown_host.status == 400
    # One JSON line per record on stdout, with the request's id, and no secret.
    output = server.output()
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (request_line,) = [
        r for r in records if r["logger"] == "storefront.requests" and r["request_id"] == request_id
    ]
    assert (request_line["method"], request_line["path"], request_line["status"]) == (
        "GET",
        "/",
        200,
    )
    for value in FAKE_STRIPE_KEYS.values():
        if not value.startswith("pk_"):
            assert value not in output


# --- The platform files ----------------------------------------------------------------------


def test_procfile():
    commands = procfile()

    assert set(commands) == {"web", "worker", "beat", "release"}
    assert commands["release"] == (
        "python manage.py check --deploy --fail-level ERROR && python manage.py migrate --noinput"
    )
    web = shlex.split(commands["web"])
    assert web[:2] == ["gunicorn", "storefront.wsgi"]
    assert "--bind" in web
    assert web[web.index("--bind") + 1] == "0.0.0.0:$PORT"
    assert web[web.index("--workers") + 1] == "${WEB_CONCURRENCY:-2}"
    assert web[web.index("--threads") + 1] == "${GUNICORN_THREADS:-4}"


def test_gunicorn_timeout_outlasts_the_slowest_stripe_call():
    """Every attempt may use the whole connect + read timeout, with backoff between them."""
    web = shlex.split(procfile()["web"])
    timeout = int(web[web.index("--timeout") + 1])
    connect, read = django_settings.STRIPE_TIMEOUT
    retries = django_settings.STRIPE_MAX_NETWORK_RETRIES
    slowest = (retries + 1) * (connect + read) + retries * stripe.HTTPClient.MAX_DELAY

    assert timeout > slowest


def test_python_version_is_named_once_everywhere():
    runtime = (BASE_DIR / "runtime.txt").read_text().strip()
    python_version = (BASE_DIR / ".python-version").read_text().strip()

    assert re.fullmatch(r"python-3\.11\.\d+", runtime)
    assert python_version == "3.11"
    assert runtime.startswith(f"python-{python_version}.")
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python_version
    assert render_env()["PYTHON_VERSION"]["value"] == runtime.removeprefix("python-")
    assert dockerfile_instructions()[0] == ("FROM", f"python:{python_version}-slim")


# Variables the platforms set themselves, and knobs for tests and builds the platforms must
# leave alone (STATIC_ROOT's default is right everywhere).
# MAKE_RUN_URL: the Makefile's `run` passes where the development server serves.
NOT_FOR_PLATFORMS = {
    "PORT",
    "RENDER_EXTERNAL_HOSTNAME",
    "READ_ENV_FILE",
    "STATIC_ROOT",
    "MAKE_RUN_URL",
}


def variables_the_settings_read() -> set[str]:
    source = "\n".join(
        path.read_text() for path in sorted((BASE_DIR / "storefront" / "settings").glob("*.py"))
    )
    names = set(re.findall(r"""env\.\w+\(\s*f?["']([A-Z][A-Z0-9_]*)["']""", source))
    for suffix in re.findall(r"""env\.\w+\(\s*f["']STRIPE_\{code\}_([A-Z_]+)["']""", source):
        names |= {f"STRIPE_{code}_{suffix}" for code in ("USD", "EUR")}
    return names


def variables_the_app_reads() -> set[str]:
    procfile_names = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", " ".join(procfile().values())))
    return variables_the_settings_read() | procfile_names


def test_the_variable_lists_are_complete():
    """Every variable the app reads is in render.yaml, app.json and .env.example."""
    wanted = variables_the_app_reads() - NOT_FOR_PLATFORMS
    assert {"SECRET_KEY", "DATABASE_URL", "STRIPE_EUR_WEBHOOK_SECRET", "WEB_CONCURRENCY"} <= wanted
    env_example = (BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)(?:=|\s)", env_example, re.MULTILINE))

    assert wanted - set(render_env()) == set(), "add these to render.yaml"
    # On Heroku the PostgreSQL add-on sets DATABASE_URL (attached "as": "DATABASE").
    heroku_addons = {f"{addon['as']}_URL" for addon in app_json()["addons"]}
    assert wanted - set(app_json()["env"]) - heroku_addons == set(), "add these to app.json"
    assert variables_the_settings_read() - {"RENDER_EXTERNAL_HOSTNAME"} - documented == set(), (
        "document these in .env.example"
    )


def is_secret(name: str) -> bool:
    return name == "SECRET_KEY" or name.endswith(("_SECRET_KEY", "_WEBHOOK_SECRET"))


def render_blueprint() -> dict:
    return yaml.safe_load((BASE_DIR / "render.yaml").read_text())


def render_web() -> dict:
    (web,) = [s for s in render_blueprint()["services"] if s["type"] == "web"]
    return web


def render_env() -> dict[str, dict]:
    return {entry["key"]: entry for entry in render_web()["envVars"]}


def test_render_blueprint():
    blueprint = render_blueprint()
    web = render_web()
    variables = render_env()
    commands = procfile()

    assert web["runtime"] == "python"
    assert web["buildCommand"] == (
        "pip install -r requirements.txt && python manage.py collectstatic --noinput"
    )
    assert web["startCommand"] == commands["web"]
    assert web["preDeployCommand"] == commands["release"]
    assert web["healthCheckPath"] == "/healthz"
    (database,) = blueprint["databases"]
    assert variables["DATABASE_URL"]["fromDatabase"] == {
        "name": database["name"],
        "property": "connectionString",
    }
    assert variables["DEBUG"]["value"] == "0"
    for name, entry in variables.items():
        if is_secret(name):
            assert entry.get("sync") is False, f"{name} must be a secret (sync: false)"
            assert "value" not in entry


def app_json() -> dict:
    return json.loads((BASE_DIR / "app.json").read_text())


def test_heroku_app_json():
    app = app_json()

    assert app["buildpacks"] == [{"url": "heroku/python"}]
    assert [addon["plan"].split(":")[0] for addon in app["addons"]] == [
        "heroku-postgresql",
        "heroku-redis",
    ]
    assert app["env"]["SECRET_KEY"]["generator"] == "secret"
    assert app["env"]["DEBUG"]["value"] == "0"
    for name, entry in app["env"].items():
        assert entry.get("description"), name
        if is_secret(name):
            assert "value" not in entry, f"{name} must not have a value in the repository"


# --- Docker (no engine here: what can be checked without one) --------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (BASE_DIR / "Dockerfile").read_text()
    logical = re.sub(r"\\\n\s*", " ", text)  # continuation lines
    return [
        tuple(line.strip().split(maxsplit=1))
        for line in logical.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def dockerfile_healthcheck() -> list[str]:
    (healthcheck,) = [args for name, args in dockerfile_instructions() if name == "HEALTHCHECK"]
    return json.loads(healthcheck.split(" CMD ", 1)[1])


def test_dockerfile_copies_what_exists_and_everything_the_app_needs():
    copied = set()
    for name, args in dockerfile_instructions():
        if name == "COPY":
            *sources, _target = [arg for arg in args.split() if not arg.startswith("--")]
            copied |= {source.rstrip("/") for source in sources}
    for source in copied:
        assert (BASE_DIR / source).exists(), f"COPY {source}: no such file"

    local_apps = {
        app.split(".")[0]
        for app in django_settings.INSTALLED_APPS
        if (BASE_DIR / app.split(".")[0]).is_dir()
    }
    directories = [
        *django_settings.TEMPLATES[0]["DIRS"],
        *django_settings.STATICFILES_DIRS,
        *django_settings.FIXTURE_DIRS,
    ]
    needed = (
        {"requirements.txt", "manage.py"}
        | local_apps
        | {str(Path(d).relative_to(BASE_DIR)) for d in directories}
    )
    assert needed - copied == set()


def test_dockerfile_runs_the_procfile_command_as_a_user():
    instructions = dockerfile_instructions()
    (cmd,) = [args for name, args in instructions if name == "CMD"]
    users = [args for name, args in instructions if name == "USER"]

    assert json.loads(cmd) == ["sh", "-c", "exec " + procfile()["web"]]
    assert users and users[-1] not in ("root", "0")
    last_run = max(i for i, (name, _) in enumerate(instructions) if name == "RUN")
    assert instructions.index(("USER", users[-1])) > last_run
    assert ("RUN", "pip install -r requirements.txt") in instructions


def test_dockerfile_collectstatic_step_works(tmp_path):
    """The build's collectstatic, with its build-time key, gets past the settings' refusal."""
    (step,) = [args for name, args in dockerfile_instructions() if "collectstatic" in args]
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
    }

    result = run(step, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()
    assert list((tmp_path / "staticfiles" / "css").glob("shop.*.css.gz"))


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (BASE_DIR / ".dockerignore").read_text().split()

    assert {".env", ".git/", ".venv/", "*.sqlite3"} <= set(ignored)


def test_docker_compose_wires_postgres():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    db, migrate, web = services["db"], services["migrate"], services["web"]
    database = dj_database_url.parse(web["environment"]["DATABASE_URL"])

    assert db["image"] == "postgres:16"
    assert database["HOST"] == "db"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        db["environment"]["POSTGRES_DB"],
        db["environment"]["POSTGRES_USER"],
        db["environment"]["POSTGRES_PASSWORD"],
    )
    assert web["build"] == migrate["build"] == "."
    assert migrate["command"] == ["sh", "-c", procfile()["release"]]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["environment"]["DEBUG"] == "0"
    assert web["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert all(port.startswith("127.0.0.1:") for port in web["ports"])


# --- /healthz --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_plain_http_and_any_host(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = [SHOP_HOST]

    assert client.get("/healthz", HTTP_HOST="10.0.0.7:10000").status_code == 200
    assert client.get("/", HTTP_HOST="10.0.0.7:10000").status_code == 400
    shop = client.get("/", HTTP_HOST=SHOP_HOST)
    assert shop.status_code == 301
    assert shop["Location"] == f"https://{SHOP_HOST}/"


class _UnreachableDatabase:
    def cursor(self):
        raise OperationalError(
            'connection to server at "db.internal" (10.0.0.9), port 5432 failed: '
            'FATAL: password authentication failed for user "shop" password=hunter2'
        )


def test_healthz_names_the_error_class_only(client, monkeypatch, caplog):
    monkeypatch.setattr("storefront.plumbing.health.connection", _UnreachableDatabase())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "OperationalError"}
    assert "db.internal" in caplog.text  # the operator learns more, from the log


# --- Logs ------------------------------------------------------------------------------------


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the configured console handler (stdout on a platform) writes, during the test."""
    (console,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        yield stream
    finally:
        console.setStream(previous)


SECRETS = [
    "sk_live_51HxAbCdEfGhIjKlMnOpQrStUv",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "rk_live_51HxRestrictedKey0000",
    "rk_test_51HxRestrictedKey0000",
    "whsec_5f2bXyZ0aBcDeF+/=",
    "sk_test_sandbox_usd",
]


def test_redact_blanks_stripe_secrets_and_keeps_the_rest():
    text = " ".join(SECRETS) + " pk_live_51HxPublishable cs_test_a1b2 req_Abc123"

    redacted = redact(text)

    for secret in SECRETS:
        assert secret not in redacted
    assert redacted.count("[REDACTED]") == len(SECRETS)
    assert "sk_live_[REDACTED]" in redacted and "whsec_[REDACTED]" in redacted
    assert "pk_live_51HxPublishable cs_test_a1b2 req_Abc123" in redacted


def test_no_secret_reaches_the_log(console_log):
    logger = logging.getLogger("payments.stripe.client")

    logger.error("stripe call with key %s failed", SECRETS[0])
    logger.warning("webhook secret %(secret)s", {"secret": SECRETS[4]})
    try:
        raise ValueError(f"Invalid API Key provided: {SECRETS[1]}")
    except ValueError:
        logger.exception("stripe said no for %s", SECRETS[2])

    output = console_log.getvalue()
    for secret in SECRETS[:5]:
        assert secret not in output
    assert output.count("[REDACTED]") == 4
    assert "Traceback" in output


def test_json_lines_are_one_record_each():
    try:
        raise RuntimeError("two\nlines")
    except RuntimeError:
        record = logging.LogRecord(
            "payments.stripe.client",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("x",),
            sys.exc_info(),
        )
    record.request_id = "abc"
    record.status = 502
    record.request = object()  # Django's request: left out

    line = JsonLineFormatter().format(record)

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed x"
    assert parsed["level"] == "ERROR"
    assert parsed["logger"] == "payments.stripe.client"
    assert parsed["request_id"] == "abc"
    assert parsed["status"] == 502
    assert "request" not in parsed
    assert "RuntimeError: two\nlines" in parsed["exception"]


@pytest.mark.django_db
def test_request_id_from_the_router_is_echoed_and_logged(client, console_log):
    response = client.get("/", {"key": "share-key-123"}, HTTP_X_REQUEST_ID="router-id-42")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "router-id-42"
    (line,) = [line for line in console_log.getvalue().splitlines() if "router-id-42" in line]
    assert "GET / 200" in line
    assert "share-key-123" not in console_log.getvalue()  # never the query string
    assert current_request_id() == "-"  # forgotten once the response is closed


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 200, "a\nforged line"])
def test_request_id_is_made_when_missing_or_unfit(client, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}

    response = client.get("/", **headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_offline_commands_need_no_secret_key(tmp_path):
    """Like stock Django, makemigrations runs in a bare production environment; serving does not."""
    env = production_env(tmp_path, SECRET_KEY=None)

    result = run("python manage.py makemigrations --check --dry-run", env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
