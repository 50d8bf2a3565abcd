"""Every shell command shown in README.md and docs/*.md does what the text says, on a shop
started the way `make run` starts one.

The convention (every page follows it): a command for the reader is in a fenced block whose info
string starts with `sh`. Each such block runs here, in its file's order, with `bash -e` at the
repository's root, PATH starting with the virtualenv's bin (so `python manage.py ...` and
`.venv/bin/python manage.py ...` are the same), and the shop's address in the text
(`http://127.0.0.1:8000`) replaced by this test's. A block fails when a command exits non-zero,
or, where the block is followed by a ```text or ```json block showing its output, when a line
shown there (`...` lines aside) is not in what it printed. Blocks that cannot run against a
development shop (`make run` itself, deploy commands, production-only tools) are fenced
```sh norun and are skipped, each named.

The shop: a subprocess doing what `make run` does (migrate, load_demo, ensure_local_admin
--if-debug, runserver) with DEBUG=1 and the sandboxes, on a temporary SQLite file and a free
port (DOCS_SHOP_PORTS=8260-8269 keeps it within a range), shared by the module. It is always
its own SQLite shop, whatever DATABASE_URL the suite runs on (the PostgreSQL and MariaDB passes
run it the same way): `make run` is SQLite. The commands get the shop's address as SHOP_URL, as
a terminal beside `make run` on port 8000 has it by default.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PAGES = [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").glob("*.md"))]
SHOWN_ADDRESS = "127.0.0.1:8000"
BLOCK_TIMEOUT_SECONDS = 120
FENCE = re.compile(r"^```(?P<info>[^`]*)$")
#: Info strings that would show a shell command without the convention's `sh`.
SHELL_LIKE = {"bash", "shell", "console", "zsh", "shell-session", "sh-session"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    info: str
    text: str
    output: str | None  # the ```text/```json block right after it, if any

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(BASE_DIR)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.info.split()[:1] == ["sh"] and "norun" not in self.info.split()[1:]


def blocks_of(page: Path) -> list[Block]:
    """Every fenced block of a page, with the output block that follows a command's."""
    lines = page.read_text().splitlines()
    found: list[tuple[int, int, str, str]] = []  # (opening, closing) line indexes, info, text
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index].rstrip())
        if opening is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        found.append((index, end, opening["info"].strip(), "\n".join(lines[index + 1 : end])))
        index = end + 1
    blocks = []
    for number, (start, end, info, text) in enumerate(found):
        output = None
        if number + 1 < len(found):
            next_start, _, next_info, next_text = found[number + 1]
            adjacent = not any(line.strip() for line in lines[end + 1 : next_start])
            if adjacent and next_info.split()[:1] in (["text"], ["json"]):
                output = next_text
        blocks.append(Block(page, start + 1, info, text, output))
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in blocks_of(page)]
COMMAND_BLOCKS = [block for block in ALL_BLOCKS if block.info.split()[:1] == ["sh"]]


def free_port() -> int:
    """A port nothing listens on: one of DOCS_SHOP_PORTS (`8260-8269`) if given, else any."""
    wanted = os.environ.get("DOCS_SHOP_PORTS", "")
    if wanted:
        first, _, last = wanted.partition("-")
        candidates = range(int(first), int(last or first) + 1)
    else:
        candidates = [0]
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    pytest.fail(f"no free port in DOCS_SHOP_PORTS={wanted}")


@dataclass
class Shop:
    address: str  # "127.0.0.1:8261"
    env: dict[str, str]
    ran: dict[Path, int]  # per page: how many of its command blocks have run
    results: dict[str, subprocess.CompletedProcess]


def shop_env(tmp: Path, address: str) -> dict[str, str]:
    """The environment of `make run` on a fresh machine: nothing configured but DEBUG."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STRIPE_", "BANK_", "PAYPARTS_", "SHOP_", "EMAIL_", "REDIS_"))
        and name not in {"DATABASE_URL", "DEBUG", "SENTRY_DSN", "PAYMENT_RAILS", "PORT", "HOST"}
        and not name.startswith(("PYTEST_", "DJANGO_"))
    }
    return {
        **kept,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "READ_ENV_FILE": "0",  # a developer's .env keys are not the docs' shop
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "SHOP_URL": f"http://{address}",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs-shop")
    address = f"127.0.0.1:{free_port()}"
    env = shop_env(tmp, address)
    server_env = {**env, "DEBUG": "1", "MAKE_RUN_URL": f"http://{address}"}
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput"], ["load_demo"], ["ensure_local_admin", "--if-debug"]):
        done = subprocess.run(  # noqa: S603 (manage.py, as make run runs it)
            [*manage, *step], cwd=BASE_DIR, env=server_env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"
    log = (tmp / "runserver.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [*manage, "runserver", "--noreload", address],
        cwd=BASE_DIR, env=server_env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/healthz", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the shop did not start: {(tmp / 'runserver.log').read_text()}")
                time.sleep(0.3)
        yield Shop(address=address, env=env, ran={}, results={})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)
        log.close()


def run_block(shop: Shop, block: Block) -> subprocess.CompletedProcess:
    """Run `block`, after every earlier command block of its page (once each, in order)."""
    runnable = [b for b in COMMAND_BLOCKS if b.page == block.page and b.runs]
    for earlier in runnable[: runnable.index(block) + 1]:
        if earlier.id in shop.results:
            continue
        script = earlier.text.replace(SHOWN_ADDRESS, shop.address).replace(
            "localhost:8000", shop.address
        )
        try:
            shop.results[earlier.id] = subprocess.run(  # noqa: S603 (the docs' own commands)
                ["bash", "-e", "-c", script],  # noqa: S607
                cwd=BASE_DIR, env=shop.env, capture_output=True, text=True,
                timeout=BLOCK_TIMEOUT_SECONDS,
            )  # fmt: skip
        except subprocess.TimeoutExpired as slow:
            shop.results[earlier.id] = subprocess.CompletedProcess(
                slow.cmd, -1, slow.stdout or "", f"timed out after {BLOCK_TIMEOUT_SECONDS} s"
            )
    return shop.results[block.id]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=[b.id for b in COMMAND_BLOCKS])
def test_the_command_does_what_the_text_says(shop, block):
    if not block.runs:
        pytest.skip(f"{block.id} is fenced `{block.info}`: not run against a development shop")

    done = run_block(shop, block)

    said = f"{block.text}\n--- exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, said
    if block.output is not None:
        printed = done.stdout + done.stderr
        shown = block.output.replace(SHOWN_ADDRESS, shop.address)
        for line in (line.strip() for line in shown.splitlines()):
            if line and line != "...":
                assert line in printed, f"{line!r} is not in what it printed:\n{said}"


def test_every_shell_command_is_fenced_the_convention_s_way():
    """A shell block fenced ```bash or ```console would escape the test above."""
    strays = [b.id for b in ALL_BLOCKS if b.info.split()[:1] and b.info.split()[0] in SHELL_LIKE]
    assert strays == [], "fence these ```sh (or ```sh norun)"
    assert COMMAND_BLOCKS, "no ```sh block found: is the parser reading the pages?"
    assert any(block.runs for block in COMMAND_BLOCKS)
