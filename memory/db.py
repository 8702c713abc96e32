"""The SQLite database: WAL so the UI, CLI and scheduler write at once; migrations on open."""
from __future__ import annotations

import fcntl
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from memory import migrations

BUSY_TIMEOUT_MS = 30_000


def connect(url: str, *, upto: int | None = None) -> Engine:
    """An engine on `url` with the schema brought up to date (or up to migration `upto`)."""
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
