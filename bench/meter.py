"""CPU used during a run, from /proc: the server's processes, the PostgreSQL backends of its
database, redis-server, wrk, and whatever else ran on the machine (the noise)."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable

from servers import Server

HZ = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.5


def ticks(pid: int) -> int | None:
    """utime + stime of a process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def cmdlines() -> dict[int, bytes]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    found[int(entry)] = f.read()
            except OSError:
                pass
    return found


def is_backend_of(cmdline: bytes, dbname: str) -> bool:
    """A backend's title is "postgres: [cluster: ]user database host(port) state", an
    autovacuum worker's "postgres: [cluster: ]autovacuum worker database"."""
    if not cmdline.startswith(b"postgres: "):
        return False
    words = cmdline.decode(errors="replace").split()[1:]
    if words and words[0].endswith(":"):  # the cluster name
        words = words[1:]
    if words[:2] == ["autovacuum", "worker"]:
        words = words[1:]
    return len(words) >= 2 and words[1] == dbname


def machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]  # total, idle + iowait


class Group:
    """CPU ticks of a changing set of processes: each one's first and latest reading, so a
    process that starts during the run counts from zero and one that ends keeps what it used
    up to its last reading (at most SAMPLE_SECONDS short)."""

    def __init__(self, find: Callable[[], list[int]]) -> None:
        self.find = find
        self.first: dict[int, int] = {}
        self.latest: dict[int, int] = {}

    def sample(self, start: bool = False) -> None:
        for pid in self.find():
            value = ticks(pid)
            if value is None:
                continue
            if pid not in self.first:
                self.first[pid] = value if start else 0
            self.latest[pid] = value

    def seconds(self) -> float:
        return sum(self.latest[p] - self.first[p] for p in self.first) / HZ


class CpuMeter:
    """Context manager around one wrk run."""

    def __init__(self, server: Server, dbname: str) -> None:
        redis_pids = [p for p, c in cmdlines().items() if c.startswith(b"redis-server")]
        self.groups = {
            "srv": Group(lambda: [server.proc.pid, *server.workers()]),
            "pg": Group(lambda: [p for p, c in cmdlines().items() if is_backend_of(c, dbname)]),
            "rds": Group(lambda: redis_pids),
        }
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sampling, daemon=True)

    def sampling(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            for group in self.groups.values():
                group.sample()

    def __enter__(self) -> CpuMeter:
        for group in self.groups.values():
            group.sample(start=True)
        self.t0, self.m0 = time.monotonic(), machine_ticks()
        self.r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for group in self.groups.values():
            group.sample()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, the only child in between
        self.wrk_s = (r1.ru_utime + r1.ru_stime) - (self.r0.ru_utime + self.r0.ru_stime)
        m1 = machine_ticks()
        total, idle = m1[0] - self.m0[0], m1[1] - self.m0[1]
        self.busy = (total - idle) / total if total else 0.0
        self.wall = time.monotonic() - self.t0

    def figures(self, requests: float) -> dict[str, float]:
        per = 1000.0 / requests if requests else 0.0
        spent = {name: group.seconds() for name, group in self.groups.items()}
        ours = sum(spent.values()) + self.wrk_s
        cores = (os.cpu_count() or 1) * self.busy
        out = {f"{name}_ms": s * per for name, s in spent.items()}
        out["wrk_cores"] = self.wrk_s / self.wall
        out["other_cores"] = max(0.0, cores - ours / self.wall)
        return out
