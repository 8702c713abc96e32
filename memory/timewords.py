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
    unanchored: tuple = (None, None)  # the window before an anchor ("after the move") narrowed it


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


def _one_day(d: date) -> tuple[datetime, datetime]:
    return _day_start(d), _day_start(d) + timedelta(days=1)


def _year_of(month: int, today: date) -> int:
    """A month named without a year: the last one that has begun."""
    return today.year if month <= today.month else today.year - 1


@dataclass
class _Asked:
    """What a rule's handler may read: the whole question, now and today (local)."""
    question: str
    now: datetime
    today: date
    tf: TimeFilter


# A handler returns a window (start, end), None (the words are taken out, no window: an order,
# an anchor, or a time word that describes the present event), or False (no match after all).

def _iso_day(m, a):
    return _one_day(date.fromisoformat(m.group(1)))


def _day_month_year(m, a):
    day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    try:
        return _one_day(date(int(m.group(5)), MONTHS[month.lower()], int(day)))
    except ValueError:
        return False


def _since_month(m, a):
    month = MONTHS[m.group(1).lower()]
    return _month_range(int(m.group(2)) if m.group(2) else _year_of(month, a.today), month)[0], a.now


def _month_year(m, a):
    return _month_range(int(m.group(2)), MONTHS[m.group(1).lower()])


def _bare_month(m, a):
    month = MONTHS[m.group(1).lower()]
    return _month_range(_year_of(month, a.today), month)


def _year_only(m, a):
    y = int(m.group(1))
    return _day_start(date(y, 1, 1)), _day_start(date(y + 1, 1, 1))


def _rolling(m, a):
    return a.now - timedelta(days=_num(m.group(1).lower()) * UNIT_DAYS[m.group(2).lower()]), a.now


def _rolling_one(m, a):
    return a.now - timedelta(days=UNIT_DAYS[m.group(1).lower()]), a.now


def _ago(m, a):
    span = _num(m.group(1).lower()) * UNIT_DAYS[m.group(2).lower()]
    slack = max(1, span // 2)
    return a.now - timedelta(days=span + slack), a.now - timedelta(days=max(0, span - slack))


def _relative_day(m, a):
    if HISTORY.search(a.question):
        return None  # "Mochi threw up today, has she before?": today is the new event, not the window
    return _one_day(a.today - timedelta(days={"today": 0, "tonight": 0, "this morning": 0, "yesterday": 1}[m.group(1).lower()]))


def _last_unit(m, a):
    which, unit, today = m.group(1).lower(), m.group(2).lower(), a.today
    if which == "this" and HISTORY.search(a.question):
        return None  # "soft stools again this week, what did the vet suggest last time?": the new event
    # "last week/month" runs from the start of the previous calendar unit up to now: people
    # say it for "the past seven days" as often as for the calendar week before.
    if unit == "week":
        return _day_start(today - timedelta(days=today.weekday() + (7 if which == "last" else 0))), a.now
    if unit == "month":
        y, mo = (today.year, today.month)
        if which == "last":
            y, mo = (y - 1, 12) if mo == 1 else (y, mo - 1)
        return _month_range(y, mo)[0], a.now
    y = today.year - (1 if which == "last" else 0)
    return _day_start(date(y, 1, 1)), _day_start(date(y + 1, 1, 1))


def _anchor(m, a):
    a.tf.anchor = (m.group(1).lower(), m.group(2).strip())


def _order(kind: str):
    def set_order(m, a):
        a.tf.order = kind
    return set_order


@dataclass(frozen=True)
class Rule:
    pattern: str
    handler: object
    window: bool = False  # sets the window: skipped once a more specific rule has set one
    every: bool = False  # take out every match, not only the first ("just now ... last time")


_ORDINAL = r"(?:st|nd|rd|th)?"
# In order, most specific first: "the last week of October 2023" is October 2023.
RULES = (
    Rule(r"\b(?:on\s+)?(\d{4}-\d{2}-\d{2})\b", _iso_day, window=True),
    Rule(rf"\b(?:on\s+)?(?:(\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?({MONTH_RE})|({MONTH_RE})\.?\s+(\d{{1,2}}){_ORDINAL})"
         rf",?\s+(\d{{4}})\b", _day_month_year, window=True),
    Rule(rf"\bsince\s+({MONTH_RE})\b(?:\s+(\d{{4}}))?", _since_month, window=True),
    Rule(rf"\b(?:(?:in|during)\s+)?(?:the\s+(?:first|last|final|second|third|fourth)\s+"
         rf"(?:(?:two|few|couple of)\s+)?(?:week|day)s?\s+of\s+)?({MONTH_RE})\.?,?\s+(\d{{4}})\b", _month_year,
         window=True),
    Rule(rf"\bin\s+({MONTH_RE})\b", _bare_month, window=True),
    Rule(r"\b(?:in|during)\s+((?:19|20)\d{2})\b", _year_only, window=True),
    Rule(rf"\b(?:in|over|during)\s+the\s+(?:last|past)\s+{NUM}\s+(day|week|month|year)s?\b", _rolling, window=True),
    Rule(r"\b(?:in|over|during)\s+the\s+(?:last|past)\s+(day|week|month|year)\b", _rolling_one, window=True),
    Rule(rf"\b{NUM}\s+(day|week|month|year)s?\s+ago\b", _ago, window=True),
    Rule(r"\b(today|tonight|this morning|yesterday)\b", _relative_day, window=True),
    Rule(r"\b(last|this)\s+(week|month|year)\b", _last_unit, window=True),
    # "looked after the cats" is a carer, not a time
    Rule(r"(?<!look )(?<!looks )(?<!looked )(?<!looking )"
         r"\b(before|after|since)\s+((?:the|her|his|their|our|my)\s+[\w\s-]{2,30}?)(?=[?.,!;]|$)", _anchor),
    Rule(r"\b(?:the\s+)?(?:last time|latest|most recent(?:ly)?|last|lately|recently|currently|these days|now)\b",
         _order("latest"), every=True),
    Rule(r"\b(?:the\s+)?(?:first time|earliest|first)\b", _order("earliest"), every=True),
)


def parse(question: str, now: datetime) -> TimeFilter:
    """Find the time words in `question` relative to `now` (aware): each rule in turn."""
    tf = TimeFilter(rest=question)
    asked = _Asked(question, now, now.astimezone(local_tz()).date(), tf)
    for rule in RULES:
        if rule.window and (tf.start or tf.end):
            continue  # the first, most specific window wins
        while (m := re.search(rule.pattern, tf.rest, flags=re.I)):
            found = rule.handler(m, asked)
            if found is False:
                break
            if found is not None:
                tf.start, tf.end = found
            tf.spans.append(m.group(0))
            tf.rest = (tf.rest[: m.start()] + " " + tf.rest[m.end():]).strip()
            if not rule.every:
                break
    tf.unanchored = (tf.start, tf.end)
    return tf
