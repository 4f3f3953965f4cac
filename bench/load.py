"""The load generator: wrk, one thread, bench/write_load.lua."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import BENCH, USER_AGENT, BenchError


@dataclass(frozen=True)
class Load:
    url: str
    credentials: Path
    auth: str  # "bearer" or "cookie"
    target: str  # "product" or "baseline"
    conc: int
    duration: float
    run_id: int
    wrap: int = 0  # > 0: send again the first `wrap` bodies of run `run_id`


def run_wrk(load: Load) -> tuple[dict[str, float], str]:
    """wrk's figures (the CQRESULT line) and the first non-2xx answer, if any."""
    env = dict(
        os.environ,
        CQ_CREDENTIALS=str(load.credentials),
        CQ_AUTH=load.auth,
        CQ_TARGET=load.target,
        CQ_RUN=str(load.run_id),
        CQ_WRAP=str(load.wrap),
        CQ_USER_AGENT=USER_AGENT,
    )
    cmd = ["wrk", "-t1", f"-c{load.conc}", f"-d{load.duration:g}s", "--timeout", "10s"]
    cmd += ["-s", str(BENCH / "write_load.lua"), load.url]
    limit = load.duration + 60
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {limit:.0f}s") from None
    found = re.search(r"^CQRESULT (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = {k: float(v) for k, v in (kv.split("=") for kv in found.group(1).split())}
    bad = re.search(r"^CQFIRSTBAD (.*)$", done.stdout, re.M)
    return result, bad.group(1) if bad else ""
