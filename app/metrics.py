"""Prometheus metrics: what the service counts, in one place (names as in docs/operations.md),
the hooks that count it and `GET /metrics`, which serves it.

Every worker of a gunicorn server writes its samples to PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py
makes it), and /metrics adds them up, so a count is the same whichever worker served the scrape.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Sequence

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    request,
    request_finished,
    request_started,
)
from flask_limiter import RequestLimit
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError

from app.extensions import limiter

# Only extensions are imported at the top: the modules that count (error handlers, rate limits)
# import this one, so the app modules used here are imported where they are used.

COMPLETIONS = Counter(
    "cyberquest_completions",
    "Posted completions by what became of them.",
    ["outcome"],
)
# Only the `refused` outcome, by code, so the codes add up to completions_total{outcome="refused"};
# a conflict (409 idempotency_conflict) has its own outcome and is not counted here again.
COMPLETIONS_REFUSED = Counter(
    "cyberquest_completions_refused",
    "Completions refused, by the error code of the answer.",
    ["code"],
)
XP_AWARDED = Counter("cyberquest_xp_awarded", "XP awarded by new completions.")
REQUEST_DURATION = Histogram(
    "cyberquest_http_request_duration_seconds",
    "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
RATE_LIMITED = Counter(
    "cyberquest_rate_limited", "Requests refused with 429, by the limit that refused.", ["limit"]
)
DATABASE_ERRORS = Counter(
    "cyberquest_database_errors", "Requests that failed because the database was unavailable."
)
RATE_LIMITER_FALLBACKS = Counter(
    "cyberquest_rate_limiter_fallbacks",
    "Times the limit store was unreachable and limits fell back to per-process memory.",
)
OUTBOX_JOBS = Counter(
    "cyberquest_outbox_jobs",
    "Outbox jobs the worker ran, by outcome (done or failed); counted by `flask worker`.",
    ["outcome"],
)
TRACKING_ROLLOUT_PERCENT = Gauge(
    "cyberquest_tracking_rollout_percent",
    "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT in effect (0 when tracking is off).",
    # The value the newest live worker set: after a restart with a new percentage, the workers
    # that exited (their files go with them) no longer speak for the server.
    multiprocess_mode="livemostrecent",
)

# prometheus_client picks multiprocess mode from this variable when it is imported; the scrape
# must follow the same choice, so it is read here, once, rather than from the app's settings.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

COMPLETE_LEVEL_ENDPOINT = "levels_api.complete_level"
# Static files would drown the latencies that matter; a scrape is not traffic.
UNTIMED_ENDPOINTS = frozenset({"static", "metrics.scrape"})
# Any other method (clients may send anything) is one label value, to keep the series bounded.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

bp = Blueprint("metrics", __name__)


def register_metrics(app: Flask) -> None:
    """Serve /metrics, time every request, count completions and 429s, export the rollout."""
    from app.services import rollout
    from app.services.completions import OUTCOMES

    app.register_blueprint(bp)
    # Signals rather than request hooks: request_finished comes after every after_request hook,
    # so it sees the final status and the rate-limit windows the header hook has already read.
    request_started.connect(start_timing, app)
    request_finished.connect(observe_request, app)
    # Every outcome is exported from the start (at 0), so a rate over it is defined at once.
    for outcome in OUTCOMES:
        COMPLETIONS.labels(outcome)
    with app.app_context():
        TRACKING_ROLLOUT_PERCENT.set(rollout.effective_percent())


@bp.get("/metrics")
@limiter.exempt
def scrape():
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)  # no token, no metrics: the endpoint does not exist
    if not presents_token(request.headers.get("Authorization"), token):
        return Response(
            "Send Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    registry = scrape_registry()
    body = generate_latest(registry) + generate_latest(outbox_registry())
    return Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


class OutboxCollector:
    """The outbox's backlog, read at scrape time: events not yet relayed (the database), jobs
    queued and jobs failed (Redis). A store that cannot be read leaves its figure out."""

    def collect(self):
        from rq.registry import FailedJobRegistry
        from sqlalchemy.exc import SQLAlchemyError

        from app.extensions import db
        from app.services import outbox

        try:
            pending = outbox.pending_count()
        except SQLAlchemyError:
            db.session.rollback()
        else:
            yield GaugeMetricFamily(
                "cyberquest_outbox_pending", "Outbox events not yet relayed.", value=pending
            )
        try:
            queue = outbox.queue()
            queued, failed = queue.count, FailedJobRegistry(queue=queue).count
        except RedisError:
            return
        yield GaugeMetricFamily("cyberquest_outbox_queued", "Jobs on the queue.", value=queued)
        yield GaugeMetricFamily(
            "cyberquest_outbox_failed", "Jobs that failed and are kept by RQ.", value=failed
        )


def outbox_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(OutboxCollector())
    return registry


def presents_token(header: str | None, token: str) -> bool:
    """Whether `Authorization` carries the metrics token, compared in constant time (of
    digests, so that not even the token's length shows in the timing)."""
    from app.auth import bearer_secret

    secret = bearer_secret(header) if header else None
    if secret is None:
        return False
    return hmac.compare_digest(digest(secret), digest(token))


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def scrape_registry() -> CollectorRegistry:
    """Under gunicorn, a registry that adds up every worker's files; alone, this process's."""
    if not MULTIPROCESS_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    return registry


def start_timing(_app: Flask, **_extra) -> None:
    g.metrics_started_at = time.perf_counter()


def observe_request(_app: Flask, response: Response, **_extra) -> None:
    """Time the request, and count what became of a completion or why a 429 was answered."""
    endpoint = request.endpoint or "unmatched"  # by rule, never by path: bounded label values
    started = g.pop("metrics_started_at", None)
    if started is not None and endpoint not in UNTIMED_ENDPOINTS:
        method = request.method if request.method in HTTP_METHODS else "other"
        REQUEST_DURATION.labels(endpoint, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    if response.status_code == 429:
        RATE_LIMITED.labels(refusing_limit_name(limiter.current_limits)).inc()
    if endpoint == COMPLETE_LEVEL_ENDPOINT and request.method == "POST":
        count_completion(response)


def count_completion(response: Response) -> None:
    """One outcome per posted completion (a 429 or a 401 is a refusal too, by its code)."""
    from app.api.levels import completion_outcome
    from app.services.completions import OUTCOME_NEW, OUTCOME_REFUSED

    outcome, code = completion_outcome(response)
    COMPLETIONS.labels(outcome).inc()
    if outcome == OUTCOME_REFUSED:
        COMPLETIONS_REFUSED.labels(code).inc()
    elif outcome == OUTCOME_NEW:
        XP_AWARDED.inc(g.completion_result.awarded_xp)


def refusing_limit_name(limits: Sequence[RequestLimit]) -> str:
    """The limit a 429 answered for, as "<scope>: <limit>" ("levels_api.complete_level: 10 per
    1 minute", "password-checks: 5 per 1 minute"): the limit the answer's X-RateLimit headers
    describe. Named by its route (or shared scope) and its configured rate, never by the key
    it counted, so the label values stay as few as the configured limits."""
    from app.ratelimits import binding_limit, storage_errors

    if not limits:
        return "unknown"
    try:
        # Cheap: the header hook has already read these windows from the store.
        limit = binding_limit(limits)
    except storage_errors():
        # The store failed while being read for the headers as well; any refusing limit will do.
        limit = next((limit for limit in limits if limit.breached), limits[0])
    return f"{limit.request_args[-1]}: {limit.limit}"
