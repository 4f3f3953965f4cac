"""The measured runs, one function per scenario, each followed by its checks."""

from __future__ import annotations

import argparse
import http.client
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import seed
import sqlalchemy as sa
import statements
from common import BASELINE_DB, ENDPOINT, PRODUCT_DB, USER_AGENT, BenchError, log
from load import Load, run_wrk
from meter import CpuMeter
from servers import Server, rss_kib

SCENARIOS = ("baseline new", "token new", "token replay", "cookie new", "cookie replay")


@dataclass
class Run:
    scenario: str
    conc: int
    rep: int
    result: dict[str, float]
    cpu: dict[str, float]
    log_start: int = 0
    log_bytes: float = 0.0  # server log written per request
    check: str = ""
    problems: list[str] = field(default_factory=list)
    statements: list[statements.Statement] | None = None  # pg_stat_statements, when loaded


@dataclass
class Recorded:
    """What a new run left for its replay."""

    run_id: int
    prefix: int  # sequence numbers 0..prefix-1 all recorded
    rows: int


@dataclass
class Bench:
    args: argparse.Namespace
    product: Server
    baseline: Server
    pdb: sa.Engine
    bdb: sa.Engine
    redis: redis.Redis
    files: dict[str, Path]
    runs: list[Run] = field(default_factory=list)
    rss: dict[str, list[list[int]]] = field(default_factory=dict)
    run_ids: int = 1000
    server_statements: bool = False  # pg_stat_statements is loaded: read it in the first rep

    def next_run_id(self) -> int:
        self.run_ids += 1
        return self.run_ids

    def sample_rss(self, server: Server) -> None:
        self.rss.setdefault(server.name, []).append([rss_kib(p) for p in server.workers()])


def measure(b: Bench, server: Server, load: Load, scenario: str, rep: int) -> Run:
    db, dbname = (b.bdb, BASELINE_DB) if server is b.baseline else (b.pdb, PRODUCT_DB)
    watch = b.server_statements and rep == 0
    time.sleep(0.5)
    if watch:
        statements.reset(db)
    size = server.log_path.stat().st_size
    with CpuMeter(server, dbname) as meter:
        result, first_bad = run_wrk(load)
    run = Run(scenario, load.conc, rep, result, meter.figures(result["requests"]), size)
    if watch:
        run.statements = statements.read(db, result["requests"] or 1)
    if first_bad:
        run.problems.append(f"first non-2xx: {first_bad}")
    if result["non2xx"] or result["errors"]:
        run.problems.append(f"{result['non2xx']:.0f} non-2xx, {result['errors']:.0f} errors")
    return run


def finish(b: Bench, server: Server, run: Run) -> Run:
    """After the server has drained: log volume, worker memory, the run's line."""
    requests = run.result["requests"] or 1
    run.log_bytes = max(0, server.log_path.stat().st_size - run.log_start) / requests
    b.sample_rss(server)
    b.runs.append(run)
    log(describe(run))
    return run


def describe(run: Run) -> str:
    r, c = run.result, run.cpu
    flags = ("  PROBLEM: " + "; ".join(run.problems)) if run.problems else ""
    return (
        f"  {run.scenario:<14} c={run.conc:<3} rep={run.rep}  {r['rps']:7.1f} req/s  "
        f"p50/p95/p99 {r['p50_ms']:.1f}/{r['p95_ms']:.1f}/{r['p99_ms']:.1f} ms  "
        f"n={r['requests']:.0f}  cpu ms/req srv {c['srv_ms']:.2f} pg {c['pg_ms']:.2f} "
        f"rds {c['rds_ms']:.2f}  other {c['other_cores']:.2f} cores  {run.check}{flags}"
    )


def baseline_new(b: Bench, conc: int, rep: int) -> Run:
    """The baseline app: one SELECT, two INSERTs, one UPDATE ... RETURNING, COMMIT."""
    seed.reset_baseline(b.bdb)
    load = Load(
        b.baseline.url, b.files["baseline_tokens"], "bearer", "baseline", conc, b.args.duration, 1
    )
    run = measure(b, b.baseline, load, "baseline new", rep)
    rows = seed.quiesce(b.bdb, BASELINE_DB, "completions")
    ok = run.result["requests"] - run.result["non2xx"]
    run.check = f"rows={rows}"
    if not ok <= rows <= ok + conc:
        run.problems.append(f"{rows} rows for {ok:.0f} answers")
    return finish(b, b.baseline, run)


def product_load(b: Bench, auth: str, conc: int, run_id: int, wrap: int = 0) -> Load:
    credentials = b.files["tokens" if auth == "bearer" else "cookies"]
    return Load(b.product.url, credentials, auth, "product", conc, b.args.duration, run_id, wrap)


def limiter_in_redis(b: Bench, run: Run) -> None:
    """Flushed before the run: keys now mean the limits were counted in Redis, not in memory."""
    if b.redis.dbsize() == 0:
        run.problems.append("no rate-limit key in Redis (memory fallback?)")


def product_new(b: Bench, auth: str, scenario: str, conc: int, rep: int) -> Recorded:
    """New completions only: every answer must record one, award XP, and not be a replay."""
    seed.reset_product(b.pdb)
    b.redis.flushdb()
    run_id = b.next_run_id()
    run = measure(b, b.product, product_load(b, auth, conc, run_id), scenario, rep)
    rows = seed.quiesce(b.pdb, PRODUCT_DB, "level_completions")
    recorded, awarded, ledger, prefix = seed.run_completions(b.pdb, run_id)
    r = run.result
    ok = r["requests"] - r["non2xx"]
    run.check = (
        f"rows={rows} new={r['fresh']:.0f} xp>0={awarded} ledger={ledger} "
        f"set-cookie={r['set_cookie']:.0f}"
    )
    if not ok <= rows <= ok + conc or recorded != rows:
        run.problems.append(f"{rows} rows ({recorded} of this run) for {ok:.0f} answers")
    if r["replayed"] or r["fresh"] != ok:
        run.problems.append(f"{r['fresh']:.0f} of {ok:.0f} answers were new completions")
    if awarded != recorded or ledger != awarded:
        run.problems.append(f"{awarded} of {recorded} awarded XP, {ledger} ledger entries")
    limiter_in_redis(b, run)
    finish(b, b.product, run)
    if prefix < conc:
        raise BenchError(f"only {prefix} completions of run {run_id} to replay")
    return Recorded(run_id, prefix, rows)


def product_replay(b: Bench, auth: str, scenario: str, conc: int, rep: int, new: Recorded) -> Run:
    """The exact bodies of the new run again: no row added, every answer a replay."""
    seed.freshen_credentials(b.pdb)
    b.redis.flushdb()
    load = product_load(b, auth, conc, new.run_id, wrap=new.prefix)
    run = measure(b, b.product, load, scenario, rep)
    added = seed.quiesce(b.pdb, PRODUCT_DB, "level_completions") - new.rows
    r = run.result
    run.check = (
        f"replaying {new.prefix} bodies, rows added={added} replayed={r['replayed']:.0f} "
        f"set-cookie={r['set_cookie']:.0f}"
    )
    if added or r["replayed"] != r["requests"] or r["fresh"]:
        run.problems.append("not every answer was a replay")
    limiter_in_redis(b, run)
    return finish(b, b.product, run)


def token_new(b: Bench, conc: int, rep: int) -> Recorded:
    """Bearer tokens, each player's first request in a while."""
    return product_new(b, "bearer", "token new", conc, rep)


def token_replay(b: Bench, conc: int, rep: int, new: Recorded) -> Run:
    """Bearer tokens, the retries of `token new`'s completions."""
    return product_replay(b, "bearer", "token replay", conc, rep, new)


def cookie_new(b: Bench, conc: int, rep: int) -> Recorded:
    """Session cookies of signed-in players, fetch() from the site's pages."""
    return product_new(b, "cookie", "cookie new", conc, rep)


def cookie_replay(b: Bench, conc: int, rep: int, new: Recorded) -> Run:
    """Session cookies, the retries of `cookie new`'s completions."""
    return product_replay(b, "cookie", "cookie replay", conc, rep, new)


def run_all(b: Bench) -> None:
    for rep in range(b.args.reps):
        for conc in b.args.concs:
            baseline_new(b, conc, rep)
            token_replay(b, conc, rep, token_new(b, conc, rep))
            cookie_replay(b, conc, rep, cookie_new(b, conc, rep))


def post_completion(server: Server, headers: dict[str, str], body: dict) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", ENDPOINT, json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, answer_headers, json.loads(data or b"{}")
    finally:
        conn.close()


def check_cookie(b: Bench) -> dict:
    """One signed-in player's completion and its retry over HTTP, as a browser on the site
    sends them: both must be answered (new, then replay), ideally without a new cookie."""
    headers = {
        "Cookie": b.files["check_cookie"].read_text().strip(),
        "Content-Type": "application/json",
        "Origin": b.product.url,
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
        "User-Agent": USER_AGENT,
    }
    body = {
        "level_id": 1,
        "score": 500,
        "time_spent": 300,
        "difficulty": "normal",
        "client_event_id": "00000000-0000-4000-8000-0000000000c1",
    }
    answers = [post_completion(b.product, headers, body) for _ in range(2)]
    (s1, _, first), (s2, again, _) = answers
    found = {
        "statuses": [s1, s2],
        "new_then_replay": first.get("is_new_completion") is True
        and again.get("idempotent-replayed") == "true",
        "set_cookie": [h.get("set-cookie", "") for _, h, _ in answers],
    }
    if s1 != 200 or s2 != 200 or not found["new_then_replay"]:
        raise BenchError(f"a signed-in cookie's completion was not served: {answers}")
    return found


def warm_up(b: Bench) -> None:
    """Unmeasured: both servers' workers and pools warm, each credential path served."""
    conc, seconds = b.args.concs[0], b.args.warmup
    seed.reset_baseline(b.bdb)
    run_wrk(
        Load(b.baseline.url, b.files["baseline_tokens"], "bearer", "baseline", conc, seconds, 1)
    )
    for auth in ("bearer", "cookie"):
        seed.reset_product(b.pdb)
        b.redis.flushdb()
        load = product_load(b, auth, conc, b.next_run_id())
        result, first_bad = run_wrk(Load(**{**load.__dict__, "duration": seconds}))
        seed.quiesce(b.pdb, PRODUCT_DB, "level_completions")
        if result["non2xx"] or result["errors"] or result["fresh"] != result["requests"]:
            raise BenchError(f"warm-up ({auth}): {result}; first non-2xx: {first_bad}")
        if b.redis.dbsize() == 0:
            raise BenchError("the rate limiter wrote nothing to Redis (memory fallback?)")
        log(f"    warm-up {auth}: {result['rps']:.0f} req/s, all new completions")
    seed.quiesce(b.bdb, BASELINE_DB, "completions")
