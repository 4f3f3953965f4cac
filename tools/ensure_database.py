"""Create the PostgreSQL database a URL names, if it does not exist yet.

Usage: python -m tools.ensure_database postgresql://user@host:port/name
"""

import sys

import sqlalchemy as sa

from config import normalize_database_url


def ensure_database(url: str) -> str:
    target = sa.engine.make_url(normalize_database_url(url))
    if target.get_backend_name() != "postgresql":
        return f"{target.database}: not PostgreSQL, nothing to create"
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).scalar()
            if exists:
                return f"database {target.database} exists"
            quoted = server.dialect.identifier_preparer.quote(target.database)
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return f"created database {target.database}"
    except sa.exc.OperationalError as error:
        sys.exit(f"PostgreSQL is unreachable at {target.render_as_string()}: {error.orig}")
    finally:
        server.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(ensure_database(sys.argv[1]))
