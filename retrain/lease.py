"""One retrain at a time across processes: a lease row (holder, expiry, heartbeat) in the database.

Taking it is one conditional UPDATE, which SQLite applies atomically; a holder that dies simply
stops renewing, and the lease is free again after its expiry.
"""
from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import text

from memory.dates import from_sql, now
from memory.store import Memory

TTL = timedelta(seconds=90)
_SQL_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _t(value) -> str:
    """The text form SQLAlchemy stores UTC datetimes in, so SQL can compare them."""
    return value.astimezone(timezone.utc).strftime(_SQL_TIME)


def acquire(mem: Memory, holder: str, name: str = "retrain") -> bool:
    t = now()
    with mem.engine.begin() as conn:
        done = conn.execute(text(
            "UPDATE lease SET holder = :h, expires_at = :e, heartbeat_at = :t "
            "WHERE name = :n AND (holder IS NULL OR holder = :h OR expires_at < :t)"),
            {"h": holder, "e": _t(t + TTL), "t": _t(t), "n": name}).rowcount
    return done == 1


def renew(mem: Memory, holder: str, name: str = "retrain") -> bool:
    t = now()
    with mem.engine.begin() as conn:
        return conn.execute(text("UPDATE lease SET expires_at = :e, heartbeat_at = :t WHERE name = :n AND holder = :h"),
                            {"h": holder, "e": _t(t + TTL), "t": _t(t), "n": name}).rowcount == 1


def hand_over(mem: Memory, holder: str, to: str, name: str = "retrain") -> bool:
    with mem.engine.begin() as conn:
        return conn.execute(text("UPDATE lease SET holder = :to WHERE name = :n AND holder = :h"),
                            {"h": holder, "to": to, "n": name}).rowcount == 1


def release(mem: Memory, holder: str, name: str = "retrain") -> None:
    with mem.engine.begin() as conn:
        conn.execute(text("UPDATE lease SET holder = NULL, expires_at = NULL WHERE name = :n AND holder = :h"),
                     {"h": holder, "n": name})


def holder(mem: Memory, name: str = "retrain") -> str | None:
    """Who holds the lease now (None if free or expired)."""
    with mem.engine.connect() as conn:
        row = conn.execute(text("SELECT holder, expires_at FROM lease WHERE name = :n"), {"n": name}).first()
    if row is None or row[0] is None or row[1] is None or from_sql(row[1]) < now():
        return None
    return row[0]
