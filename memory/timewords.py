"""Time words in a question -> a window, an order ("the latest"), or an anchor event.

"last week", "yesterday", "in October 2024", "in 2024", "3 months ago", "in the past 10 days",
"since March", "on 2024-02-13", "last time" / "latest" / "most recent" / "lately", "first time",
"before the move" / "after the vet visit" (the anchor's date comes from recall itself).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from memory.dates import local_tz

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
NUM = r"(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)"
# Words that ask about the past: with them, "this morning" describes the new event, not the window.
HISTORY = re.compile(r"\b(?:before|again|ever|previous(?:ly)?|in the past|other times?|used to|last time|"
                     r"what (?:helped|worked|did (?:we|i|you|the vet))|history|happened to (?:her|him))\b", re.I)


@dataclass
class TimeFilter:
    start: datetime | None = None
    end: datetime | None = None
    order: str | None = None  # "latest" or "earliest"
    anchor: tuple[str, str] | None = None  # ("before"|"after"|"since", "the move")
    rest: str = ""  # the question with the time words taken out
    spans: list[str] = field(default_factory=list)


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=local_tz()).astimezone(timezone.utc)


def _month_range(year: int, month: int) -> tuple[datetime, datetime]:
    last = calendar.monthrange(year, month)[1]
    return _day_start(date(year, month, 1)), _day_start(date(year, month, last) + timedelta(days=1))


def day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The local calendar day `moment` falls on, as [start, end)."""
    start = _day_start(moment.astimezone(local_tz()).date())
    return start, start + timedelta(days=1)


def _num(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def parse(question: str, now: datetime) -> TimeFilter:
    """Find the time words in `question` relative to `now` (aware)."""
    tf = TimeFilter(rest=question)
    today = now.astimezone(local_tz()).date()

    def take(pattern: str, handler, sets_window: bool = False, every: bool = False) -> None:
        """`every`: remove every match, not only the first ("just now ... last time")."""
        if sets_window and (tf.start or tf.end):
            return  # the first, most specific window wins: "the last week of October 2023"
        while (m := re.search(pattern, tf.rest, flags=re.I)) and handler(m) is not False:
            tf.spans.append(m.group(0))
            tf.rest = (tf.rest[: m.start()] + " " + tf.rest[m.end():]).strip()
            if not every:
                return

    def window(start, end):
        tf.start, tf.end = start, end

    def iso_day(m):
        d = date.fromisoformat(m.group(1))
        window(_day_start(d), _day_start(d) + timedelta(days=1))

    def day_month_year(m):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        try:
            d = date(int(m.group(5)), MONTHS[month.lower()], int(day))
        except ValueError:
            return False
        window(_day_start(d), _day_start(d) + timedelta(days=1))

    def month_year(m):
        window(*_month_range(int(m.group(2)), MONTHS[m.group(1).lower()]))

    def bare_month(m):
        month = MONTHS[m.group(1).lower()]
        year = today.year if month <= today.month else today.year - 1
        window(*_month_range(year, month))

    def since_month(m):
        month = MONTHS[m.group(1).lower()]
        year = int(m.group(2)) if m.group(2) else (today.year if month <= today.month else today.year - 1)
        window(_month_range(year, month)[0], now)

    def year_only(m):
        y = int(m.group(1))
        window(_day_start(date(y, 1, 1)), _day_start(date(y + 1, 1, 1)))

    def rolling(m):
        window(now - timedelta(days=_num(m.group(1).lower()) * UNIT_DAYS[m.group(2).lower()]), now)

    def ago(m):
        span = _num(m.group(1).lower()) * UNIT_DAYS[m.group(2).lower()]
        slack = max(1, span // 2)
        window(now - timedelta(days=span + slack), now - timedelta(days=max(0, span - slack)))

    def relative_day(m):
        if HISTORY.search(question):
            return None  # "Mochi threw up today, has she before?": today is the new event, not the window
        word = m.group(1).lower()
        d = today - timedelta(days={"today": 0, "tonight": 0, "this morning": 0, "yesterday": 1}[word])
        window(_day_start(d), _day_start(d) + timedelta(days=1))

    def last_unit(m):
        which, unit = m.group(1).lower(), m.group(2).lower()
        if which == "this" and HISTORY.search(question):
            return None  # "soft stools again this week, what did the vet suggest last time?": the new event
        # "last week/month" runs from the start of the previous calendar unit up to now: people
        # say it for "the past seven days" as often as for the calendar week before.
        if unit == "week":
            start = today - timedelta(days=today.weekday() + (7 if which == "last" else 0))
            window(_day_start(start), now)
        elif unit == "month":
            y, mo = (today.year, today.month)
            if which == "last":
                y, mo = (y - 1, 12) if mo == 1 else (y, mo - 1)
            window(_month_range(y, mo)[0], now)
        else:
            y = today.year - (1 if which == "last" else 0)
            window(_day_start(date(y, 1, 1)), _day_start(date(y + 1, 1, 1)))

    def anchor(m):
        tf.anchor = (m.group(1).lower(), m.group(2).strip())

    def order(kind):
        def set_order(_m):
            tf.order = kind
        return set_order

    ordinal = r"(?:st|nd|rd|th)?"
    take(r"\b(?:on\s+)?(\d{4}-\d{2}-\d{2})\b", iso_day, True)
    take(rf"\b(?:on\s+)?(?:(\d{{1,2}}){ordinal}\s+(?:of\s+)?({MONTH_RE})|({MONTH_RE})\.?\s+(\d{{1,2}}){ordinal})"
         rf",?\s+(\d{{4}})\b", day_month_year, True)
    take(rf"\bsince\s+({MONTH_RE})\b(?:\s+(\d{{4}}))?", since_month, True)
    take(rf"\b(?:(?:in|during)\s+)?(?:the\s+(?:first|last|final|second|third|fourth)\s+"
         rf"(?:(?:two|few|couple of)\s+)?(?:week|day)s?\s+of\s+)?({MONTH_RE})\.?,?\s+(\d{{4}})\b", month_year, True)
    take(rf"\bin\s+({MONTH_RE})\b", bare_month, True)
    take(r"\b(?:in|during)\s+((?:19|20)\d{2})\b", year_only, True)
    take(rf"\b(?:in|over|during)\s+the\s+(?:last|past)\s+{NUM}\s+(day|week|month|year)s?\b", rolling, True)
    take(r"\b(?:in|over|during)\s+the\s+(?:last|past)\s+(day|week|month|year)\b",
         lambda m: window(now - timedelta(days=UNIT_DAYS[m.group(1).lower()]), now), True)
    take(rf"\b{NUM}\s+(day|week|month|year)s?\s+ago\b", ago, True)
    take(r"\b(today|tonight|this morning|yesterday)\b", relative_day, True)
    take(r"\b(last|this)\s+(week|month|year)\b", last_unit, True)
    # "looked after the cats" is a carer, not a time
    take(r"(?<!look )(?<!looks )(?<!looked )(?<!looking )"
         r"\b(before|after|since)\s+((?:the|her|his|their|our|my)\s+[\w\s-]{2,30}?)(?=[?.,!;]|$)", anchor)
    take(r"\b(?:the\s+)?(?:last time|latest|most recent(?:ly)?|last|lately|recently|currently|these days|now)\b",
         order("latest"), every=True)
    take(r"\b(?:the\s+)?(?:first time|earliest|first)\b", order("earliest"), every=True)
    return tf
