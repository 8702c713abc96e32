"""The database: SQLite in the data home (WAL, so the UI, CLI and scheduler write at once), or a
PostgreSQL server (memory.engines); migrations on open, one process at a time."""
from __future__ import annotations

import fcntl
import re
import zlib
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from memory.errors import MemoloopError

BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 10
SCHEMA_NAME = re.compile(r"^(public|household_[0-9]+)$")
MIGRATION_LOCK = zlib.crc32(b"memoloop migrations")  # the advisory lock's key on PostgreSQL


def postgres(bind) -> bool:
    """Whether a connection or engine is on PostgreSQL (else SQLite): the one test of the dialect."""
    return bind.dialect.name == "postgresql"


class DatabaseUnavailable(MemoloopError):
    """The database server does not answer, or refuses memoloop (a wrong password, no such database)."""


def connect(url: str, *, upto: int | None = None, schema: str | None = None) -> Engine:
    """An engine on `url` with the schema brought up to date (or up to migration `upto`). `schema`:
    a household's PostgreSQL schema (memory.households), the only one its connections see."""
    from memory import migrations  # which asks this module for the dialect

    if url.startswith("postgresql"):
        return _postgres(url, upto, schema)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    # Two processes opening a new database at once must not both run a migration.
    lock_path = f"{engine.url.database}.migrate.lock" if engine.url.database else None
    with _file_lock(lock_path), engine.connect() as conn:
        migrations.apply(conn, upto)
    return engine


def _postgres(url: str, upto: int | None, schema: str | None) -> Engine:
    """PostgreSQL through psycopg 3, in UTC (timestamps are stored without an offset, as in SQLite),
    in one schema (`public` unless a household's); the migrations run under an advisory lock, so two
    processes opening it at once apply each once."""
    from memory import migrations

    if not SCHEMA_NAME.match(schema or "public"):
        raise MemoloopError(f"schema '{schema}' is not a household's schema")
    options = f"-c timezone=UTC -c search_path={schema or 'public'}"
    engine = create_engine(url, pool_pre_ping=True,
                           connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "options": options})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                migrations.apply(conn, upto)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()
    except OperationalError as exc:
        engine.dispose()
        raise unavailable(url, exc) from None
    return engine


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """One line: which server, what it said, what to do."""
    from memory.engines import DATABASE_ENV, redacted

    said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return DatabaseUnavailable(f"cannot open the database at '{redacted(url)}' "
                               f"({said[0] if said else type(exc).__name__}); start its server, or fix the URL "
                               f"(memoloop settings --database-url, or ${DATABASE_ENV}); nothing was changed")


@contextmanager
def _file_lock(path: str | None):
    if not path or path == ":memory:":
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
