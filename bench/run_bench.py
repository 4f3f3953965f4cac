#!/usr/bin/env python3
"""Benchmark POST /api/levels/complete (gunicorn + PostgreSQL + Redis rate limits) side by side
with the bare baseline app of ../shared/bench (beside the checkout), in one run. Prints
figures; it is not a test.

    .venv/bin/python bench/run_bench.py            # defaults: 6000 users, 3 reps x 10 s, c=8,32
    .venv/bin/python bench/run_bench.py --quick    # smoke check: 1 rep x 3 s

What it does (see bench/README.md):
 1. drops and re-creates the PostgreSQL databases cq_bench (product) and cq_bench_baseline;
 2. `flask db upgrade` + `flask levels sync` on cq_bench;
 3. seeds --users users with API tokens (SQLAlchemy Core executemany) plus one spare user for
    the statement count; seeds the baseline with `baseline_app.py seed N file`;
 4. counts the SQL statements of a new completion and of its replay in-process
    (bench/count_statements.py);
 5. starts gunicorn (2 sync workers) for the product and for the baseline on loopback ports;
 6. per rep and concurrency: baseline new, product new, product replay of that new run
    (tables truncated before each "new" run, never between a new run and its replay);
 7. prints the per-run figures, then medians, ratios to the baseline, and the targets;
 8. stops every server it started (try/finally; also on Ctrl-C / SIGTERM / errors).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project checkout
BENCH = Path(__file__).resolve().parent
VENV_BIN = ROOT / ".venv" / "bin"

try:  # the venv has SQLAlchemy, psycopg and redis; re-run under it when started otherwise
    import redis
    import sqlalchemy as sa
except ImportError:
    venv_python = VENV_BIN / "python"
    if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
    raise

HZ = os.sysconf("SC_CLK_TCK")
PRODUCT_DB = "cq_bench"
BASELINE_DB = "cq_bench_baseline"
WRITE_TABLES = (
    "level_completions, xp_history, user_level_progress, leaderboard_totals, outbox_events"
)
# The ledger's tables are append-only (docs/architecture.md): emptying them between rounds takes
# the documented unlock, inside the one transaction that truncates them.
LEDGER_RESET = (
    "BEGIN; INSERT INTO ledger_unlocks (purpose) VALUES ('benchmark reset'); "
    f"TRUNCATE {WRITE_TABLES} RESTART IDENTITY; DELETE FROM ledger_unlocks; COMMIT"
)
EVENT_ID = re.compile(r"^([0-9a-f]{8})-0000-4000-8000-([0-9a-f]{12})$")


class BenchError(RuntimeError):
    pass


def log(message: str = "") -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------------------------
# arguments and environments


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=6000, help="seeded users/tokens (default 6000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per scenario (default 3)")
    ap.add_argument(
        "--duration", type=int, default=10, help="seconds per measured run (default 10)"
    )
    ap.add_argument("--conc", default="8,32", help="wrk concurrencies (default 8,32)")
    ap.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured warm-up per server"
    )
    ap.add_argument("--quick", action="store_true", help="smoke check: 1 rep x 3 s, 1 s warm-up")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    ap.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL without a database (trust auth)",
    )
    ap.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="rate-limit storage; this Redis database is FLUSHDB'd (default db 14)",
    )
    ap.add_argument(
        "--address-limit",
        default="100000/minute",
        help="COMPLETION_ADDRESS_RATE_LIMIT for the run: all load comes from 127.0.0.1",
    )
    ap.add_argument(
        "--baseline-dir",
        default=str(ROOT.parent / "shared" / "bench"),
        help="holds baseline_app.py",
    )
    ap.add_argument(
        "--tokens-fresh",
        action="store_true",
        help="set api_tokens.last_used_at = now() before each run instead of NULL, so no "
        "request pays the app's last_used_at refresh (an UPDATE + a COMMIT of its own)",
    )
    ap.add_argument("--workdir", default="/tmp/cq-bench", help="token files, server logs, results")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.duration, args.warmup = 1, 3, 1
    args.concs = [int(c) for c in args.conc.split(",") if c.strip()]
    if (
        not args.concs
        or min(args.concs) < 1
        or args.reps < 1
        or args.duration < 1
        or args.users < 1
    ):
        ap.error("--conc, --reps, --duration and --users must be positive")
    if not re.fullmatch(r"redis://[^/]+/(\d+)", args.redis_url) or args.redis_url.endswith("/0"):
        ap.error("--redis-url must name a dedicated Redis database, e.g. redis://127.0.0.1:6379/14")
    return args


def config_variables() -> set[str]:
    """Every environment variable config.py reads, so an inherited one cannot skew the run."""
    text = (ROOT / "config.py").read_text()
    pattern = r"(?:environ\.get|env_bool|env_int|env_json)\(\s*\"([A-Z][A-Z0-9_]*)\""
    return set(re.findall(pattern, text)) | {"CYBERQUEST_CONFIG", "FLASK_APP"}


def product_env(args: argparse.Namespace, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in config_variables()}
    env.update(
        FLASK_APP="wsgi:app",
        CYBERQUEST_CONFIG="production",
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_hex(32),  # 64 characters
        # wrk reaches the server at 127.0.0.1; count_statements.py's test client says localhost.
        TRUSTED_HOSTS="127.0.0.1,localhost",
        ENABLE_SERVER_SIDE_TRACKING="1",
        SERVER_SIDE_TRACKING_ROLLOUT_PERCENT="100",
        RATELIMIT_ENABLED="1",
        RATELIMIT_STORAGE_URI=args.redis_url,
        COMPLETION_ADDRESS_RATE_LIMIT=args.address_limit,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def baseline_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in config_variables()}
    env.update(DATABASE_URL=url, PYTHONDONTWRITEBYTECODE="1")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_checked(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: int) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


# --------------------------------------------------------------------------------------------
# databases


def db_url(args: argparse.Namespace, name: str) -> str:
    return f"{args.pg.rstrip('/')}/{name}"


def recreate_database(args: argparse.Namespace, name: str) -> None:
    assert name in (PRODUCT_DB, BASELINE_DB)
    server = sa.create_engine(db_url(args, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        raise BenchError(f"PostgreSQL unreachable at {args.pg}: {error.orig}") from None
    finally:
        server.dispose()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seed_product(engine: sa.Engine, n: int, token_file: Path, spare_file: Path) -> None:
    """n users with one token each (+1 spare user for the statement count), in bulk."""
    users = sa.table(
        "users",
        sa.column("id"),
        sa.column("username"),
        sa.column("email"),
        sa.column("password_hash"),
        sa.column("total_xp"),
    )
    api_tokens = sa.table(
        "api_tokens", sa.column("user_id"), sa.column("name"), sa.column("token_hash")
    )
    names = [f"bench{i:07d}" for i in range(n + 1)]
    tokens = ["cq_" + secrets.token_urlsafe(32) for _ in names]
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {
                    "username": u,
                    "email": f"{u}@bench.invalid",
                    "total_xp": 0,
                    "password_hash": "!bench-user-never-signs-in",
                }
                for u in names
            ],
        )
        ids = dict(
            conn.execute(
                sa.select(users.c.username, users.c.id).where(users.c.username.like("bench%"))
            ).all()
        )
        conn.execute(
            api_tokens.insert(),
            [
                {"user_id": ids[u], "name": "bench", "token_hash": token_digest(t)}
                for u, t in zip(names, tokens, strict=True)
            ],
        )
    token_file.write_text("\n".join(tokens[:n]) + "\n")
    spare_file.write_text(tokens[n] + "\n")


def execute_all(engine: sa.Engine, statements: list[str]) -> None:
    with engine.connect() as conn:  # AUTOCOMMIT engine: VACUUM cannot run in a transaction
        conn.execute(sa.text("SET lock_timeout = '15s'"))
        conn.execute(sa.text("SET statement_timeout = '120s'"))
        for statement in statements:
            conn.execute(sa.text(statement))


def token_statement(fresh: bool) -> str:
    """Tokens unused for a while (default: the app refreshes last_used_at on each user's first
    request of a run) or just used (--tokens-fresh: no refresh during a run shorter than 60 s)."""
    if fresh:
        return "UPDATE api_tokens SET last_used_at = now()"
    return "UPDATE api_tokens SET last_used_at = NULL WHERE last_used_at IS NOT NULL"


def reset_product(engine: sa.Engine, fresh_tokens: bool) -> None:
    execute_all(
        engine,
        [
            LEDGER_RESET,
            "UPDATE users SET total_xp = 0 WHERE total_xp <> 0",
            f"VACUUM ANALYZE users, {WRITE_TABLES}",
            token_statement(fresh_tokens),
            "VACUUM ANALYZE api_tokens",
        ],
    )


def reset_tokens(engine: sa.Engine, fresh_tokens: bool) -> None:
    """Before a replay run: the tokens in the same state as before a new run."""
    execute_all(engine, [token_statement(fresh_tokens), "VACUUM ANALYZE api_tokens"])


def reset_baseline(engine: sa.Engine) -> None:
    execute_all(
        engine,
        [
            "TRUNCATE completions, xp_history RESTART IDENTITY",
            "UPDATE users SET total_xp = 0 WHERE total_xp <> 0",
            "VACUUM ANALYZE users, completions, xp_history",
        ],
    )


def recorded_prefix(engine: sa.Engine, run_id: int) -> int:
    """How many sequence numbers 0..k-1 of run `run_id` all have a recorded completion."""
    with engine.connect() as conn:
        ids = (
            conn.execute(
                sa.text(
                    "SELECT client_event_id::text FROM level_completions"
                    " WHERE client_event_id IS NOT NULL"
                )
            )
            .scalars()
            .all()
        )
    seen = set()
    for event_id in ids:
        m = EVENT_ID.match(event_id)
        if m and int(m.group(1), 16) == run_id:
            seen.add(int(m.group(2), 16))
    k = 0
    while k in seen:
        k += 1
    return k


def quiesce(engine: sa.Engine, dbname: str, table: str, timeout: float = 30.0) -> int:
    """Wait until the server has drained: when wrk stops, requests still queued in gunicorn's
    listen backlog (up to `conc`) are processed afterwards. Returns the settled row count."""
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            busy = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                    "AND pid <> pg_backend_pid() AND state <> 'idle'"
                ),
                {"d": dbname},
            ).scalar_one()
        if rows == last and busy == 0:
            return rows
        if time.monotonic() > deadline:
            raise BenchError(f"{dbname} still busy {timeout}s after the run ({busy} active)")
        last = rows
        time.sleep(0.3)


def backend_pids(engine: sa.Engine, name: str) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": name},
            ).scalars()
        )


# --------------------------------------------------------------------------------------------
# processes and CPU accounting


def proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def redis_server_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read().startswith(b"redis-server"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]  # total, idle + iowait


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

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3)
                conn.request("GET", self.ready_path)
                status = conn.getresponse().status
                conn.close()
                if status < 500:
                    return
                last = f"HTTP {status}"
            except OSError as error:
                last = str(error)
            time.sleep(0.3)
        raise BenchError(f"{self.name} not answering after {timeout}s ({last}):\n{self.log_tail()}")

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *children_of(self.proc.pid)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: master + workers
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass


def gunicorn_server(
    name: str, app: str, args: argparse.Namespace, cwd: Path, env: dict[str, str], ready_path: str
) -> Server:
    port = free_port()
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "-w",
        str(args.workers),
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--chdir",
        str(cwd),
        app,
    ]
    return Server(name, cmd, cwd, env, port, Path(args.workdir) / f"{name}.log", ready_path)


# --------------------------------------------------------------------------------------------
# wrk


@dataclass
class Run:
    scenario: str
    conc: int
    rep: int
    result: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    check: str = ""


def wrk(
    server: Server,
    args: argparse.Namespace,
    *,
    target: str,
    tokens: Path,
    conc: int,
    duration: int,
    run_id: int,
    wrap: int = 0,
) -> tuple[dict[str, float], str]:
    env = dict(
        os.environ,
        CQ_TOKENS=str(tokens),
        CQ_TARGET=target,
        CQ_RUN=str(run_id),
        CQ_OFFSET="0",
        CQ_WRAP=str(wrap),
        CQ_THREADS="1",
        CQ_LEVELS="5",
    )
    cmd = [
        "wrk",
        "-t1",
        f"-c{conc}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "completions.lua"),
        server.url,
    ]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration + 60}s") from None
    m = re.search(r"^CQRESULT (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not m:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    bad = re.search(r"^CQFIRSTBAD (.*)$", done.stdout, re.M)
    return result, bad.group(1) if bad else ""


class CpuMeter:
    """CPU seconds of the server's processes, our PostgreSQL backends, Redis and wrk."""

    def __init__(self, server: Server, engine: sa.Engine, dbname: str) -> None:
        self.server, self.engine, self.dbname = server, engine, dbname

    def __enter__(self) -> CpuMeter:
        self.srv_pids = self.server.pids()
        self.pg_pids = backend_pids(self.engine, self.dbname)
        self.redis_pids = redis_server_pids()
        self.t0 = time.monotonic()
        self.m0 = machine_ticks()
        self.rusage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.s0 = {p: proc_ticks(p) for p in self.srv_pids}
        self.p0 = {p: proc_ticks(p) for p in self.pg_pids}
        self.r0 = {p: proc_ticks(p) for p in self.redis_pids}
        return self

    def __exit__(self, *exc) -> None:
        def spent(before: dict[int, int]) -> float:
            return sum(max(0, proc_ticks(p) - t) for p, t in before.items()) / HZ

        self.server_s, self.pg_s, self.redis_s = spent(self.s0), spent(self.p0), spent(self.r0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wrk_s = (r1.ru_utime + r1.ru_stime) - (self.rusage0.ru_utime + self.rusage0.ru_stime)
        m1 = machine_ticks()
        total, idle = m1[0] - self.m0[0], m1[1] - self.m0[1]
        self.busy_pct = 100.0 * (total - idle) / total if total else 0.0
        self.wall = time.monotonic() - self.t0

    def figures(self, requests: float) -> dict[str, float]:
        per = 1000.0 / requests if requests else 0.0
        w = self.wall or 1.0
        return {
            "srv_ms": self.server_s * per,
            "pg_ms": self.pg_s * per,
            "redis_ms": self.redis_s * per,
            "srv_cores": self.server_s / w,
            "pg_cores": self.pg_s / w,
            "redis_cores": self.redis_s / w,
            "wrk_cores": self.wrk_s / w,
            "busy": self.busy_pct,
            "other_cores": max(
                0.0,
                (os.cpu_count() or 1) * self.busy_pct / 100.0
                - (self.server_s + self.pg_s + self.redis_s + self.wrk_s) / w,
            ),
        }


# --------------------------------------------------------------------------------------------
# the benchmark


def flush_redis(client: redis.Redis) -> None:
    client.flushdb()  # only the dedicated database (--redis-url)


def describe(run: Run) -> str:
    r, c = run.result, run.cpu
    return (
        f"  {run.scenario:<15} c={run.conc:<3} rep={run.rep}  {r['rps']:8.1f} req/s  "
        f"p50 {r['p50_ms']:6.2f}  p95 {r['p95_ms']:6.2f}  p99 {r['p99_ms']:7.2f} ms  "
        f"n={int(r['requests'])} non2xx={int(r['non2xx'])} err={int(r['errors'])}  "
        f"cpu/req: srv {c['srv_ms']:.2f} pg {c['pg_ms']:.2f} redis {c['redis_ms']:.2f} ms  "
        f"wrk {c['wrk_cores']:.2f} other {c['other_cores']:.2f} cores  {run.check}"
    )


def measure(
    server: Server,
    engine: sa.Engine,
    dbname: str,
    args: argparse.Namespace,
    *,
    scenario: str,
    target: str,
    tokens: Path,
    conc: int,
    rep: int,
    run_id: int,
    wrap: int = 0,
) -> tuple[Run, str]:
    time.sleep(0.5)
    with CpuMeter(server, engine, dbname) as meter:
        result, first_bad = wrk(
            server,
            args,
            target=target,
            tokens=tokens,
            conc=conc,
            duration=args.duration,
            run_id=run_id,
            wrap=wrap,
        )
    run = Run(scenario, conc, rep, result, meter.figures(result["requests"]))
    return run, first_bad


def statement_counts(env: dict[str, str], spare_token: Path) -> list[dict]:
    out = subprocess.run(
        [str(VENV_BIN / "python"), str(BENCH / "count_statements.py"), str(spare_token)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for line in out.stdout.splitlines():
        if not line.startswith("CQSTMTS "):
            log("    " + line)
    m = re.search(r"^CQSTMTS (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise BenchError(f"statement count failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return json.loads(m.group(1))


def median(runs: list[Run], key: str, source: str = "result") -> float:
    return statistics.median(getattr(r, source)[key] for r in runs)


def report(runs: list[Run], stmts: list[dict], args: argparse.Namespace) -> None:
    log()
    log(
        f"MEDIANS of {args.reps} rep(s) x {args.duration} s, wrk -t1, gunicorn -w {args.workers} "
        f"-k sync, {args.users} users ({os.cpu_count()} cores, load generator on the same machine)"
    )
    head = (
        f"{'scenario':<16}{'conc':>5}{'req/s':>9}{'vs base':>8}{'paired':>7}{'by cpu':>7}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'non2xx':>7}{'errors':>7}"
        f"{'srv ms':>8}{'pg ms':>7}{'rds ms':>7}{'other':>6}"
    )
    log(head)
    log("-" * len(head))
    base_rps: dict[int, float] = {}
    base_cpu: dict[int, float] = {}
    med: dict[tuple[str, int], float] = {}
    p99: dict[tuple[str, int], float] = {}
    other_ratios: dict[tuple[str, int], tuple[float, float]] = {}

    def cpu_per_req(run: Run) -> float:
        return run.cpu["srv_ms"] + run.cpu["pg_ms"] + run.cpu["redis_ms"]

    for conc in args.concs:
        base_runs = {r.rep: r for r in runs if r.scenario == "baseline new" and r.conc == conc}
        for scenario in ("baseline new", "product new", "product replay"):
            rs = [r for r in runs if r.scenario == scenario and r.conc == conc]
            if not rs:
                continue
            rps = median(rs, "rps")
            cpu = statistics.median(cpu_per_req(r) for r in rs)
            med[(scenario, conc)] = rps
            p99[(scenario, conc)] = median(rs, "p99_ms")
            if scenario == "baseline new":
                base_rps[conc], base_cpu[conc] = rps, cpu
            nan = float("nan")
            ratio = rps / base_rps[conc] if base_rps.get(conc) else nan
            paired = [
                r.result["rps"] / base_runs[r.rep].result["rps"]
                for r in rs
                if r.rep in base_runs and base_runs[r.rep].result["rps"]
            ]
            paired_ratio = statistics.median(paired) if paired else nan
            cpu_ratio = base_cpu[conc] / cpu if base_cpu.get(conc) and cpu else nan
            other_ratios[(scenario, conc)] = (paired_ratio, cpu_ratio)
            log(
                f"{scenario:<16}{conc:>5}{rps:>9.1f}{ratio:>8.2f}{paired_ratio:>7.2f}"
                f"{cpu_ratio:>7.2f}{median(rs, 'p50_ms'):>9.2f}"
                f"{median(rs, 'p95_ms'):>9.2f}{median(rs, 'p99_ms'):>9.2f}"
                f"{sum(int(r.result['non2xx']) for r in rs):>7}"
                f"{sum(int(r.result['errors']) for r in rs):>7}"
                f"{median(rs, 'srv_ms', 'cpu'):>8.2f}{median(rs, 'pg_ms', 'cpu'):>7.2f}"
                f"{median(rs, 'redis_ms', 'cpu'):>7.2f}{median(rs, 'other_cores', 'cpu'):>6.2f}"
            )
    log(
        "vs base = median req/s / baseline's median req/s; paired = median over reps of req/s / "
        "the baseline run of the same rep\n(adjacent in time); by cpu = baseline CPU per request / "
        "this CPU per request (srv + pg + rds), the capacity\nratio, least sensitive to other "
        "load; srv/pg/rds ms = CPU ms per request of the gunicorn processes / the PostgreSQL\n"
        "backends of the bench database / redis-server; other = cores used by other processes "
        "during the run (noise);\nnon2xx/errors = totals over the reps"
    )
    new, replay, fresh = stmts[0], stmts[1], stmts[2]
    log()
    log("SQL statements per request (in-process, before_cursor_execute on db.engine):")
    for s in (fresh, new, replay):
        log(
            f"  {s['case']:<46} {s['statements']:>2} statements, {s['commits']} COMMIT "
            f"({s['wal_commits']} with WAL flush), "
            f"{s['checkouts']} pool checkout(s) (+1 ';' pre-ping round trip each), "
            f"{len(s['redis_commands'])} Redis commands"
        )
    if args.tokens_fresh:
        log("  (wrk runs above: tokens fresh, so new = the 'token fresh' line, replays as listed)")
    else:
        log(
            "  (wrk runs above: nearly every request is its token's first use in the run, so "
            "new = the 'stale' line and\n   replays = the replay line + the same UPDATE "
            "api_tokens in their transaction; --tokens-fresh measures without that refresh)"
        )

    log()
    log("TARGETS")

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for conc in args.concs:
        if ("product new", conc) in med and conc in base_rps:
            ratio = med[("product new", conc)] / base_rps[conc]
            paired_ratio, cpu_ratio = other_ratios[("product new", conc)]
            log(
                f"  new completions >= 70% of baseline req/s at c={conc}: {ratio:.0%}  "
                f"{verdict(ratio >= 0.70)}   (paired {paired_ratio:.0%}, by CPU {cpu_ratio:.0%})"
            )
    if ("product new", 8) in p99:
        log(
            f"  p99 at c=8 <= 25 ms: {p99[('product new', 8)]:.2f} ms  "
            f"{verdict(p99[('product new', 8)] <= 25)}"
        )
    worst_new = max(new["statements"], fresh["statements"])
    log(
        f"  <= 8 SQL statements per new completion: {fresh['statements']} "
        f"({new['statements']} on a token's first use)  {verdict(worst_new <= 8)}"
    )
    log(
        f"  fewer statements per replay: {replay['statements']} < {fresh['statements']}  "
        f"{verdict(replay['statements'] < fresh['statements'])}"
    )
    for conc in args.concs:
        if ("product replay", conc) in med and ("product new", conc) in med:
            a, b = med[("product replay", conc)], med[("product new", conc)]
            log(
                f"  replays at least as fast as new completions at c={conc}: {a:.1f} vs {b:.1f} "
                f"req/s  {verdict(a >= b)}"
            )
    bad = sum(int(r.result["non2xx"]) + int(r.result["errors"]) for r in runs)
    log(f"  no non-2xx responses or socket errors in any run: {bad}  {verdict(bad == 0)}")


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    product_url, baseline_url = db_url(args, PRODUCT_DB), db_url(args, BASELINE_DB)
    penv, benv = product_env(args, product_url), baseline_env(baseline_url)
    tokens, spare = work / "tokens_product.txt", work / "token_statements.txt"
    base_tokens = work / "tokens_baseline.txt"
    baseline_app = Path(args.baseline_dir) / "baseline_app.py"
    if not baseline_app.exists():
        raise BenchError(f"{baseline_app} not found")

    log(
        f"CyberQuest completion benchmark - {time.strftime('%Y-%m-%d %H:%M:%S')}, "
        f"loadavg {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, workdir {work}"
    )
    log(
        f"  reps={args.reps} duration={args.duration}s conc={args.concs} users={args.users} "
        f"warmup={args.warmup}s  rate limits: Redis {args.redis_url}, per user "
        f"{penv.get('COMPLETION_RATE_LIMIT', '10/minute;200/day (default)')}, per address "
        f"COMPLETION_ADDRESS_RATE_LIMIT={args.address_limit}"
    )
    log(
        "  tokens: last_used_at "
        + (
            "= now() before each run (--tokens-fresh): no request refreshes it"
            if args.tokens_fresh
            else "= NULL before each run: each user's first request of a run (nearly every "
            "request, users >> requests) pays the app's refresh (UPDATE + its own COMMIT)"
        )
    )

    rclient = redis.Redis.from_url(args.redis_url)
    try:
        rclient.ping()
    except redis.RedisError as error:
        raise BenchError(f"Redis unreachable at {args.redis_url}: {error}") from None
    flush_redis(rclient)

    log("[1/6] (re)creating databases")
    recreate_database(args, PRODUCT_DB)
    recreate_database(args, BASELINE_DB)
    log("[2/6] flask db upgrade + flask levels sync")
    run_checked([str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=penv, timeout=180)
    out = run_checked([str(VENV_BIN / "flask"), "levels", "sync"], cwd=ROOT, env=penv, timeout=120)
    log("    " + " ".join(out.split()))
    log(f"[3/6] seeding {args.users} users + tokens (product and baseline)")
    pe = sa.create_engine(product_url, isolation_level="AUTOCOMMIT")
    be = sa.create_engine(baseline_url, isolation_level="AUTOCOMMIT")
    servers: list[Server] = []
    runs: list[Run] = []
    try:
        seed_product(pe, args.users, tokens, spare)
        run_checked(
            [
                str(VENV_BIN / "python"),
                str(baseline_app),
                "seed",
                str(args.users),
                str(base_tokens),
            ],
            cwd=work,
            env=benv,
            timeout=300,
        )
        log("[4/6] SQL statements per request (bench/count_statements.py)")
        stmts = statement_counts(penv, spare)
        reset_product(pe, args.tokens_fresh)
        flush_redis(rclient)

        log("[5/6] starting gunicorn (product and baseline)")
        product = gunicorn_server("product", "wsgi:app", args, ROOT, penv, "/api/levels")
        baseline = gunicorn_server(
            "baseline", "baseline_app:app", args, Path(args.baseline_dir), benv, "/"
        )
        for server in (product, baseline):
            servers.append(server)
            server.start()
        for server in servers:
            server.wait_ready()
            log(f"    {server.name}: {server.url} pids {server.pids()}")

        log(f"[6/6] warm-up ({args.warmup}s each), then measured runs")
        if args.warmup:
            wrk(
                baseline,
                args,
                target="baseline",
                tokens=base_tokens,
                conc=args.concs[0],
                duration=args.warmup,
                run_id=1,
            )
            quiesce(be, BASELINE_DB, "completions")
            wr, first_bad = wrk(
                product,
                args,
                target="product",
                tokens=tokens,
                conc=args.concs[0],
                duration=args.warmup,
                run_id=1,
            )
            quiesce(pe, PRODUCT_DB, "level_completions")
            if wr["non2xx"] or wr["errors"]:
                raise BenchError(
                    f"warm-up: {int(wr['non2xx'])} non-2xx, {int(wr['errors'])} "
                    f"errors; first: {first_bad}\n{product.log_tail()}"
                )
            keys = rclient.dbsize()
            log(f"    warm-up ok ({wr['rps']:.0f} req/s); rate-limit keys in Redis: {keys}")
            if keys == 0:
                raise BenchError("the rate limiter wrote nothing to Redis (memory fallback?)")
        for rep in range(args.reps):
            for conc in args.concs:
                reset_baseline(be)
                run, _ = measure(
                    baseline,
                    be,
                    BASELINE_DB,
                    args,
                    scenario="baseline new",
                    target="baseline",
                    tokens=base_tokens,
                    conc=conc,
                    rep=rep,
                    run_id=1,
                )
                run.check = f"rows={quiesce(be, BASELINE_DB, 'completions')}"
                runs.append(run)
                log(describe(run))

                run_id = 1000 + rep * 100 + conc
                reset_product(pe, args.tokens_fresh)
                flush_redis(rclient)
                run, first_bad = measure(
                    product,
                    pe,
                    PRODUCT_DB,
                    args,
                    scenario="product new",
                    target="product",
                    tokens=tokens,
                    conc=conc,
                    rep=rep,
                    run_id=run_id,
                )
                rows = quiesce(pe, PRODUCT_DB, "level_completions")
                ok_2xx = int(run.result["requests"] - run.result["non2xx"])
                consistent = ok_2xx <= rows <= ok_2xx + conc and not run.result["replayed"]
                in_redis = rclient.dbsize() > 0  # flushed before the run
                run.check = (
                    f"rows={rows} replayed={int(run.result['replayed'])}"
                    + ("" if consistent else " INCONSISTENT")
                    + ("" if in_redis else " LIMITER-NOT-IN-REDIS")
                    + (f" first non-2xx: {first_bad}" if first_bad else "")
                )
                runs.append(run)
                log(describe(run))

                prefix = recorded_prefix(pe, run_id)
                if prefix < conc:
                    raise BenchError(f"only {prefix} completions of run {run_id} to replay")
                reset_tokens(pe, args.tokens_fresh)
                flush_redis(rclient)
                run, first_bad = measure(
                    product,
                    pe,
                    PRODUCT_DB,
                    args,
                    scenario="product replay",
                    target="product",
                    tokens=tokens,
                    conc=conc,
                    rep=rep,
                    run_id=run_id,
                    wrap=prefix,
                )
                added = quiesce(pe, PRODUCT_DB, "level_completions") - rows
                all_replayed = run.result["replayed"] == run.result["requests"] and added == 0
                in_redis = rclient.dbsize() > 0
                run.check = (
                    f"replaying {prefix} pairs, new rows={added} "
                    f"replayed={int(run.result['replayed'])}"
                    + ("" if all_replayed else " NOT-ALL-REPLAYS")
                    + ("" if in_redis else " LIMITER-NOT-IN-REDIS")
                    + (f" first non-2xx: {first_bad}" if first_bad else "")
                )
                runs.append(run)
                log(describe(run))
        verify = subprocess.run(
            [str(VENV_BIN / "flask"), "xp", "verify"],
            cwd=ROOT,
            env=penv,
            capture_output=True,
            text=True,
            timeout=120,
        )
        log(
            f"    flask xp verify after the last run: exit {verify.returncode}: "
            + " ".join((verify.stdout + verify.stderr).split())[:300]
        )
        for server in servers:
            text = server.log_path.read_text(errors="replace")
            problems = len(re.findall(r"Traceback|falling back|WORKER TIMEOUT|\[ERROR\]", text))
            log(f"    {server.name} log: {problems} error/fallback line(s) ({server.log_path})")
        report(runs, stmts, args)
    finally:
        for server in servers:
            server.stop()
        pe.dispose()
        be.dispose()
        with contextlib.suppress(redis.RedisError):
            flush_redis(rclient)
        log(f"servers stopped; total {time.monotonic() - started:.0f} s; logs in {work}")
    return 0


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
