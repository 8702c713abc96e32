"""Time words relative to a fixed 'now'."""
from datetime import datetime, timezone

import pytest

from memory.dates import local_tz
from memory.timewords import parse

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)  # a Monday


def local_day(dt):
    return dt.astimezone(local_tz()).date().isoformat()


@pytest.mark.parametrize("question, start, end", [
    ("Did Mochi vomit in October 2024?", "2024-10-01", "2024-11-01"),
    ("What happened in October?", "2026-10-01", "2026-11-01"),
    ("What happened in December?", "2025-12-01", "2026-01-01"),
    ("How was she in 2024?", "2024-01-01", "2025-01-01"),
    ("What did Mochi eat yesterday?", "2026-11-29", "2026-11-30"),
    ("Anything on 2025-03-04?", "2025-03-04", "2025-03-05"),
    ("Did she vomit last week?", "2026-11-23", "2026-11-30"),
])
def test_windows(question, start, end):
    tf = parse(question, NOW)
    assert (local_day(tf.start), local_day(tf.end)) == (start, end)


def test_rolling_and_ago():
    tf = parse("Any vomiting in the past 10 days?", NOW)
    assert (NOW - tf.start).days == 10 and tf.end == NOW
    tf = parse("What did the vet say 3 months ago?", NOW)
    assert tf.start < datetime(2026, 9, 1, tzinfo=timezone.utc) < tf.end < NOW


def test_order_and_anchor():
    assert parse("When was the last vet visit?", NOW).order == "latest"
    assert parse("When did Mochi first sneeze?", NOW).order == "earliest"
    tf = parse("Was Luna sneezing before the move?", NOW)
    assert tf.anchor == ("before", "the move") and "move" not in tf.rest
    plain = parse("Mochi is sneezing again, has this happened before?", NOW)
    assert (plain.start, plain.end, plain.order, plain.anchor) == (None, None, None, None)


def test_looked_after_is_a_carer_not_an_anchor():
    tf = parse("who looked after the cats when we were in portland, and did ziggy have any problems", NOW)
    assert tf.anchor is None and (tf.start, tf.end) == (None, None)
    assert parse("Was she sneezing after the move?", NOW).anchor == ("after", "the move")


def test_every_order_word_leaves_the_query():
    tf = parse("tofu is limping again just now, what did dr reyes give her last time", NOW)
    assert tf.order == "latest"
    assert "last" not in tf.rest and "now" not in tf.rest


def test_this_week_describes_the_present_event_when_the_question_asks_about_before():
    # Read in fresh4: "this week" became the search window and the vet's advice was "no record".
    asked = parse("bramble has soft stools again this week what did the vet suggest last time", NOW)
    assert asked.start is None and asked.end is None
    assert parse("what did she eat this week", NOW).start is not None
