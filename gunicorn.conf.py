"""gunicorn's production settings: `gunicorn -c gunicorn.conf.py -b HOST:PORT wsgi:app`.

The command line (or GUNICORN_CMD_ARGS) overrides any value here; docs/operations.md says how
to run and watch the server.
"""

import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "wsgi:app"
# Loopback by default: a reverse proxy faces the network and terminates TLS.
bind = [f"127.0.0.1:{os.environ.get('PORT', '8000')}"]

# --- workers ---------------------------------------------------------------------------------
# The usual 2 per core + 1, capped: each worker keeps its own pool of database connections.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 8))
# Above 1, gunicorn runs threaded (gthread) workers.
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
# A worker silent this long is killed and replaced; a request waits at most about 3 s for the
# database, so only a stuck worker gets near it.
timeout = 30
# On SIGTERM or a reload, requests in flight get this long to finish.
graceful_timeout = 30
# Kept-alive proxy connections (threaded workers; sync workers close after each answer).
keepalive = 5
# A worker is replaced after about this many requests, so a slow leak never grows for long; the
# jitter keeps the workers from restarting together. A new worker imports the app, 0.6-1.3 s
# of CPU (bench/README.md): every 10,000 requests that was 60-130 us a request, 2-5% of a
# completion's cost; every 50,000 it is 12-26 us. Each replaced worker leaves its metric files
# behind (its counts must survive it), so a scrape reads a few more files each time.
max_requests = 50000
max_requests_jitter = 5000
# The app's PROXY_FIX_* settings alone decide which forwarded headers are believed; gunicorn
# would otherwise take X-Forwarded-Proto from any proxy on this host.
secure_scheme_headers = {}

# --- metrics: every worker writes its samples to one directory, /metrics adds them up -------
# Set as this file loads, before anything imports prometheus_client (the logging section below
# imports the app), because the library picks its mode from the variable when it is imported.
METRICS_DIR_MADE_HERE = "CYBERQUEST_METRICS_DIR_MADE_HERE"  # survives a reload of this file
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
else:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cyberquest-metrics-")
    os.environ[METRICS_DIR_MADE_HERE] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    """Counts start at zero: the files an earlier server left go (the master counts nothing)."""
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A dead worker's live gauges stop counting; its counters stay, as they must."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    made_here = os.environ.get(METRICS_DIR_MADE_HERE)
    if made_here and made_here == os.environ["PROMETHEUS_MULTIPROC_DIR"]:
        shutil.rmtree(made_here, ignore_errors=True)


# --- logging: gunicorn's error and access logs in the app's format (JSON lines on stderr) ----
# After the metrics set-up: importing the app's package imports prometheus_client.
# No access_log_format: the access line's fields are read from gunicorn's atoms by name (the
# path without its query string, the X-Request-ID the app answered with), see app/logs.py.
from app.logs import gunicorn_logconfig  # noqa: E402

logconfig_dict = gunicorn_logconfig()
# Access records that carry only the atoms the access line reads, not every header.
logger_class = "app.logs.GunicornLogger"
