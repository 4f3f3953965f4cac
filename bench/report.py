"""The report: medians per scenario beside the baseline, what one request costs, the budget."""

from __future__ import annotations

import os
import statistics
import sys
from dataclasses import dataclass

from common import ROOT, log
from scenarios import SCENARIOS, Bench, Run

sys.path.insert(0, str(ROOT))
from app.budget import (  # the budget is the product's, defined once
    NEW_VS_BASELINE,
    P99_VS_BASELINE,
    REDIS_ROUND_TRIPS,
    REPLAY_VS_BASELINE,
    RSS_VS_BASELINE,
    SQL_PER_NEW,
    SQL_PER_REPLAY,
)

NAN = float("nan")


@dataclass
class Row:
    scenario: str
    conc: int
    rps: float
    ratio: float
    paired: float
    by_cpu: float
    p99_ratio: float
    runs: list[Run]


def median(runs: list[Run], key: str, source: str = "result") -> float:
    return statistics.median(getattr(r, source)[key] for r in runs) if runs else NAN


def cpu_per_request(run: Run) -> float:
    return run.cpu["srv_ms"] + run.cpu["pg_ms"] + run.cpu["rds_ms"]


def ratio(a: float, b: float) -> float:
    return a / b if b else NAN


def summarise(runs: list[Run], concs: list[int]) -> list[Row]:
    rows = []
    for conc in concs:
        base = [r for r in runs if r.scenario == "baseline new" and r.conc == conc]
        base_by_rep = {r.rep: r for r in base}
        base_rps, base_p99 = median(base, "rps"), median(base, "p99_ms")
        base_cpu = statistics.median(cpu_per_request(r) for r in base) if base else NAN
        for scenario in SCENARIOS:
            these = [r for r in runs if r.scenario == scenario and r.conc == conc]
            if not these:
                continue
            paired = [
                ratio(r.result["rps"], base_by_rep[r.rep].result["rps"])
                for r in these
                if r.rep in base_by_rep
            ]
            cpu = statistics.median(cpu_per_request(r) for r in these)
            rps = median(these, "rps")
            rows.append(
                Row(
                    scenario,
                    conc,
                    rps,
                    ratio(rps, base_rps),
                    statistics.median(paired) if paired else NAN,
                    ratio(base_cpu, cpu),
                    ratio(median(these, "p99_ms"), base_p99),
                    these,
                )
            )
    return rows


def print_table(rows: list[Row], b: Bench) -> None:
    a = b.args
    log()
    log(
        f"MEDIANS of {a.reps} rep(s) x {a.duration:g} s, wrk -t1, gunicorn -w 2 -k sync, "
        f"{a.users} players ({os.cpu_count()} cores, the load generator on the same machine)"
    )
    head = (
        f"{'scenario':<14}{'c':>4}{'req/s':>8}{'vs base':>8}{'paired':>7}{'by cpu':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'p99/b':>6}{'non2xx':>7}{'errors':>7}"
        f"{'srv ms':>7}{'pg ms':>6}{'rds ms':>7}{'other':>6}{'log B':>6}"
    )
    log(head)
    log("-" * len(head))
    for row in rows:
        rs = row.runs
        non2xx = sum(r.result["non2xx"] for r in rs)
        errors = sum(r.result["errors"] for r in rs)
        log(
            f"{row.scenario:<14}{row.conc:>4}{row.rps:>8.1f}{row.ratio:>8.2f}{row.paired:>7.2f}"
            f"{row.by_cpu:>7.2f}{median(rs, 'p50_ms'):>8.1f}{median(rs, 'p95_ms'):>8.1f}"
            f"{median(rs, 'p99_ms'):>8.1f}{row.p99_ratio:>6.2f}"
            f"{non2xx:>7.0f}{errors:>7.0f}"
            f"{median(rs, 'srv_ms', 'cpu'):>7.2f}{median(rs, 'pg_ms', 'cpu'):>6.2f}"
            f"{median(rs, 'rds_ms', 'cpu'):>7.2f}{median(rs, 'other_cores', 'cpu'):>6.2f}"
            f"{statistics.median(r.log_bytes for r in rs):>6.0f}"
        )
    log(
        "vs base = req/s / the baseline's at the same c; paired = the same, run by run against "
        "the baseline run of the same rep;\nby cpu = the baseline's CPU per request / this one's "
        "(srv + pg + rds); p99/b = p99 / the baseline's p99; srv, pg, rds ms = CPU\nms per "
        "request of the gunicorn master and workers / the PostgreSQL backends and autovacuum of "
        "the server's database / redis-server;\nother = cores busy with anything else during "
        "the run (noise); log B = bytes of server log per request;\nnon2xx, errors = totals "
        "over the reps"
    )


def rss_figures(b: Bench, name: str) -> tuple[int, int, int]:
    """(peak sum of the workers' RSS, peak single worker, last sum), KiB, over the readings
    taken after every run."""
    readings = [r for r in b.rss.get(name, []) if r]
    if not readings:
        return 0, 0, 0
    return max(sum(r) for r in readings), max(max(r) for r in readings), sum(readings[-1])


def print_memory(b: Bench) -> None:
    log()
    log("WORKER MEMORY (VmRSS of the 2 workers, read after every run):")
    for server in (b.baseline, b.product):
        peak_sum, peak_one, last_sum = rss_figures(b, server.name)
        recycled = max(0, len(server.workers_seen) - 2)
        log(
            f"  {server.name:<9} sum {peak_sum / 1024:6.1f} MiB (peak), {last_sum / 1024:6.1f} "
            f"MiB after the last run; largest worker {peak_one / 1024:.1f} MiB; "
            f"{recycled} worker(s) replaced during the runs"
        )


def print_costs(cases: list[dict], server_counts: bool) -> None:
    log()
    log(
        "PER REQUEST, in-process (app.test_client with the server's settings): SQL = statements "
        "seen by a before_cursor_execute\nlistener on db.engine, BEGIN/COMMIT/ROLLBACK apart; "
        "ping = pool_pre_ping round trips; tx = transactions (of them\nwith a WAL flush at "
        "COMMIT); Redis = round trips (a pipeline or an EVALSHA is one), commands in brackets"
    )
    if not server_counts:
        log(
            "  (no server-side count: pg_stat_statements is not in shared_preload_libraries, "
            "and loading it takes a restart)"
        )
    for case in cases:
        commands = ", ".join("+".join(trip) for trip in case["redis"])
        server = "" if case["server_statements"] is None else f" pg: {case['server_statements']}"
        cookie = "  Set-Cookie!" if case["set_cookie"] else ""
        log(
            f"  {case['title']:<50} SQL {len(case['sql']):>2}  ping {case['pings']}  "
            f"tx {case['commits']} ({case['wal_commits']})  Redis {len(case['redis'])} "
            f"[{commands}]{server}  HTTP {case['status']} xp {case['awarded_xp']}{cookie}"
        )
    for case in cases:
        log(f"  {case['case']}:")
        for i, sql in enumerate(case["sql"], 1):
            log(f"    {i:2d}. {sql}")


def print_statements(b: Bench) -> None:
    """PostgreSQL's own figures for each scenario's first run (bench/statements.py)."""
    log()
    if not b.server_statements:
        log(
            "POSTGRESQL PER STATEMENT: not measured (pg_stat_statements is not in "
            "shared_preload_libraries)"
        )
        return
    log(
        "POSTGRESQL PER STATEMENT (pg_stat_statements, first rep at each c): calls per request, "
        "mean execution us,\nrows and WAL bytes per call; BEGIN, COMMIT and the pre-ping are "
        "statements too"
    )
    for run in b.runs:
        if run.statements is None:
            continue
        total = sum(st.per_request * st.exec_us for st in run.statements)
        wal = sum(st.per_request * st.wal_bytes for st in run.statements)
        log(f"  {run.scenario} c={run.conc}: {total:.0f} us executing, {wal:.0f} B of WAL")
        for st in run.statements:
            log(
                f"    {st.per_request:4.2f}x {st.exec_us:7.1f} us {st.rows:5.2f} rows "
                f"{st.wal_bytes:6.0f} B  {st.query}"
            )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def ratio_targets(rows: list[Row]) -> list[tuple[str, bool]]:
    """(line, ok) for the throughput and p99 targets, one line per scenario."""
    lines = []
    targets = [
        ("token new", NEW_VS_BASELINE),
        ("cookie new", NEW_VS_BASELINE),
        ("token replay", REPLAY_VS_BASELINE),
        ("cookie replay", REPLAY_VS_BASELINE),
    ]
    for scenario, target in targets:
        mine = [r for r in rows if r.scenario == scenario]
        if not mine:
            continue
        ok = all(r.ratio >= target for r in mine)
        figures = "  ".join(f"c={r.conc} {r.ratio:.2f} (paired {r.paired:.2f})" for r in mine)
        lines.append((f"{scenario:<14} req/s >= {target:.2f} x baseline: {figures}", ok))
    for scenario, _ in targets:
        mine = [r for r in rows if r.scenario == scenario]
        if mine:
            ok = all(r.p99_ratio <= P99_VS_BASELINE for r in mine)
            figures = "  ".join(f"c={r.conc} {r.p99_ratio:.2f}" for r in mine)
            lines.append((f"{scenario:<14} p99 <= {P99_VS_BASELINE} x baseline's: {figures}", ok))
    return lines


def count_targets(cases: dict[str, dict]) -> list[tuple[str, bool]]:
    def sql(case: str) -> int:
        return len(cases[case]["sql"])

    new = {c: sql(c) for c in ("new_token_stale", "new_cookie_stale")}
    replay = {c: sql(c) for c in ("replay_token", "replay_cookie")}
    trips = {c: len(v["redis"]) for c, v in cases.items()}
    pings = max(v["pings"] for v in cases.values())

    def shown(counts: dict[str, int]) -> str:
        return ", ".join(f"{case} {n}" for case, n in counts.items())

    return [
        (
            f"SQL per new completion <= {SQL_PER_NEW}: {shown(new)} (+ {pings} pre-ping)",
            max(new.values()) <= SQL_PER_NEW,
        ),
        (
            f"SQL per replay <= {SQL_PER_REPLAY}: {shown(replay)}",
            max(replay.values()) <= SQL_PER_REPLAY,
        ),
        (
            f"Redis round trips per request <= {REDIS_ROUND_TRIPS}: most {max(trips.values())}",
            max(trips.values()) <= REDIS_ROUND_TRIPS,
        ),
    ]


def print_budget(rows: list[Row], cases: list[dict], b: Bench, sanity: list[tuple]) -> bool:
    lines = ratio_targets(rows) + count_targets({c["case"]: c for c in cases})
    product_rss, baseline_rss = rss_figures(b, "product")[0], rss_figures(b, "baseline")[0]
    rss_ratio = ratio(product_rss, baseline_rss)
    lines.append(
        (
            f"worker RSS (sum of 2, peak) <= {RSS_VS_BASELINE} x baseline's: "
            f"{product_rss / 1024:.1f} / {baseline_rss / 1024:.1f} MiB = {rss_ratio:.2f}",
            rss_ratio <= RSS_VS_BASELINE,
        )
    )
    log()
    log("BUDGET")
    for line, ok in lines:
        log(f"  {verdict(ok)}  {line}")
    log("CHECKS")
    for line, ok in sanity:
        log(f"  {verdict(ok)}  {line}")
    all_ok = all(ok for _, ok in lines + sanity)
    log(f"OVERALL: {verdict(all_ok)}")
    return all_ok
