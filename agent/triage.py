"""Is the question about something happening now, or about a past event that is over?

A red flag is for now: "she swallowed a hair tie" sends the owner to a vet, but "last year she
swallowed a hair tie, what did the vet do then?" asks about history. Rules, not a model.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from memory.timewords import TimeFilter

PAST_DAYS = 3  # a window that ended longer ago than this is history

PRESENT = re.compile(
    r"\b(?:now|right now|today|tonight|this (?:morning|afternoon|evening)|last night|yesterday|currently|"
    r"still|keeps?|again|at the moment|just|won'?t stop|hasn'?t stopped|since (?:yesterday|this|last night)|"
    r"for (?:the (?:last|past) )?(?:\d+|a|an|two|three|several|few) (?:minutes?|mins?|hours?|hrs?|days?))\b", re.I)
PAST = re.compile(
    r"\b(?:last (?:year|spring|summer|autumn|fall|winter|christmas)|(?:\d+|a|two|three|few|several|couple of) "
    r"(?:weeks?|months?|years?) ago|years ago|back (?:in|when)|when was (?:the|that|his|her)|"
    r"the time (?:she|he|when|it|they)|that time|what did the vet (?:do|say|give|find)|did (?:she|he|it) recover|"
    r"how long (?:did|after|was)|in (?:19|20)\d\d|when (?:she|he) (?:was|had) (?:blocked|poisoned|sick))\b", re.I)


def about_the_past(question: str, tf: TimeFilter | None = None, now: datetime | None = None) -> bool:
    """True when the question is about an event that is over, with nothing said to be happening now."""
    if PRESENT.search(question):
        return False
    if PAST.search(question):
        return True
    if tf is not None and tf.end is not None and now is not None:
        return tf.end < now - timedelta(days=PAST_DAYS)
    return False
