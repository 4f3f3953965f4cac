"""What the write benchmark's modules share: where things are, names, logging, subprocesses."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent  # the checkout
VENV_BIN = ROOT / ".venv" / "bin"
# The baseline kit lives beside the checkout unless --baseline-dir names another place.
DEFAULT_BASELINE_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench"

PRODUCT_DB = "cq_bench_write"
BASELINE_DB = "cq_bench_write_base"
WORKERS = 2
# What a browser on the site sends; the signed-in sessions are bound to it (and to 127.0.0.1).
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ENDPOINT = "/api/levels/complete"


class BenchError(RuntimeError):
    pass


def log(message: str = "") -> None:
    print(message, flush=True)


def run_checked(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run a command to completion; its output, or BenchError with the output on failure."""
    try:
        done = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(cmd)} did not finish within {timeout:.0f}s") from None
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shorten(sql: str, width: int = 110) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    return sql if len(sql) <= width else sql[: width - 3] + "..."
