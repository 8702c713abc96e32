"""Everything decided before the model speaks: which notes, which facts, no record, red flag."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.knowledge import Knowledge, wants_advice
from agent.pack import KnowledgeFact, Pack
from agent.prompt import Note, context_block, render_prompt
from agent.triage import ASKS_HISTORY, present_part
from memory import journal, series
from memory.dates import day_label, iso, now as utcnow
from memory.keywords import concepts
from memory.recall import Hit, Recall, recall
from memory.store import Memory

MAX_NOTES = 4  # a 270M model gets dragged by long context: only the few relevant notes go in
RED_FLAG_DAYS = 3  # recent observations that can raise a red flag by themselves


@dataclass
class Draft:
    question: str
    recall: Recall
    chosen: list[Hit]
    facts: list[KnowledgeFact]
    red_flag: str | None
    subject_id: int | None
    scope_label: str | None
    profiles: list[str] = field(default_factory=list)  # "Mochi is a female cat (she/her), spayed"
    trend: series.Trend | None = None  # a measured quantity asked about, computed in code

    @property
    def no_record(self) -> bool:
        return not self.chosen and self.trend is None

    @property
    def measured(self) -> list[str]:
        return [self.trend.summary(self.scope_label or "the cat")] if self.trend else []

    @property
    def notes(self) -> list[Note]:
        return [Note(day_label(h.at), h.subject, h.kind, h.text) for h in self.chosen]

    @property
    def block(self) -> str:
        return context_block(self.notes, self.facts, self.profiles, self.measured)

    @property
    def prompt(self) -> str:
        return render_prompt(self.question, self.block)

    @property
    def citations(self) -> list[dict]:
        """The notes passed to the model (and the measurements behind a trend), as data: never parsed
        out of its text."""
        cited = [{"id": h.id, "at": iso(h.at), "text": h.text} for h in self.chosen]
        seen = {c["id"] for c in cited}
        points = self.trend.points if self.trend else []
        return cited + [{"id": p.id, "at": iso(p.at), "text": p.text} for p in points if p.id not in seen]



def draft_answer(mem: Memory, pack: Pack, knowledge: Knowledge, question: str,
                 subject: str | None = None, now: datetime | None = None) -> Draft:
    now = now or utcnow()
    found = recall(mem, question, subject=subject, k=MAX_NOTES * 2, now=now, vocabulary=pack.vocabulary,
                   specific=pack.specific)
    chosen = found.relevant[:MAX_NOTES]
    # "The latest" is computed in code: newest first, unless the question asks for the first time.
    chosen.sort(key=lambda h: h.at, reverse=found.time.order != "earliest")
    ids_by_name = {v: k for k, v in journal.subject_names(mem).items()}
    in_scope = found.scope or []
    subject_id = ids_by_name.get(in_scope[0]) if in_scope else None
    trend = measured_trend(mem, found, [ids_by_name[n] for n in in_scope] if in_scope else None)
    if trend is not None and not other_topics(found.question, pack.vocabulary, trend.key):
        # the measurements speak for the quantity, not the other notes recall found; but "who did his
        # last booster and what did they say about his weight?" asks about the booster as well
        chosen = [h for h in chosen if h.id in {p.id for p in trend.points}]
        if len(trend.points) == 1 and not chosen:  # "her latest T4?": the note the one value is from
            p = trend.points[0]
            chosen = [Hit(p.id, p.subject, subject_id, p.at, p.kind, p.text, 1.0, relevant=True)]
    recent = [o.text for name in (in_scope or [None])
              for o in journal.timeline(mem, subject=name, since=now - timedelta(days=RED_FLAG_DAYS))]
    pets = [p for p in journal.list_subjects(mem) if p.name in in_scope]  # read once: pronouns and rules
    return Draft(
        question=found.question, recall=found, chosen=chosen,
        facts=(knowledge.lookup(found.question, list(ids_by_name))
               if not chosen or trend or wants_advice(found.question) else []),
        red_flag=pack.triage(present_part(found.question, found.time, now), recent, list(ids_by_name),
                             sexes=[p.sex for p in pets if p.sex],
                             embed=None if ASKS_HISTORY.search(found.question) else lambda t: mem.index.embed([t])[0]),
        subject_id=subject_id, scope_label=", ".join(in_scope) or None,
        profiles=[p.profile for p in pets if p.profile],
        trend=trend,
    )


def other_topics(question: str, vocabulary: dict, key: str = "weight_kg") -> set[str]:
    """The topics a question names besides the measured quantity `key` (the vet only frames a
    question): "her latest T4?" names only the T4, though T4 is one of the words for bloods."""
    rest = re.sub(series.words_pattern(key), " ", question, flags=re.I)
    return {c.kind for c in concepts(rest, vocabulary) if c.kind and not c.frame} - {"weight"}


def measured_trend(mem: Memory, found: Recall, subject_ids: list[int] | None) -> series.Trend | None:
    """A question about a measured quantity ("how has her weight changed?") is answered from the
    series in code, within the question's time window, for the pet asked about."""
    key = series.asked_metric(found.question, series.metric_keys(mem))
    if key is None or (subject_ids is not None and len(subject_ids) != 1):
        return None
    points = series.series(mem, key, subject_ids, found.time.start, found.time.end)
    if subject_ids is None and len({p.subject for p in points}) != 1:
        return None  # whose weight? without one pet named, the notes answer instead
    if not points:
        return None
    over_time = re.search(r"\b(?:how ha(?:s|ve)|chang\w*|trend|over time|since|lost|gained|gain\w*|loss|losing|history|"
                          r"going (?:up|down)|all (?:the )?(?:weights|measurements)|vs|versus|compared|grown|growing|when we got)\b", found.question, re.I)
    if not over_time and found.time.order == "earliest":
        points = points[:1]
    elif not over_time and (found.time.order == "latest" or re.search(r"\b(?:now|current(?:ly)?|weigh|weighs)\b",
                                                                      found.question, re.I)):
        points = points[-1:]
    return series.Trend(key, points)
