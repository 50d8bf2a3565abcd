"""The app being measured: a checkout (`--app-dir`), its own PostgreSQL database, and the
production-like environment every process of it gets (built from scratch, nothing inherited).

`--app-dir before=/tmp/bench-before --app-dir after=.` measures two checkouts in one run; a plain
path is labelled "after" when it is this repository and "before" otherwise. Each label gets the
database `<prefix><label>` (bench_before, bench_after), dropped and made afresh for every run.

The bench code always comes from this repository: a directory holding only a `bench` link to it
goes on PYTHONPATH, behind the checkout itself, so an older checkout without bench/ is measured
by today's bench code and its own app code.

Options every script shares: `--port N` (servers listen on 127.0.0.1:N, N+1, ... one per
checkout, in the order given; default `$BENCH_PORT`, else 8250; a taken port stops the run with
its number, never falls back to a random one), `--no-record` (print the figures, append nothing
to bench/results.md: for trial runs), `--keep-db`, `--db-prefix`, `--conn-max-age`.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
SECRET_KEY = secrets.token_urlsafe(64)
# The servers' fixed ports start here (`--port`); one port per checkout measured.
DEFAULT_PORT = 8250
_shim = Path(tempfile.mkdtemp(prefix="bench-path-"))
(_shim / "bench").symlink_to(BENCH_DIR)


@dataclass
class Target:
    label: str
    app_dir: Path
    db_prefix: str = "bench_"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def db_name(self) -> str:
        return f"{self.db_prefix}{self.label}"

    @property
    def database_url(self) -> str:
        return POSTGRES_URL.rstrip("/") + "/" + self.db_name

    @property
    def python(self) -> str:
        """The checkout's own venv if it has one (a link to this one is fine), else ours."""
        own = self.app_dir / ".venv" / "bin" / "python"
        return str(own if own.exists() else Path(sys.executable))

    @property
    def static_root(self) -> Path:
        return Path(tempfile.gettempdir()) / f"bench-static-{self.db_name}"

    def env(self, **changes: str) -> dict[str, str]:
        """A production-like environment (DEBUG=0, sandboxes allowed as on a demo site)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": os.environ.get("HOME", tempfile.gettempdir()),
            "READ_ENV_FILE": "0",
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "STRIPE_SANDBOX": "1",
            "BANK_SANDBOX": "1",
            # Events are recorded, not sent: the benchmarks send the deliveries themselves.
            "STRIPE_SANDBOX_WEBHOOKS": "off",
            # /buy from one address, many times: the per-client limit would answer 429s.
            "SHOP_START_LIMIT": "100000000",
            "DATABASE_URL": self.database_url,
            "STATIC_ROOT": str(self.static_root),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(_shim),
            **self.extra_env,
            **changes,
        }
        return {name: value for name, value in env.items() if value is not None}

    def run(self, args: list[str], *, timeout: float = 300, **env: str) -> str:
        result = subprocess.run(
            [self.python, *args],
            cwd=self.app_dir,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(
                f"{' '.join(args)} in {self.app_dir} failed:\n{result.stdout[-3000:]}"
                f"\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def prepare(self, *, statics: bool = True) -> None:
        """A fresh database, migrated (and the static files collected, for gunicorn)."""
        with psycopg.connect(POSTGRES_URL.rstrip("/") + "/postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{self.db_name}"')
        self.run(["manage.py", "migrate", "--noinput", "-v0"])
        if statics:
            self.run(["manage.py", "collectstatic", "--noinput", "-v0"])

    def inner(self, command: str, **params) -> dict:
        """Run `bench.inner <command>` inside the app (Django set up) and return its answer."""
        with tempfile.NamedTemporaryFile(suffix=".json") as answer:
            self.run(
                ["-m", "bench.inner", command, json.dumps(params), answer.name],
                timeout=900,
                ALLOWED_HOSTS="127.0.0.1,testserver",
            )
            return json.loads(Path(answer.name).read_text())

    def drop(self) -> None:
        with psycopg.connect(POSTGRES_URL.rstrip("/") + "/postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app-dir",
        action="append",
        metavar="[LABEL=]PATH",
        help="a checkout to measure (repeat to compare; default: this repository)",
    )
    parser.add_argument("--db-prefix", default="bench_", help="database name prefix")
    parser.add_argument("--conn-max-age", help="CONN_MAX_AGE for the app (default: the app's)")
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="print the figures only: do not append them to bench/results.md (for trial runs)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BENCH_PORT", DEFAULT_PORT)),
        help="the first checkout's server listens here, the next ones on the following ports "
        f"(default: $BENCH_PORT, else {DEFAULT_PORT}); never a random port",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the databases afterwards")


def add_redis_argument(parser: argparse.ArgumentParser) -> None:
    """`--redis-url`, for the scripts whose paths a deployed shop's shared cache changes (the
    pages it keeps, the taxes kept with them, the redeliveries it counts); bench.webhooks'
    receipts then wait for a Celery worker the bench does not run, and are not counted."""
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="REDIS_URL for every checkout (default: $BENCH_REDIS_URL): the shared cache "
        "production has, which the page cache needs; without it pages are rendered every time",
    )


def redis_apply(args: argparse.Namespace, found: list["Target"]) -> str:
    """Give every checkout `--redis-url`; the report's words for it."""
    for target in found:
        target.extra_env["REDIS_URL"] = args.redis_url
    return f"REDIS_URL {args.redis_url}" if args.redis_url else "no REDIS_URL"


def targets(args: argparse.Namespace) -> list[Target]:
    found = []
    for spec in args.app_dir or [str(REPO)]:
        label, sep, path = spec.partition("=")
        if not sep:
            path = label
            label = "after" if Path(path).resolve() == REPO else "before"
        app_dir = Path(path).resolve()
        if not (app_dir / "manage.py").is_file():
            raise SystemExit(f"{app_dir} is not a checkout of the shop (no manage.py)")
        extra = {"CONN_MAX_AGE": args.conn_max_age} if args.conn_max_age is not None else {}
        found.append(Target(label, app_dir, args.db_prefix, extra))
    return found


def targets_drop(found: list[Target], args: argparse.Namespace) -> None:
    """Drop the database of each of `found`, unless `--keep-db` was given."""
    if not args.keep_db:
        for target in found:
            target.drop()


def postgres_version() -> str:
    with psycopg.connect(POSTGRES_URL.rstrip("/") + "/postgres") as db:
        return db.execute("SHOW server_version").fetchone()[0]


def describe(target: Target, **env: str) -> str:
    """One line: the checkout, its commit and the settings that decide speed, as the app sees
    them."""
    from bench.record import git_commit

    probe = target.run(
        [
            "-c",
            "import django, json; django.setup(); from django.conf import settings as s; "
            "d = s.DATABASES['default']; print(json.dumps([django.get_version(), s.DEBUG, "
            "d.get('CONN_MAX_AGE'), d.get('CONN_HEALTH_CHECKS'), d['ENGINE'].rsplit('.', 1)[1], "
            "len(s.MIDDLEWARE), __import__('platform').python_version(), "
            "getattr(s, 'SHOP_PAGE_CACHE', None)]))",
        ],
        **env,
    )
    django, debug, age, health, engine, middleware, python, page_cache = json.loads(
        probe.strip().splitlines()[-1]
    )
    kept = {None: "", True: ", pages kept (SHOP_PAGE_CACHE)", False: ", pages rendered every time"}
    return (
        f"{target.label}: {target.app_dir} at {git_commit(target.app_dir)}, Python {python}, "
        f"Django {django}, "
        f"DEBUG={int(debug)}, CONN_MAX_AGE={age}, CONN_HEALTH_CHECKS={health}, {engine} "
        f"database {target.db_name}, {middleware} middleware{kept[page_cache]}"
    )


def report_for(title: str, args: argparse.Namespace, found: list[Target], **env: str):
    """A Report headed with the machine, PostgreSQL, and each checkout as its settings say."""
    from bench.record import Report, cpu

    report = Report(title, record=not args.no_record)
    report.setting(f"machine: {cpu()}; PostgreSQL {postgres_version()} at 127.0.0.1")
    for target in found:
        report.setting(describe(target, **env))
    return report
