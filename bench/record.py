"""What every benchmark prints and appends to bench/results.md: the machine, the versions, the
commits measured, the exact settings, then one line per figure."""

import datetime
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


def cpu() -> str:
    """CPU model and the number of cores Linux shows, from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return f"{platform.processor() or 'unknown CPU'} × {os.cpu_count()}"
    models = [line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line]
    return f"{models[0] if models else 'unknown CPU'} × {len(models) or os.cpu_count()} cores"


def git_commit(app_dir: Path) -> str:
    """The checkout's commit, with "+changes" when tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(app_dir), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


class Report:
    """Collects a run's header and figures; `figure` prints each line as it comes."""

    def __init__(self, title: str, *, record: bool = True) -> None:
        self.title = title
        self.record = record
        self.context: list[str] = []
        self.figures: list[str] = []
        self.notes: list[str] = []

    def setting(self, line: str) -> None:
        self.context.append(line)
        print(f"# {line}", flush=True)

    def figure(self, line: str) -> None:
        self.figures.append(line)
        print(line, flush=True)

    def note(self, line: str) -> None:
        self.notes.append(line)
        print(f"# note: {line}", flush=True)

    def write(self, results: Path = RESULTS) -> None:
        if not self.record:
            return
        now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        lines = [f"\n## {self.title} ({now})\n", "```"]
        lines += [f"# {line}" for line in self.context] + self.figures
        lines += [f"# note: {line}" for line in self.notes] + ["```", ""]
        with results.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines))


def versions_line(*, python: str, django: str, postgres: str) -> str:
    return f"Python {python}, Django {django}, PostgreSQL {postgres}"


def percentiles(values: Sequence[float], *wanted: float) -> list[float]:
    """Nearest-rank percentiles (0 for no values)."""
    ordered = sorted(values)
    if not ordered:
        return [0.0 for _ in wanted]
    return [
        ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] for p in wanted
    ]
