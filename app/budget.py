"""The performance budget of a completion (docs/architecture.md, "The completion's hot path"):
what `bench/bench.py` holds the product to, side by side with the bare-stack baseline, and what
the tests count. Defined here once; the benchmark and the tests import it."""

# Throughput and latency, as ratios to the baseline measured in the same run.
NEW_VS_BASELINE = 0.85  # new completions' req/s, at c=8 and c=32, tokens and cookies
REPLAY_VS_BASELINE = 1.00  # replays' req/s
P99_VS_BASELINE = 1.25  # p99 latency, at most
RSS_VS_BASELINE = 1.5  # the workers' memory after the runs, at most

# Per request, at most (SQL statements besides BEGIN/COMMIT, the caller's lookup included).
SQL_PER_NEW = 4
SQL_PER_REPLAY = 2
REDIS_ROUND_TRIPS = 2
