"""Dates are data: the user's time, timezone-aware, ISO in JSON, UTC in the database."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from memory.errors import MemoloopError


def local_tz():
    return datetime.now().astimezone().tzinfo


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_when(value: str | datetime | date | None, *, allow_future: bool = False,
               field: str = "--at", reference: datetime | None = None) -> datetime:
    """Parse the user's date or datetime into an aware UTC datetime.

    A bare date means midday local time (so it shows as the same day in any nearby zone);
    today's bare date (or "today") means now, "yesterday" yesterday's midday. A naive time is
    local time.
    """
    ref = reference or now()
    if value is None or (isinstance(value, str) and not value.strip()):
        return ref
    if isinstance(value, datetime):
        parsed = value if value.tzinfo else value.replace(tzinfo=local_tz())
    elif isinstance(value, date):
        parsed = _from_day(value, ref)
    else:
        text = value.strip()
        today = ref.astimezone(local_tz()).date()
        text = {"today": today.isoformat(), "yesterday": (today - timedelta(days=1)).isoformat()}.get(
            text.lower(), text)
        try:
            if len(text) == 10:
                parsed = _from_day(date.fromisoformat(text), ref)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=local_tz())
        except ValueError:
            raise MemoloopError(
                f"{field} '{value}' is not a date; use ISO format like 2024-02-13 or 2024-02-13T08:30, or today / yesterday"
            ) from None
    parsed = parsed.astimezone(timezone.utc)
    if not allow_future and parsed > ref + timedelta(minutes=5):
        raise MemoloopError(
            f"{field} '{value}' is in the future; log what already happened, or pass --allow-future"
        )
    return parsed


def _from_day(day: date, ref: datetime) -> datetime:
    if day == ref.astimezone(local_tz()).date():
        return ref
    return datetime.combine(day, time(12, 0), tzinfo=local_tz())


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with an explicit offset, the one format JSON carries."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def from_sql(value: datetime | str) -> datetime:
    """A stored time read by raw SQL (text from SQLite, a naive datetime from PostgreSQL), aware."""
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def local_day(value: datetime) -> date:
    """The local calendar date of a stored time."""
    return as_utc(value).astimezone(local_tz()).date()


def day_label(value: datetime) -> str:
    """The local calendar date a person would say: 2024-02-13."""
    return as_utc(value).astimezone(local_tz()).date().isoformat()
