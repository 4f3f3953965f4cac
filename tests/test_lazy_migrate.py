"""Flask-Migrate (and with it alembic) stays out of the web workers: it is set up when a
`flask db` command or flask_migrate's functions use it, and the readiness probe reads the
migration scripts' head without it (docs/architecture.md, "The completion's hot path")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from app.extensions import MIGRATIONS_DIRECTORY
from app.health import script_heads

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_serving_requests_imports_neither_flask_migrate_nor_alembic(tmp_path):
    probe = (
        "import sys\n"
        "from app import create_app\n"
        "app = create_app('testing', {'SQLALCHEMY_DATABASE_URI': sys.argv[1]})\n"
        "client = app.test_client()\n"
        "assert client.get('/healthz').status_code == 200\n"
        "assert client.get('/readyz').status_code == 503  # an empty database: not migrated\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'flask_migrate')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    database = f"sqlite:///{tmp_path / 'empty.db'}"
    done = subprocess.run(
        [sys.executable, "-c", probe, database],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_flask_db_commands_are_there_and_work(app, cli):
    listed = cli("db", "--help")
    assert listed.exit_code == 0
    assert "upgrade" in listed.output and "downgrade" in listed.output
    upgraded = cli("db", "upgrade")  # the test database is at the head already: a no-op
    assert upgraded.exit_code == 0, upgraded.output
    assert app.test_client().get("/readyz").json["checks"]["migrations"] == "ok"


def test_the_probe_reads_the_same_head_as_alembic():
    expected = tuple(sorted(ScriptDirectory(MIGRATIONS_DIRECTORY).get_heads()))
    assert script_heads(MIGRATIONS_DIRECTORY) == expected
    assert expected == ("0009",)
