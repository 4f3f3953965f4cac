"""A client generated from /api/openapi.json by openapi-python-client works against a real
server on loopback: readable function names grouped by tag, typed answers, typed errors (§6)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from types import ModuleType
from uuid import uuid4

import pytest
from werkzeug.serving import make_server

from tests import factories

PACKAGE = "cyberquest_client"
GENERATION_TIMEOUT = 120  # seconds; it takes about one


@pytest.fixture(scope="module")
def generated(app, tmp_path_factory) -> Iterator[Callable[[str], ModuleType]]:
    """generated("api.levels.record_completion"): a module of the client generated from the
    app's own document, offline, with the generator's post-hooks (ruff) switched off."""
    root = tmp_path_factory.mktemp("generated-client")
    document = root / "openapi.json"
    document.write_text(json.dumps(app.test_client().get("/api/openapi.json").json))
    config = root / "generator.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=GENERATION_TIMEOUT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def server_url(app) -> Iterator[str]:
    """The shared app served over HTTP on a free loopback port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="cq-openapi-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture()
def api_client(app, generated, server_url, levels, player):
    """An AuthenticatedClient of the generated package holding the player's bearer token."""
    with app.app_context():
        secret = factories.make_token(player, "generated client")
    client = generated("client").AuthenticatedClient(
        base_url=server_url, token=secret, raise_on_unexpected_status=True
    )
    with client:
        yield client


def perfect_run(models: ModuleType, **changes):
    """Level 1 at its best: full score, well under the expected time, no hint, on hard."""
    fields = {
        "level_id": "level-1",
        "score": 1000,
        "time_spent": 120,
        "difficulty": models.CompletionRequestDifficulty.HARD,
        "metadata": models.CompletionMetadata(hints_used=0),
        "client_event_id": uuid4(),
    }
    return models.CompletionRequest(**(fields | changes))


def test_a_generated_client_records_a_completion_and_reads_it_back(generated, api_client, player):
    models = generated("models")
    record_completion = generated("api.levels.record_completion")
    body = perfect_run(models)

    result = record_completion.sync(client=api_client, body=body)

    # The XP formula is tested in tests/utils; here every read must agree with the award.
    assert isinstance(result, models.CompletionResult)
    xp = result.awarded_xp
    assert xp > 0
    assert (result.new_total_xp, result.is_new_completion) == (xp, True)
    assert result.level.level_id == 1

    replay = record_completion.sync_detailed(client=api_client, body=body)
    assert replay.status_code == HTTPStatus.OK
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (replay.parsed.completion_id, replay.parsed.is_new_completion) == (
        result.completion_id,
        False,
    )

    progress = generated("api.progress.get_progress").sync(client=api_client)
    assert isinstance(progress, models.Progress)
    assert (progress.total_xp, progress.completed_levels) == (xp, 1)
    [level_one] = [level for level in progress.levels if level.level_id == 1]
    assert (level_one.completed, level_one.best_score, level_one.xp_earned) == (True, 1000, xp)
    assert level_one.completions == 1

    history = generated("api.progress.get_xp_history").sync(client=api_client, limit=10)
    assert isinstance(history, models.HistoryPage)
    [entry] = history.items
    assert (entry.delta, entry.balance_after, entry.reason.value) == (xp, xp, "level_completion")
    assert entry.reference_id == result.completion_id
    assert (history.has_more, history.next_, history.archived) == (False, None, None)

    board = generated("api.leaderboard.get_leaderboard").sync(
        client=api_client, period=models.GetLeaderboardPeriod.ALL, limit=10
    )
    assert isinstance(board, models.Leaderboard)
    assert [(e.rank, e.username, e.xp) for e in board.entries] == [(1, player.username, xp)]
    assert (board.me.rank, board.me.xp) == (1, xp)


def test_an_invalid_completion_is_the_typed_error(generated, api_client):
    models = generated("models")
    record_completion = generated("api.levels.record_completion")

    answer = record_completion.sync_detailed(client=api_client, body=perfect_run(models, score=-1))

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.success is False
    assert answer.parsed.error.code == "validation_error"
    assert "score" in answer.parsed.error.fields


def test_an_anonymous_progress_read_is_the_typed_401(generated, server_url):
    models = generated("models")
    with generated("client").Client(base_url=server_url) as anonymous:
        answer = generated("api.progress.get_progress").sync_detailed(client=anonymous)

    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(answer.parsed, models.Error)
    assert answer.parsed.error.code == "authentication_required"
