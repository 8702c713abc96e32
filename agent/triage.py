"""Is the question about something happening now? A red flag is for now, decided by rules.

"She swallowed a hair tie" sends the owner to a vet; "last year she swallowed a hair tie, what did
the vet do then?" asks about history, and "what does straining look like?" asks in general.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from memory.timewords import TimeFilter

PAST_DAYS = 3  # a window that ended longer ago than this is history
WEAK_PRESENT = re.compile(r"again|for .+", re.I)  # present words a sentence about the past also has
# "he's fully healed now", "she's stable on meds now", "she's 4 now": the event is over; such a "now"
# is not the present of an emergency.
OVER = re.compile(
    r"\b(?:(?:he|she|it|they)(?:'s| is| are|'re)|hes|shes) (?:"
    r"(?:\w+ )?(?:healed|recovered|fine|stable|better|immune|back to normal|ok|okay)\b(?:[^.;!?,]{0,20}\bnow\b)?|"
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)(?: years?(?: old)?)? (?:now|and (?:healthy|fine|well))\b)|"
    r"\b(?:is|are) (?:all |totally |completely )?(?:fine|ok|okay|normal|healed|better) now\b|\ball healed(?: now)?\b|\b(?:he|she|it) recovered\b|\bdoing (?:great|well|fine|ok)\b(?: now)?|"
    r"\bthe vet (?:sorted|fixed|treated|saved|removed)\b", re.I)

PRESENT = re.compile(
    r"\b(?:now|right now|rn|today|tonight|this (?:morning|afternoon|evening)|last night|yesterday|currently|"
    r"still|keeps? (?:on )?\w+ing|again|at the moment|won'?t stop|hasn'?t stopped|since (?:yesterday|this|last night)|"
    r"just (?:ate|eaten|found|noticed|saw|started|had|chewed|licked|swallowed|fell|got|came|collapsed|vomited|threw)|"
    r"for (?:the (?:last|past) )?(?:\d+|a|an|two|three|several|few) (?:minutes?|mins?|hours?|hrs?|days?))\b", re.I)
PAST = re.compile(
    r"\b(?:last (?:year|spring|summer|autumn|fall|winter|christmas)|(?:\d+|a|two|three|few|several|couple of) "
    r"(?:weeks?|months?|years?) ago|years ago|back (?:in|when)|when was (?:the|that|his|her)|"
    r"the time (?:she|he|when|it|they)|that time|what did the vet (?:do|say|give|find)|did (?:she|he|it) recover|"
    r"how long (?:did|after|was)|in (?:19|20)\d\d|when (?:she|he) (?:was|had) (?:blocked|poisoned|sick)|"
    r"remind me|after the scare|(?:two|three|\d+|a few|several) (?:winters|summers|springs|autumns) ago|"
    r"at (?:the|her|his) last (?:checkup|check-up|check up|visit|appointment|exam)|recheck|"
    r"^(?:what|how much|which|who)\b[^?.,]{0,40}\b(?:was|were|did)\b[^?.,]{0,40}\bwhen \w+ "
    r"(?:ate|swallowed|had|got|was|fell|chewed)|"
    r"in (?:january|february|march|april|may|june|july|august|september|october|november|december)|"
    r"last month|(?:the )?(?:summer|winter|spring|autumn|year|christmas) before last|(?:years?|months?) back|"
    r"remember when|as a kitten|^when \w+ (?:had|was|got|ate)\b)\b|"
    r"^(?:has|have|did)\b[^?.!]{0,40}\bever\b[^?.!]*[?.!]?$", re.I)  # "has she ever had ...?" asked alone
GENERAL = re.compile(
    r"\b(?:if (?:my|a|the|your|our) (?:cat|kitten)|if (?:she|he|it|they) (?:ever|were|was|did|does|got|gets|eats?|ate)|"
    r"what (?:does|do|would|should|are)\b[^?]{0,50}\b(?:look like|signs|symptoms)|(?:signs|symptoms) of|"
    r"(?:is|are) [\w' -]{1,30} (?:toxic|poisonous|dangerous|safe|bad) (?:to|for)|what(?:'s| is) the difference|"
    r"just (?:want|wanted|wondering|curious|asking)|wondering|in case|how (?:do|can|would) (?:i|you) (?:know|tell)|"
    r"which (?:plants|flowers|foods|medicines)|how common|vet (?:shows?|programmes?|programs?)|documentary|"
    r"on (?:tv|the telly|youtube|tiktok)|an article|read (?:about|online|that)|"
    r"how (?:do|can|should) (?:i|we) (?:stop|prevent|keep|cat[- ]?proof)|is there a (?:\w+ )?(?:pet|cat)[- ]safe|"
    r"so (?:the cats?|she|he|they|it) (?:don'?t|doesn'?t|won'?t|can'?t|never) get)", re.I)


# The question asks about the record ("what did the vet do last time?", "has he ever...?"): its
# present words are matched by the rules only, never by meaning, which reads the past into them.
ASKS_HISTORY = re.compile(r"\b(?:ever|last time|before|previous(?:ly)?|what (?:did|helped|worked)|diagnosed|"
                          r"history|in the past|used to)\b", re.I)


def about_now(question: str, tf: TimeFilter | None = None, now: datetime | None = None) -> bool:
    """False when the question is about an event that is over, or asks in general; True otherwise."""
    over = OVER.search(question)
    if PRESENT.search(OVER.sub(" ", question)):
        return True
    if over or PAST.search(question) or GENERAL.search(question):
        return False
    if tf is not None and tf.end is not None and now is not None:
        return tf.end >= now - timedelta(days=PAST_DAYS)
    return True


def present_part(question: str, tf: TimeFilter | None = None, now: datetime | None = None) -> str:
    """The sentences of the question that are about now: "Last year Oscar had a blockage. What diet
    stops it happening again?" keeps only the second, so the past blockage raises no flag. A
    sentence with no time words of its own goes with the question as a whole."""
    whole = about_now(question, tf, now)
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", question.strip()):
        present = [m.group(0) for m in PRESENT.finditer(OVER.sub(" ", sentence))]
        past = PAST.search(sentence) or GENERAL.search(sentence) or OVER.search(sentence)
        if past:  # "last winter she stopped eating for three days": a duration or "again" is not now
            present = [w for w in present if not WEAK_PRESENT.fullmatch(w)]
        if present or (whole and not past):
            kept.append(sentence)
    return " ".join(kept)
