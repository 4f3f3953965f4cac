"""The two servers under load: the product under gunicorn as production starts it (its
gunicorn.conf.py, JSON logs, metrics), and the baseline app, both with 2 sync workers."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, VENV_BIN, WORKERS, BenchError, free_port

# Variables that would change how gunicorn runs the product (gunicorn.conf.py reads them).
GUNICORN_VARIABLES = {
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_CMD_ARGS",
    "PORT",
    "PROMETHEUS_MULTIPROC_DIR",
    "CYBERQUEST_METRICS_DIR_MADE_HERE",
}
PROBLEM_LINES = re.compile(
    r"Traceback|WORKER TIMEOUT|falling back|\"level\": \"(?:error|critical)\""
)


def config_variables() -> set[str]:
    """Every environment variable config.py reads, so that an inherited one cannot skew a run."""
    text = (ROOT / "config.py").read_text()
    pattern = r"(?:environ\.get|env_bool|env_int|env_json)\(\s*\"([A-Z][A-Z0-9_]*)\""
    return set(re.findall(pattern, text)) | GUNICORN_VARIABLES | {"CYBERQUEST_CONFIG", "FLASK_APP"}


def clean_environment() -> dict[str, str]:
    drop = config_variables()
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def product_env(database_url: str, redis_url: str, address_limit: str, work: Path) -> dict:
    """The product's production settings; the values config.py does not get keep defaults."""
    env = clean_environment()
    env.update(
        FLASK_APP="wsgi:app",
        CYBERQUEST_CONFIG="production",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        TRUSTED_HOSTS="127.0.0.1,localhost",
        ENABLE_SERVER_SIDE_TRACKING="1",
        SERVER_SIDE_TRACKING_ROLLOUT_PERCENT="100",
        RATELIMIT_ENABLED="1",
        RATELIMIT_STORAGE_URI=redis_url,
        REDIS_URL=redis_url,
        COMPLETION_ADDRESS_RATE_LIMIT=address_limit,
        METRICS_TOKEN=secrets.token_hex(16),
        PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"),
    )
    return env


def cli_env(env: dict[str, str]) -> dict[str, str]:
    """The product's settings for its commands and in-process requests: their metric samples
    go to a directory of their own, never into the server's."""
    metrics = Path(env["PROMETHEUS_MULTIPROC_DIR"]).with_name("metrics-cli")
    metrics.mkdir(parents=True, exist_ok=True)
    return dict(env, PROMETHEUS_MULTIPROC_DIR=str(metrics))


def baseline_env(database_url: str) -> dict[str, str]:
    env = clean_environment()
    env["DATABASE_URL"] = database_url
    return env


@dataclass
class Server:
    name: str
    cmd: list[str]
    cwd: Path
    env: dict[str, str]
    port: int
    log_path: Path
    ready_path: str
    proc: subprocess.Popen | None = None
    workers_seen: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "w") as log_file:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=self.cwd,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                status = get_status(self.port, self.ready_path)
                if status < 500 and len(self.workers()) >= WORKERS:
                    return
                last = f"HTTP {status}"
            except OSError as error:
                last = str(error)
            time.sleep(0.3)
        raise BenchError(f"{self.name} not answering after {timeout}s ({last}):\n{self.log_tail()}")

    def workers(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        kids = children_of(self.proc.pid)
        self.workers_seen.update(kids)
        return kids

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_problems(self) -> int:
        text = self.log_path.read_text(errors="replace")
        return len(PROBLEM_LINES.findall(text))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: master and workers
            self.proc.wait(timeout=35)  # gunicorn's graceful timeout is 30 s
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


def get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def product_server(env: dict[str, str], work: Path) -> Server:
    """As production starts it: gunicorn.conf.py (JSON logs on stderr, metrics directory,
    worker recycling), with the worker count and the address given on the command line."""
    port = free_port()
    cmd = [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-w", str(WORKERS)]
    cmd += ["-k", "sync", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    return Server("product", cmd, ROOT, env, port, work / "product.log", "/healthz")


def baseline_server(env: dict[str, str], baseline_dir: Path, work: Path) -> Server:
    port = free_port()
    cmd = [str(VENV_BIN / "gunicorn"), "-w", str(WORKERS), "-k", "sync"]
    cmd += ["-b", f"127.0.0.1:{port}", "--chdir", str(baseline_dir), "baseline_app:app"]
    return Server("baseline", cmd, baseline_dir, env, port, work / "baseline.log", "/")


def scrape_completions(server: Server) -> dict[str, float]:
    """cyberquest_completions_total by outcome, from GET /metrics (every worker's counts)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        auth = {"Authorization": f"Bearer {server.env['METRICS_TOKEN']}"}
        conn.request("GET", "/metrics", headers=auth)
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    found = re.findall(r'^cyberquest_completions_total\{outcome="(\w+)"\} (\S+)$', text, re.M)
    return {outcome: float(value) for outcome, value in found}
