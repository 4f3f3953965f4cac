#!/usr/bin/env python3
"""Write benchmark: POST /api/levels/complete under gunicorn (production settings, PostgreSQL,
rate limits in Redis) beside the baseline app, in one run, with the budget's PASS/FAIL.

    .venv/bin/python bench/bench.py            # 6000 players, 3 reps x 10 s, c=8,32
    .venv/bin/python bench/bench.py --quick    # smoke check: 1 rep x 3 s

bench/README.md says what each figure means.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

VENV = Path(__file__).resolve().parents[1] / ".venv"
if Path(sys.prefix).resolve() != VENV.resolve() and (VENV / "bin" / "python").exists():
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])

import contextlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

import redis  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402
import seed  # noqa: E402
import servers  # noqa: E402
import statements  # noqa: E402
from common import (  # noqa: E402
    BASELINE_DB,
    BENCH,
    DEFAULT_BASELINE_DIR,
    PRODUCT_DB,
    ROOT,
    VENV_BIN,
    BenchError,
    log,
    run_checked,
)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke check: 1 rep x 3 s, 1 s warm-up")
    ap.add_argument("--reps", type=int, default=3, help="runs per scenario and c (default 3)")
    ap.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    ap.add_argument("--conc", default="8,32", help="wrk connections, comma-separated (8,32)")
    ap.add_argument("--users", type=int, default=6000, help="players (default 6000)")
    ap.add_argument("--warmup", type=float, default=3, help="unmeasured seconds per path (3)")
    ap.add_argument(
        "--baseline-dir",
        default=str(DEFAULT_BASELINE_DIR),
        help="holds baseline_app.py (default: shared/bench beside the checkout)",
    )
    ap.add_argument("--workdir", help="credentials, logs (default: a new temporary directory)")
    ap.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server, no database (%(default)s)",
    )
    ap.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="rate limits and outbox; flushed before every run (%(default)s)",
    )
    ap.add_argument(
        "--address-limit",
        default="100000/minute",
        help="COMPLETION_ADDRESS_RATE_LIMIT: all load comes from 127.0.0.1",
    )
    args = ap.parse_args()
    if args.quick:
        args.reps, args.duration, args.warmup = 1, 3, 1
    args.concs = [int(c) for c in args.conc.split(",") if c.strip()]
    if not args.concs or min(args.concs) < 1 or min(args.reps, args.duration, args.users) <= 0:
        ap.error("--conc, --reps, --duration and --users must be positive")
    if not re.fullmatch(r"redis://[^/]+/([1-9]\d*)", args.redis_url):
        ap.error("--redis-url must name a Redis database of its own (not 0), e.g. .../14")
    args.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="cq-write-bench-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    return args


def prepare(args: argparse.Namespace, penv: dict, benv: dict, files: dict[str, Path]) -> None:
    """Empty databases, migrated and seeded; every player signed in once."""
    log("[1/5] databases: (re)created, migrated, seeded")
    seed.recreate_database(args.pg, PRODUCT_DB)
    seed.recreate_database(args.pg, BASELINE_DB)
    log("    " + " ".join(seed.migrate(servers.cli_env(penv)).split()))
    db = seed.engine(args.pg, PRODUCT_DB)
    seed.seed_players(db, args.users, files["tokens"], files["spare_tokens"])
    db.dispose()
    baseline_app = Path(args.baseline_dir) / "baseline_app.py"
    seed.seed_baseline(benv, baseline_app, args.users, files["baseline_tokens"], args.workdir)
    started = time.monotonic()
    out = run_probe(penv, args.workdir, "sign-in", files["cookies"], files["check_cookie"])
    log(f"    {out.strip().splitlines()[-1]} in-process in {time.monotonic() - started:.0f} s")


def run_probe(penv: dict, work: Path, *argv: object) -> str:
    env = servers.cli_env(penv)
    cmd = [str(VENV_BIN / "python"), str(BENCH / "probe.py"), *map(str, argv)]
    out = run_checked(cmd, cwd=ROOT, env=env, timeout=900)
    with open(work / "probe.log", "a") as f:
        f.write(out)
    return out


def count_costs(penv: dict, work: Path, files: dict[str, Path]) -> dict:
    log("[2/5] what one request costs, in-process (bench/probe.py)")
    out = run_probe(penv, work, "count", files["spare_tokens"])
    found = re.search(r"^CQPROBE (.*)$", out, re.M)
    if not found:
        raise BenchError(f"probe printed no result:\n{out[-3000:]}")
    probe = json.loads(found.group(1))
    for case in probe["warm"] + probe["cases"]:
        expect_new = case.get("expect_new", True)
        if case["status"] != 200 or case["is_new_completion"] is not expect_new:
            raise BenchError(f"probe request {case['case']} answered wrongly: {case}")
    return probe


def serve_and_measure(b: scenarios.Bench) -> dict:
    log("[3/5] starting gunicorn: the product (gunicorn.conf.py) and the baseline")
    for server in (b.product, b.baseline):
        server.start()
    for server in (b.product, b.baseline):
        server.wait_ready()
        log(
            f"    {server.name}: {server.url}, master {server.proc.pid}, workers {server.workers()}"
        )
    cookie = scenarios.check_cookie(b)
    log(f"    a signed-in cookie over HTTP: {cookie}")
    log(f"[4/5] warm-up ({b.args.warmup:g} s per path), then the measured runs")
    scenarios.warm_up(b)
    scenarios.run_all(b)
    return cookie


def final_checks(b: scenarios.Bench, cookie: dict) -> list[tuple[str, bool]]:
    log("[5/5] checks")
    verify = subprocess.run(
        [str(VENV_BIN / "flask"), "xp", "verify"],
        cwd=ROOT,
        env=servers.cli_env(b.product.env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = " ".join((verify.stdout + verify.stderr).split())[-200:]
    bad_runs = [f"{r.scenario} c={r.conc} rep={r.rep}" for r in b.runs if r.problems]
    metrics = servers.scrape_completions(b.product)
    seen_new = sum(r.result["fresh"] for r in b.runs if r.scenario != "baseline new")
    seen_replay = sum(r.result["replayed"] for r in b.runs)
    set_cookie = sum(r.result["set_cookie"] for r in b.runs if r.scenario.startswith("cookie"))
    log(f"    /metrics completions {metrics}; wrk saw new {seen_new:.0f}, replay {seen_replay:.0f}")
    return [
        (
            f"every run's checks (rows = 2xx, replays, XP, limiter in Redis): {bad_runs}",
            not bad_runs,
        ),
        (f"flask xp verify: exit {verify.returncode}: {said}", verify.returncode == 0),
        *(
            (
                f"{s.name} log: {s.log_problems()} traceback/timeout/error lines",
                not s.log_problems(),
            )
            for s in (b.product, b.baseline)
        ),
        (
            f"/metrics counted what wrk saw: new {metrics.get('new', 0):.0f} >= {seen_new:.0f}, "
            f"replay {metrics.get('replay', 0):.0f} >= {seen_replay:.0f}",
            metrics.get("new", 0) >= seen_new and metrics.get("replay", 0) >= seen_replay,
        ),
        (
            f"no Set-Cookie on a signed-in player's completions: {set_cookie:.0f} in the runs, "
            f"{sum(bool(c) for c in cookie['set_cookie'])} of 2 over HTTP",
            not set_cookie and not any(cookie["set_cookie"]),
        ),
    ]


def print_header(args: argparse.Namespace) -> None:
    log(
        f"CyberQuest write benchmark - {time.strftime('%Y-%m-%d %H:%M:%S')}, loadavg "
        f"{os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, workdir {args.workdir}"
    )
    log(
        f"  reps={args.reps} duration={args.duration:g}s conc={args.concs} players={args.users} "
        f"warm-up={args.warmup:g}s; Redis {args.redis_url}; "
        f"COMPLETION_ADDRESS_RATE_LIMIT={args.address_limit}; baseline {args.baseline_dir}"
    )


FILES = {
    "tokens": "tokens.txt",
    "cookies": "cookies.txt",
    "check_cookie": "check_cookie.txt",
    "spare_tokens": "spare_tokens.json",
    "baseline_tokens": "baseline_tokens.txt",
}


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed")
    if not (Path(args.baseline_dir) / "baseline_app.py").exists():
        raise BenchError(f"no baseline_app.py in {args.baseline_dir} (see --baseline-dir)")
    work, started = args.workdir, time.monotonic()
    files = {name: work / filename for name, filename in FILES.items()}
    penv = servers.product_env(
        seed.url(args.pg, PRODUCT_DB), args.redis_url, args.address_limit, work
    )
    benv = servers.baseline_env(seed.url(args.pg, BASELINE_DB))
    print_header(args)
    client = redis.Redis.from_url(args.redis_url)
    try:
        client.flushdb()
    except redis.RedisError as error:
        raise BenchError(f"Redis unreachable at {args.redis_url}: {error}") from None
    prepare(args, penv, benv, files)
    probe = count_costs(penv, work, files)
    b = scenarios.Bench(
        args,
        servers.product_server(penv, work),
        servers.baseline_server(benv, Path(args.baseline_dir), work),
        seed.engine(args.pg, PRODUCT_DB),
        seed.engine(args.pg, BASELINE_DB),
        client,
        files,
    )
    b.server_statements = statements.available(b.pdb, b.bdb)
    try:
        sanity = final_checks(b, serve_and_measure(b))
        rows = report.summarise(b.runs, args.concs)
        report.print_table(rows, b)
        report.print_memory(b)
        report.print_statements(b)
        report.print_costs(probe["cases"], probe["cases"][0]["server_statements"] is not None)
        report.print_budget(rows, probe["cases"], b, sanity)
    finally:
        for server in (b.product, b.baseline):
            server.stop()
        with contextlib.suppress(redis.RedisError):
            client.flushdb()
        log(f"servers stopped; {time.monotonic() - started:.0f} s in all; logs in {work}")
    return 0 if all(ok for _, ok in sanity) else 1


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
        sys.exit(2)
